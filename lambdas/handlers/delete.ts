// DELETE /dicom/{id}: remove the record first (reads turn 404 at once), then every stored object.
import { getStores } from '../commons.js';
import { NotFound } from '../http/errors.js';
import { httpHandler } from '../http/handler.js';
import { fileId } from '../http/request.js';
import { json } from '../http/responses.js';
import { deleteFileObjects } from '../store/file-objects.js';

export const handler = httpHandler('delete', async (event) => {
  const id = fileId(event);
  const { objects, records } = getStores();
  // The processor writes derived objects only while the record exists (conditional update), and
  // removes what it wrote when it finds the record gone, so nothing outlives this delete.
  // Then the original, derived files and cached renderings, alongside the study and duplicate bookkeeping.
  if (!(await records.delete(id, () => deleteFileObjects(objects, id)))) {
    throw new NotFound('no DICOM file with this id', 'FILE_NOT_FOUND');
  }
  return json(200, { message: 'DICOM file deleted successfully' });
});
