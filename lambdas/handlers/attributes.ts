// GET /dicom/{id}/attributes[?tag=]: the attribute JSON the processor stored, whole or one element.
import { getStores, processingWaitMs } from '../commons.js';
import { KEYS } from '../config.js';
import { findAttribute, parseTagQuery, type AttributesDocument } from '../dicom/attributes.js';
import { NotFound } from '../http/errors.js';
import { httpHandler } from '../http/handler.js';
import { processedRecord, stillProcessing } from '../http/processing-state.js';
import { fileId, queryParameter } from '../http/request.js';
import { json, redirect } from '../http/responses.js';
import { awaitProcessed } from '../store/wait.js';

/** A Lambda response is at most 6 MB: larger documents are fetched from S3 directly. */
export const MAX_INLINE_ATTRIBUTES_BYTES = 5_000_000;
const PRESIGNED_URL_SECONDS = 300;

export const handler = httpHandler('attributes', async (event) => {
  const id = fileId(event);
  const tagQuery = queryParameter(event, 'tag');
  if (tagQuery !== undefined) parseTagQuery(tagQuery); // a malformed tag is 400 before any waiting
  const { objects, records } = getStores();
  // A processed file's attributes are one object GET; the record is read (and waited for) only when they are not
  // there yet: still processing, failed, or no such file.
  let stored = await objects.get(KEYS.attributes(id));
  if (!stored) {
    const found = await awaitProcessed(records, id, processingWaitMs());
    if (found.state === 'processing') return stillProcessing(id);
    processedRecord(found);
    stored = await objects.get(KEYS.attributes(id));
  }
  if (!stored) throw new NotFound('no DICOM file with this id', 'FILE_NOT_FOUND');
  if (tagQuery === undefined) {
    if (stored.length > MAX_INLINE_ATTRIBUTES_BYTES) {
      // Too large for a Lambda response (a 502 from API Gateway): a short-lived URL of the stored JSON, as /png does.
      const download = { contentType: 'application/json; charset=utf-8', contentDisposition: 'inline' };
      return redirect(await objects.presignGet(KEYS.attributes(id), PRESIGNED_URL_SECONDS, download));
    }
    // Served as stored: re-serialising a large document would only cost time.
    return { ...json(200, null), body: Buffer.from(stored).toString('utf8') };
  }
  const document = JSON.parse(Buffer.from(stored).toString('utf8')) as AttributesDocument;
  const { tag, attribute } = findAttribute(document, tagQuery);
  return json(200, { tag, ...attribute });
});
