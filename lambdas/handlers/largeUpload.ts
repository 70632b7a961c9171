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
    const url = await objects.presignPut(key, request.sizeBytes, UPLOAD_URL_SECONDS);
    return json(201, { ...common, upload_url: url, message: `PUT the file to upload_url, then GET /dicom/${id}` });
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
