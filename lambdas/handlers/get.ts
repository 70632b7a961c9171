// GET /dicom/{id}: one file record.
import { httpHandler } from '../http/handler.js';
import { requireRecord } from '../http/processing-state.js';
import { fileId } from '../http/request.js';
import { json } from '../http/responses.js';
import { getStores } from '../commons.js';
import { toFileRecordJson } from '../store/record-json.js';

export const handler = httpHandler('get', async (event) => {
  const record = await requireRecord(getStores().records, fileId(event));
  return json(200, toFileRecordJson(record));
});
