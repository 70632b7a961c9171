// DELETE /dicom/{id}: remove the record first (reads turn 404 at once), then every stored object.
import { getStores, logger } from '../commons.js';
import { NotFound, ServiceUnavailable } from '../http/errors.js';
import { httpHandler } from '../http/handler.js';
import { fileId } from '../http/request.js';
import { json } from '../http/responses.js';
import { deleteFileObjects } from '../store/file-objects.js';

function storageFailed(id: string, error: unknown): ServiceUnavailable {
  // SDK errors name the operation, never a stored value: no PHI in this line.
  logger.error('delete storage failed', { id, error: error as Error });
  return new ServiceUnavailable(
    'the file could not be deleted completely; repeat the DELETE (it finishes the job, then answers 404)',
    'STORAGE_FAILED',
  );
}

export const handler = httpHandler('delete', async (event) => {
  const id = fileId(event);
  const { objects, records } = getStores();
  // The processor writes derived objects only while the record exists (conditional update), and
  // removes what it wrote when it finds the record gone, so nothing outlives this delete. The
  // original, derived files and cached renderings go alongside the study and duplicate bookkeeping.
  let deleted: boolean;
  try {
    deleted = await records.delete(id, () => deleteFileObjects(objects, id));
  } catch (error) {
    throw storageFailed(id, error);
  }
  if (!deleted) {
    // No record, but a DELETE cut short by a storage fault (the 503 above) may have left objects of
    // this id behind: a repeat removes them. Patient data must not outlive its record.
    try {
      await deleteFileObjects(objects, id);
    } catch (error) {
      throw storageFailed(id, error);
    }
    throw new NotFound('no DICOM file with this id', 'FILE_NOT_FOUND');
  }
  return json(200, { message: 'DICOM file deleted successfully' });
});
