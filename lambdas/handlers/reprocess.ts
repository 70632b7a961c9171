// POST /dicom/{id}/reprocess: rebuild a file's attributes, PNG and record from its stored original.
import { getStores } from '../commons.js';
import { requestReprocess } from '../ingest/reprocess.js';
import { httpHandler } from '../http/handler.js';
import { fileId } from '../http/request.js';
import { json } from '../http/responses.js';

export const handler = httpHandler('reprocess', async (event) => {
  const id = fileId(event);
  await requestReprocess(getStores(), id);
  return json(202, {
    id,
    status: 'PROCESSING',
    message: `reprocessing started; GET /dicom/${id} shows READY or FAILED when it ends`,
  });
});
