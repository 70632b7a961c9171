// Direct uploads (POST /dicom/uploads): the request, the plan (one PUT or multipart parts), the record awaiting the bytes, completion.
import type { Stores } from '../commons.js';
import {
  KEYS,
  LARGE_UPLOAD_ROUTE,
  MAX_DIRECT_UPLOAD_BYTES,
  MULTIPART_MAX_PARTS,
  MULTIPART_MIN_PART_BYTES,
  MULTIPART_PART_BYTES,
  MULTIPART_THRESHOLD_BYTES,
  UPLOAD_GRACE_SECONDS,
  UPLOAD_URL_SECONDS,
} from '../config.js';
import { BadRequest, Conflict, PayloadTooLarge } from '../http/errors.js';
import { sanitizeFilename } from '../http/multipart.js';
import { requireRecord } from '../http/processing-state.js';
import type { UploadedPart } from '../store/objects.js';
import { secondsFromNow, withDeadlineApplied, type FileRecord } from '../store/records.js';

export interface DirectUploadRequest {
  filename: string;
  sizeBytes: number;
  /** true or false forces the method; absent: multipart from MULTIPART_THRESHOLD_BYTES. */
  multipart?: boolean;
}

export interface PlannedPart {
  partNumber: number;
  sizeBytes: number;
}

export type UploadPlan = { method: 'PUT' } | { method: 'MULTIPART'; partSizeBytes: number; parts: PlannedPart[] };

/** Validates `{"filename", "size_bytes", "multipart"?}`; every mistake is a 400 (or 413) that says which field. */
export function parseDirectUploadRequest(body: Record<string, unknown>): DirectUploadRequest {
  const { filename, size_bytes: size, multipart } = body;
  if (filename !== undefined && typeof filename !== 'string') {
    throw new BadRequest('"filename" must be a string', 'BAD_FILENAME');
  }
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 1) {
    throw new BadRequest('"size_bytes" must be the file size in bytes, a positive integer', 'BAD_SIZE');
  }
  if (size > MAX_DIRECT_UPLOAD_BYTES) {
    throw new PayloadTooLarge(
      `a file of ${size} bytes is larger than ${LARGE_UPLOAD_ROUTE} accepts (${MAX_DIRECT_UPLOAD_BYTES} bytes)`,
    );
  }
  if (multipart !== undefined && typeof multipart !== 'boolean') {
    throw new BadRequest('"multipart" must be true or false', 'BAD_MULTIPART_FLAG');
  }
  return { filename: sanitizeFilename(filename), sizeBytes: size, ...(multipart === undefined ? {} : { multipart }) };
}

/** One PUT below the threshold, otherwise parts of MULTIPART_PART_BYTES (larger if 10,000 would not do). */
export function planUpload(sizeBytes: number, multipart?: boolean): UploadPlan {
  if (!(multipart ?? sizeBytes >= MULTIPART_THRESHOLD_BYTES)) return { method: 'PUT' };
  const mib = 1024 * 1024;
  const partSizeBytes = Math.max(
    MULTIPART_PART_BYTES,
    MULTIPART_MIN_PART_BYTES,
    Math.ceil(sizeBytes / MULTIPART_MAX_PARTS / mib) * mib,
  );
  const parts: PlannedPart[] = [];
  for (let offset = 0, partNumber = 1; offset < sizeBytes; offset += partSizeBytes, partNumber++) {
    parts.push({ partNumber, sizeBytes: Math.min(partSizeBytes, sizeBytes - offset) });
  }
  return { method: 'MULTIPART', partSizeBytes, parts };
}

