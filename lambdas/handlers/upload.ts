// POST /dicom: validate the multipart DICOM upload, store it under a fresh UUID, record it as PROCESSING.
import { createHash, randomUUID } from 'node:crypto';
import { getStores, logger } from '../commons.js';
import { KEYS, LARGE_UPLOAD_ROUTE, MAX_UPLOAD_BODY_BYTES, PROCESSING_DEADLINE_SECONDS } from '../config.js';
import { dicomInfo } from '../dicom/attributes.js';
import { dicomIdentifiers } from '../dicom/identifiers.js';
import { parseDicom } from '../dicom/parse.js';
import { BadRequest, PayloadTooLarge, ServiceUnavailable } from '../http/errors.js';
import { httpHandler } from '../http/handler.js';
import { readMultipartFile } from '../http/multipart.js';
import { bodyBytes, header } from '../http/request.js';
import { json } from '../http/responses.js';
import { deleteFileObjects } from '../store/file-objects.js';
import { secondsFromNow, type FileRecord } from '../store/records.js';

export const handler = httpHandler('upload', async (event) => {
  const body = bodyBytes(event);
  if (body.length > MAX_UPLOAD_BODY_BYTES) {
    throw new PayloadTooLarge(
      `request of ${body.length} bytes is larger than POST /dicom accepts (${MAX_UPLOAD_BODY_BYTES}); upload large files with ${LARGE_UPLOAD_ROUTE}`,
    );
  }
  const file = await readMultipartFile(header(event, 'content-type'), body, MAX_UPLOAD_BODY_BYTES);
  if (file.bytes.length === 0) throw new BadRequest('the uploaded file is empty', 'EMPTY_FILE');
  const parsed = parseDicom(file.bytes);

  const id = randomUUID();
  const now = new Date().toISOString();
  const record: FileRecord = {
    id,
    filename: file.filename,
    size_bytes: file.bytes.length,
    created_at: now,
    modified_at: now,
    status: 'PROCESSING',
    dicom_info: dicomInfo(parsed),
    ...dicomIdentifiers(parsed),
    sha256: createHash('sha256').update(file.bytes).digest('hex'),
    processing_deadline: secondsFromNow(PROCESSING_DEADLINE_SECONDS),
  };
  const { objects, records } = getStores();
  try {
    // Record first: the storage event may reach the processor before PutObject returns.
    await records.create(record, () => objects.put(KEYS.upload(id), file.bytes, 'application/dicom'));
  } catch (error) {
    // No record without its bytes, no bytes without a record: undo both (the processor may already
    // have run on the stored bytes), log the cause (no PHI in SDK errors), tell the client to retry.
    logger.error('upload storage failed', { id, error: error as Error });
    try {
      await records.delete(id, () => deleteFileObjects(objects, id));
    } catch (undoError) {
      logger.error('upload undo failed', { id, error: undoError as Error });
    }
    throw new ServiceUnavailable('the file could not be stored; retry shortly', 'STORAGE_FAILED');
  }
  return json(201, { id, filename: file.filename, message: 'DICOM file uploaded successfully' });
});
