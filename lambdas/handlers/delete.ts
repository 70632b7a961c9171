// DELETE /dicom/{id}: remove the record first (reads turn 404 at once), then every stored object.
import { getStores } from '../commons.js';
import { NotFound } from '../http/errors.js';
import { httpHandler } from '../http/handler.js';
import { fileId } from '../http/request.js';
import { json } from '../http/responses.js';
import { deleteFile } from '../ingest/store-file.js';

export const handler = httpHandler('delete', async (event) => {
  const id = fileId(event);
  // The pipeline DICOMweb's DELETE uses too (lambdas/ingest/store-file.ts): the original, derived files and cached
  // renderings go alongside the study and duplicate bookkeeping; a repeat after a 503 removes what was left.
  if (!(await deleteFile(getStores(), id))) throw new NotFound('no DICOM file with this id', 'FILE_NOT_FOUND');
  return json(200, { message: 'DICOM file deleted successfully' });
});
