// GET /dicom/{id}/file: the original bytes as uploaded, inline or, too large for a Lambda response, a 302 to S3.
import { getStores } from '../commons.js';
import { DOWNLOAD_URL_SECONDS, KEYS, MAX_INLINE_FILE_BYTES } from '../config.js';
import { attachmentDisposition } from '../http/content-disposition.js';
import { NotFound } from '../http/errors.js';
import { httpHandler } from '../http/handler.js';
import { requireProcessedOk, requireRecord, stillProcessing } from '../http/processing-state.js';
import { fileId } from '../http/request.js';
import { binary, redirect } from '../http/responses.js';
import { withDeadlineApplied } from '../store/records.js';

const NOT_STORED = 'the original file is not stored';

export const handler = httpHandler('file', async (event) => {
  const id = fileId(event);
  const { objects, records } = getStores();
  const record = withDeadlineApplied(await requireRecord(records, id));
  // The version the record describes: a later object at the key (if one got there) is not this file.
  const version = record.object_version;
  const stored = await objects.head(KEYS.upload(id), version);
  if (!stored) {
    // A direct upload whose bytes are still on their way; a file that failed says why (422).
    if (record.status === 'PROCESSING') return stillProcessing(id, 5);
    requireProcessedOk(record);
    throw new NotFound(NOT_STORED, 'FILE_NOT_STORED');
  }
  const download = { contentType: 'application/dicom', contentDisposition: attachmentDisposition(record.filename) };
  if (stored.sizeBytes > MAX_INLINE_FILE_BYTES) {
    return redirect(await objects.presignGet(KEYS.upload(id), DOWNLOAD_URL_SECONDS, download, version));
  }
  const bytes = await objects.get(KEYS.upload(id), version);
  if (!bytes) throw new NotFound(NOT_STORED, 'FILE_NOT_STORED');
  return binary(200, bytes, download.contentType, { 'Content-Disposition': download.contentDisposition });
});
