// GET /dicom: every file record, newest first.
import { getStores } from '../commons.js';
import { BadRequest } from '../http/errors.js';
import { httpHandler } from '../http/handler.js';
import { json } from '../http/responses.js';
import { toFileRecordJson } from '../store/record-json.js';

export const handler = httpHandler('list', async (event) => {
  const unknown = Object.keys(event.queryStringParameters ?? {});
  if (unknown.length > 0) throw new BadRequest(`unknown query parameter: ${unknown[0]}`, 'BAD_QUERY');
  const files = (await getStores().records.list()).map(toFileRecordJson);
  return json(200, { count: files.length, files });
});
