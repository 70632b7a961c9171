// POST /dicom/uploads/{id}/complete: assemble a multipart upload from the parts the client sent to S3.
import { getStores } from '../commons.js';
import { completeDirectUpload } from '../ingest/direct-upload.js';
import { httpHandler } from '../http/handler.js';
import { fileId, jsonBody } from '../http/request.js';
import { json } from '../http/responses.js';

export const handler = httpHandler('completeUpload', async (event) => {
  const id = fileId(event);
  const record = await completeDirectUpload(getStores(), id, jsonBody(event));
  return json(200, {
    id,
    status: record.status,
    message: `upload complete; GET /dicom/${id} shows READY or FAILED when processing ends`,
  });
});