/** The record of a file whose bytes are on their way: PROCESSING, with a TTL in case they never come. */
export function pendingRecord(
  id: string,
  request: DirectUploadRequest,
  plan: UploadPlan,
  multipartUploadId: string | undefined,
  now = Date.now(),
): FileRecord {
  const created = new Date(now).toISOString();
  const expiresAt = secondsFromNow(UPLOAD_URL_SECONDS, now);
  const giveUpAt = now + (UPLOAD_URL_SECONDS + UPLOAD_GRACE_SECONDS) * 1000;
  return {
    id,
    filename: request.filename,
    size_bytes: request.sizeBytes,
    created_at: created,
    modified_at: created,
    status: 'PROCESSING',
    dicom_info: {
      PatientName: null,
      PatientID: null,
      StudyDate: null,
      StudyDescription: null,
      Modality: null,
      ImageDimensions: null,
    },
    patient_id: null,
    modality: null,
    study_date: null,
    sop_instance_uid: null,
    sop_class_uid: null,
    study_instance_uid: null,
    series_instance_uid: null,
    transfer_syntax_uid: null,
    number_of_frames: null,
    upload:
      plan.method === 'PUT'
        ? { method: 'PUT', expires_at: expiresAt }
        : {
            method: 'MULTIPART',
            expires_at: expiresAt,
            multipart_upload_id: multipartUploadId!,
            part_size_bytes: plan.partSizeBytes,
            part_count: plan.parts.length,
          },
    processing_deadline: new Date(giveUpAt).toISOString(),
    expires_at_epoch: Math.ceil(giveUpAt / 1000),
  };
}

/** The parts the client reports in `{"parts": [{"part_number", "etag"}, ...]}`, checked against the plan. */
export function parseCompletedParts(body: Record<string, unknown>, partCount: number): UploadedPart[] {
  const example = '{"parts": [{"part_number": 1, "etag": "<ETag header of that part\'s PUT>"}, ...]}';
  if (!Array.isArray(body.parts)) throw new BadRequest(`expected ${example}`, 'BAD_PARTS');
  const parts = body.parts.map((raw: unknown) => {
    const part = raw as { part_number?: unknown; etag?: unknown } | null;
    if (!part || !Number.isSafeInteger(part.part_number) || typeof part.etag !== 'string' || !part.etag) {
      throw new BadRequest(`every part needs a part_number and the etag S3 returned: ${example}`, 'BAD_PARTS');
    }
    // curl -D shows the ETag quoted; S3 wants it quoted; people strip quotes.
    const etag = part.etag.startsWith('"') ? part.etag : `"${part.etag}"`;
    return { partNumber: part.part_number as number, etag };
  });
  const numbers = new Set(parts.map((p) => p.partNumber));
  const missing: number[] = [];
  for (let n = 1; n <= partCount; n++) if (!numbers.has(n)) missing.push(n);
  if (missing.length > 0 || numbers.size !== parts.length || parts.length !== partCount) {
    throw new BadRequest(
      `this upload has parts 1 to ${partCount}, each exactly once${missing.length ? `; missing: ${missing.slice(0, 20).join(', ')}` : ''}`,
      'INCOMPLETE_UPLOAD',
    );
  }
  return parts.sort((a, b) => a.partNumber - b.partNumber);
}

/** Assembles a multipart upload; S3 then announces the object and the processor takes over. Safe to retry. */
export async function completeDirectUpload(
  { objects, records }: Stores,
  id: string,
  body: Record<string, unknown>,
): Promise<FileRecord> {
  const record = withDeadlineApplied(await requireRecord(records, id));
  const upload = record.upload;
  // No upload pending: the bytes already arrived (a repeated complete), nothing left to do.
  if (!upload) return record;
  if (upload.method !== 'MULTIPART' || !upload.multipart_upload_id || !upload.part_count) {
    throw new Conflict('this upload is a single PUT to upload_url; there is nothing to complete', 'NOT_MULTIPART');
  }
  const parts = parseCompletedParts(body, upload.part_count);
  // Already assembled (a retried complete before the processor caught up): S3 may have forgotten the upload id.
  if (await objects.head(KEYS.upload(id))) return record;
  if (record.status === 'FAILED') throw new Conflict(record.error ?? 'the upload has expired', 'UPLOAD_EXPIRED');
  const result = await objects.completeMultipartUpload(KEYS.upload(id), upload.multipart_upload_id, parts);
  // ALREADY_EXISTS: a completion racing this one assembled it first (completion is conditional).
  if (result.ok || result.code === 'ALREADY_EXISTS') return record;
  if (result.code === 'NO_SUCH_UPLOAD') {
    throw new Conflict('S3 no longer knows this multipart upload; start a new upload', 'UPLOAD_NOT_FOUND');
  }
  throw new BadRequest(`S3 refused to assemble the parts: ${result.message}`, result.code);
}
