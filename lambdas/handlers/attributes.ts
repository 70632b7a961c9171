// GET /dicom/{id}/attributes[?tag=]: the attribute JSON the processor stored, whole or one element.
import { getStores, processingWaitMs } from '../commons.js';
import { KEYS } from '../config.js';
import { findAttribute, parseTagQuery, type AttributesDocument } from '../dicom/attributes.js';
import { NotFound } from '../http/errors.js';
import { httpHandler } from '../http/handler.js';
import { fileId, queryParameter } from '../http/request.js';
import { json } from '../http/responses.js';
import { awaitProcessed, requireProcessedOk } from '../store/wait.js';

export const handler = httpHandler('attributes', async (event) => {
  const id = fileId(event);
  const tagQuery = queryParameter(event, 'tag');
  if (tagQuery !== undefined) parseTagQuery(tagQuery); // a malformed tag is 400 before any waiting
  const { objects, records } = getStores();
  requireProcessedOk(await awaitProcessed(records, id, processingWaitMs()));
  const stored = await objects.get(KEYS.attributes(id));
  if (!stored) throw new NotFound('no DICOM file with this id', 'FILE_NOT_FOUND');
  if (tagQuery === undefined) {
    // Served as stored: re-serialising a large document would only cost time.
    return { ...json(200, null), body: Buffer.from(stored).toString('utf8') };
  }
  const document = JSON.parse(Buffer.from(stored).toString('utf8')) as AttributesDocument;
  const { tag, attribute } = findAttribute(document, tagQuery);
  return json(200, { tag, ...attribute });
});
