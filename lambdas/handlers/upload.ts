// POST /dicom: validate the multipart DICOM upload, store it under a fresh UUID, record it as PROCESSING.
import { getStores } from '../commons.js';
import { LARGE_UPLOAD_ROUTE, MAX_UPLOAD_BODY_BYTES } from '../config.js';
import { parseDicom } from '../dicom/parse.js';
import { BadRequest, PayloadTooLarge } from '../http/errors.js';
import { httpHandler } from '../http/handler.js';
import { readMultipartFile } from '../http/multipart.js';
import { bodyBytes, header } from '../http/request.js';
import { json } from '../http/responses.js';
import { storeFile } from '../ingest/store-file.js';

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
  // The same pipeline STOW-RS stores each instance with (lambdas/ingest/store-file.ts).
  const { id } = await storeFile(getStores(), { filename: file.filename, bytes: file.bytes, parsed });
  return json(201, { id, filename: file.filename, message: 'DICOM file uploaded successfully' });
});
