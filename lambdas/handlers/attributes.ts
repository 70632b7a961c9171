// GET /dicom/{id}/attributes[?tag=]: the attribute JSON the processor stored, whole or one element.
import { getStores, processingWaitMs } from '../commons.js';
import { KEYS, MAX_INLINE_ATTRIBUTES_BYTES } from '../config.js';
import { findAttribute, parseTagQuery, type AttributesDocument } from '../dicom/attributes.js';
import { NotFound } from '../http/errors.js';
import { httpHandler } from '../http/handler.js';
import { processedRecord, stillProcessing } from '../http/processing-state.js';
import { fileId, queryParameter } from '../http/request.js';
import { json, redirect } from '../http/responses.js';
import { readDocumentPart, readStoredDocument } from '../store/derived-documents.js';
import { awaitProcessed } from '../store/wait.js';

export { MAX_INLINE_ATTRIBUTES_BYTES };
const PRESIGNED_URL_SECONDS = 300;

export const handler = httpHandler('attributes', async (event) => {
  const id = fileId(event);
  const tagQuery = queryParameter(event, 'tag');
  if (tagQuery !== undefined) parseTagQuery(tagQuery); // a malformed tag is 400 before any waiting
  const { objects, records } = getStores();
  // A processed file's attributes are one ranged GET of its documents object; the record is read (and waited for)
  // only when that is not there: still processing, failed, no such file, or processed before schema 5.
  let stored = await readDocumentPart(objects, id, 'attributes');
  if (!stored) {
    const found = await awaitProcessed(records, id, processingWaitMs());
    if (found.state === 'processing') return stillProcessing(id);
    stored = await readStoredDocument(objects, processedRecord(found), 'attributes');
  }
  if (!stored) throw new NotFound('no DICOM file with this id', 'FILE_NOT_FOUND');
  // Too large for a Lambda response (a 502 from API Gateway): stored on its own (a file processed before schema 5
  // has every document on its own; the size tells). With a tag it is read whole here; without, the answer is a
  // short-lived URL of the stored JSON, as /png does.
  const alone = 'separateKey' in stored ? stored.separateKey : undefined;
  const inline = 'bytes' in stored ? stored.bytes : undefined;
  if (tagQuery === undefined) {
    if (!inline || inline.length > MAX_INLINE_ATTRIBUTES_BYTES) {
      const download = { contentType: 'application/json; charset=utf-8', contentDisposition: 'inline' };
      return redirect(await objects.presignGet(alone ?? KEYS.attributes(id), PRESIGNED_URL_SECONDS, download));
    }
    // Served as stored: re-serialising a large document would only cost time.
    return {
      ...json(200, null),
      body: Buffer.from(inline.buffer, inline.byteOffset, inline.byteLength).toString('utf8'),
    };
  }
  const bytes = inline ?? (await objects.get(alone!));
  if (!bytes) throw new NotFound('no DICOM file with this id', 'FILE_NOT_FOUND'); // deleted meanwhile
  const document = JSON.parse(Buffer.from(bytes).toString('utf8')) as AttributesDocument;
  const { tag, attribute } = findAttribute(document, tagQuery);
  return json(200, { tag, ...attribute });
});
