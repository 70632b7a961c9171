// POST /dicom/uploads: a record awaiting the bytes, and presigned S3 URLs to send them to (one PUT, or parts).
import { randomUUID } from 'node:crypto';
import { getStores } from '../commons.js';
import { KEYS, UPLOAD_URL_SECONDS } from '../config.js';
import { parseDirectUploadRequest, pendingRecord, planUpload } from '../ingest/direct-upload.js';
import { httpHandler } from '../http/handler.js';
import { jsonBody } from '../http/request.js';
import { json } from '../http/responses.js';

export const handler = httpHandler('largeUpload', async (event) => {
  const request = parseDirectUploadRequest(jsonBody(event));
  const plan = planUpload(request.sizeBytes, request.multipart);
  const id = randomUUID();
  const key = KEYS.upload(id);
  const { objects, records } = getStores();
  const uploadId =
    plan.method === 'MULTIPART' ? await objects.startMultipartUpload(key, 'application/dicom') : undefined;
  // The record exists before any URL is handed out, so the storage event always finds it.
  const record = pendingRecord(id, request, plan, uploadId);
  await records.create(record);
  const common = {
    id,
    filename: record.filename,
    size_bytes: record.size_bytes,
    status: record.status,
    expires_at: record.upload!.expires_at,
    upload_method: plan.method,
  };
  if (plan.method === 'PUT') {
    // Single use: the URL signs If-None-Match, so the client must send upload_headers (S3 answers 403
    // without them, 412 to a second PUT once the file is stored).
    const { url, headers } = await objects.presignPut(key, request.sizeBytes, UPLOAD_URL_SECONDS);
    return json(201, {
      ...common,
      upload_url: url,
      upload_headers: headers,
      message: `PUT the file to upload_url with the headers in upload_headers (${Object.entries(headers)
        .map(([name, value]) => `${name}: ${value}`)
        .join(', ')}), then GET /dicom/${id}; the URL works once`,
    });
  }
  const parts = await Promise.all(
    plan.parts.map(async ({ partNumber, sizeBytes }) => ({
      part_number: partNumber,
      size_bytes: sizeBytes,
      upload_url: await objects.presignUploadPart(key, uploadId!, partNumber, sizeBytes, UPLOAD_URL_SECONDS),
    })),
  );
  return json(201, {
    ...common,
    upload_url: null,
    part_size_bytes: plan.partSizeBytes,
    parts,
    complete_path: `/dicom/uploads/${id}/complete`,
    message: `PUT each part to its upload_url, then POST {"parts": [{"part_number", "etag"}, ...]} to complete_path`,
  });
});
