// Handler tests for direct uploads, downloads, reprocessing and the dead-letter path, on API Gateway / S3 / SQS event shapes.
import { createHash } from 'node:crypto';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getStores } from '../../lambdas/commons.js';
import {
  KEYS,
  MAX_DIRECT_UPLOAD_BYTES,
  MAX_INLINE_FILE_BYTES,
  MULTIPART_THRESHOLD_BYTES,
  TABLE,
  UPLOAD_GRACE_SECONDS,
  UPLOAD_URL_SECONDS,
} from '../../lambdas/config.js';
import { DERIVED_SCHEMA_VERSION } from '../../lambdas/dicom/process.js';
import { handler as completeUpload } from '../../lambdas/handlers/completeUpload.js';
import { handler as file } from '../../lambdas/handlers/file.js';
import { handler as get } from '../../lambdas/handlers/get.js';
import { handler as largeUpload } from '../../lambdas/handlers/largeUpload.js';
import { handler as png } from '../../lambdas/handlers/png.js';
import { handler as processingFailed } from '../../lambdas/handlers/processingFailed.js';
import { handler as processor } from '../../lambdas/handlers/processor.js';
import { handler as reprocess } from '../../lambdas/handlers/reprocess.js';
import { handler as upload } from '../../lambdas/handlers/upload.js';
import { deadLetterEvent, deliverDeadLetter } from '../../local/dead-letters.js';
import { ProcessorPool } from '../../local/processor-pool.js';
import { sampleCt } from '../fixtures/dicom-builder.js';
import { useEmulatedStorage } from '../support/emulated-storage.js';
import { apiEvent, idEvent, s3Event, uploadEvent } from '../support/events.js';

const BUCKET = 'uploads-bucket';
const storage = useEmulatedStorage('uploads');
let s3: S3Client;
beforeAll(() => {
  s3 = new S3Client({ forcePathStyle: true });
});
afterAll(() => s3?.destroy());

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const body = (response: APIGatewayProxyResult): Record<string, any> => JSON.parse(response.body);

/** POST /dicom/uploads as API Gateway delivers it: a JSON body, base64-encoded (binaryMediaTypes is *\/*). */
function startEvent(request: unknown, base64 = true) {
  return apiEvent({
    method: 'POST',
    resource: '/dicom/uploads',
    path: '/dicom/uploads',
    headers: { 'Content-Type': 'application/json' },
    body: Buffer.from(typeof request === 'string' ? request : JSON.stringify(request)),
    base64,
  });
}

function completeEvent(id: string, request: unknown) {
  return apiEvent({
    method: 'POST',
    resource: '/dicom/uploads/{id}/complete',
    path: `/dicom/uploads/${id}/complete`,
    pathParameters: { id },
    body: Buffer.from(JSON.stringify(request)),
  });
}

async function started(request: Record<string, unknown>): Promise<Record<string, any>> {
  const response = await largeUpload(startEvent(request));
  expect(response.statusCode, response.body).toBe(201);
  return body(response);
}

/** A direct upload sent and processed: what a client and S3 together do. */
async function directlyUploaded(bytes: Uint8Array, filename = 'direct.dcm'): Promise<string> {
  const start = await started({ filename, size_bytes: bytes.length });
  expect((await fetch(start.upload_url, { method: 'PUT', body: bytes, headers: start.upload_headers })).status).toBe(
    200,
  );
  await processor(s3Event(KEYS.upload(start.id)));
  return start.id;
}

describe('POST /dicom/uploads', () => {
  it('answers 201 with a presigned PUT to uploads/<id> on the embedded S3, and a PROCESSING record with a TTL', async () => {
    const before = Date.now();
    const response = await started({ filename: 'scan.dcm', size_bytes: 1234 });
    expect(response).toMatchObject({
      filename: 'scan.dcm',
      size_bytes: 1234,
      status: 'PROCESSING',
      upload_method: 'PUT',
    });
    const url = new URL(response.upload_url);
    expect(url.origin).toBe(storage.emulators.s3Endpoint);
    expect(url.pathname).toBe(`/${BUCKET}/${KEYS.upload(response.id)}`);
    // The size and If-None-Match are signed: S3 refuses a body of any other length, and a second PUT.
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('content-length;host;if-none-match');
    expect(response.upload_headers).toEqual({ 'If-None-Match': '*' });
    expect(Number(url.searchParams.get('X-Amz-Expires'))).toBe(UPLOAD_URL_SECONDS);
    expect(Date.parse(response.expires_at)).toBeGreaterThanOrEqual(before + UPLOAD_URL_SECONDS * 1000 - 1000);

    const record = (await getStores().records.get(response.id))!;
    expect(record).toMatchObject({ status: 'PROCESSING', upload: { method: 'PUT' }, size_bytes: 1234 });
    const ttl = record[TABLE.ttlAttribute]!;
    expect(ttl * 1000).toBeGreaterThan(before + (UPLOAD_URL_SECONDS + UPLOAD_GRACE_SECONDS - 5) * 1000);
    expect(ttl * 1000).toBeLessThan(Date.now() + (UPLOAD_URL_SECONDS + UPLOAD_GRACE_SECONDS + 5) * 1000);
  });

  it('accepts the JSON as text too (a client or proxy that does not base64 it)', async () => {
    const response = await largeUpload(startEvent({ size_bytes: 10 }, false));
    expect(response.statusCode).toBe(201);
    expect(body(response).filename).toBe('upload.dcm');
  });

  it('hands out multipart part URLs from the threshold on (or when asked), every part signed with its size', async () => {
    const size = MULTIPART_THRESHOLD_BYTES + 1;
    const response = await started({ filename: 'big.dcm', size_bytes: size });
    expect(response).toMatchObject({ upload_method: 'MULTIPART', upload_url: null });
    expect(response.complete_path).toBe(`/dicom/uploads/${response.id}/complete`);
    const parts = response.parts as { part_number: number; size_bytes: number; upload_url: string }[];
    expect(parts.map((p) => p.part_number)).toEqual(parts.map((_, i) => i + 1));
    expect(parts.reduce((sum, p) => sum + p.size_bytes, 0)).toBe(size);
    expect(parts.slice(0, -1).every((p) => p.size_bytes === response.part_size_bytes)).toBe(true);
    for (const part of parts) {
      const url = new URL(part.upload_url);
      expect(url.searchParams.get('partNumber')).toBe(String(part.part_number));
      expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('content-length;host');
    }
    expect((await started({ size_bytes: 100, multipart: true })).parts).toHaveLength(1);
    expect((await started({ size_bytes: size, multipart: false })).upload_method).toBe('PUT');
  });

  it.each([
    ['not JSON', 'size_bytes=5', 400, 'BAD_JSON'],
    ['a JSON array', '[1]', 400, 'BAD_JSON'],
    ['no size', { filename: 'a.dcm' }, 400, 'BAD_SIZE'],
    ['a size of 0', { size_bytes: 0 }, 400, 'BAD_SIZE'],
    ['a fractional size', { size_bytes: 1.5 }, 400, 'BAD_SIZE'],
    ['a size as a string', { size_bytes: '100' }, 400, 'BAD_SIZE'],
    ['a filename that is not a string', { filename: 5, size_bytes: 5 }, 400, 'BAD_FILENAME'],
    ['multipart not a boolean', { size_bytes: 5, multipart: 'yes' }, 400, 'BAD_MULTIPART_FLAG'],
    ['a file above the limit', { size_bytes: MAX_DIRECT_UPLOAD_BYTES + 1 }, 413, 'PAYLOAD_TOO_LARGE'],
  ])('%s -> %i %s', async (_name, request, status, code) => {
    const response = await largeUpload(startEvent(request));
    expect(response.statusCode).toBe(status);
    expect(body(response)).toMatchObject({ code, error: expect.any(String) });
  });
});

describe('the processor on direct uploads', () => {
  it('records the real size and SHA-256, ends the TTL and marks the file READY with its schema version', async () => {
    const ct = sampleCt();
    const id = await directlyUploaded(ct);
    const record = (await getStores().records.get(id))!;
    expect(record).toMatchObject({ status: 'READY', size_bytes: ct.length, sha256: sha256(ct) });
    expect(record.schema_version).toBe(DERIVED_SCHEMA_VERSION);
    expect(record.upload).toBeUndefined();
    expect(record[TABLE.ttlAttribute]).toBeUndefined();
    expect(record.processing_deadline).toBeUndefined();
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: KEYS.documents(id) }));
    expect(head.Metadata?.['schema-version']).toBe(String(DERIVED_SCHEMA_VERSION));
  });

  it('a file that is not DICOM: FAILED with the reason, and the bytes are removed', async () => {
    const pdf = new TextEncoder().encode('%PDF-1.4\n1 0 obj << >> endobj\n%%EOF\n');
    const id = await directlyUploaded(pdf, 'report.pdf');
    expect(await getStores().records.get(id)).toMatchObject({
      status: 'FAILED',
      error: expect.stringMatching(/not a DICOM file/),
    });
    expect(await getStores().objects.head(KEYS.upload(id))).toBeUndefined();
  });

  it('bytes that differ in size from the announced size: FAILED, removed (S3 itself refuses them)', async () => {
    const start = await started({ size_bytes: 100_000 });
    await fetch(start.upload_url, { method: 'PUT', body: sampleCt(), headers: start.upload_headers });
    await processor(s3Event(KEYS.upload(start.id)));
    expect(await getStores().records.get(start.id)).toMatchObject({
      status: 'FAILED',
      error: expect.stringMatching(/100000 were announced/),
    });
    expect(await getStores().objects.head(KEYS.upload(start.id))).toBeUndefined();
  });

  it('bytes whose record is gone (deleted, or expired by TTL) are removed', async () => {
    const id = crypto.randomUUID();
    await getStores().objects.put(KEYS.upload(id), sampleCt(), 'application/dicom');
    await processor(s3Event(KEYS.upload(id)));
    expect(await getStores().objects.head(KEYS.upload(id))).toBeUndefined();
  });
});

describe('POST /dicom/uploads/{id}/complete', () => {
  async function multipartWithParts(
    bytes: Uint8Array,
  ): Promise<{ id: string; parts: { part_number: number; etag: string }[] }> {
    const start = await started({ size_bytes: bytes.length, multipart: true });
    const parts = [];
    let offset = 0;
    for (const part of start.parts as { part_number: number; size_bytes: number; upload_url: string }[]) {
      const response = await fetch(part.upload_url, {
        method: 'PUT',
        body: bytes.subarray(offset, offset + part.size_bytes),
      });
      offset += part.size_bytes;
      parts.push({ part_number: part.part_number, etag: response.headers.get('etag')! });
    }
    return { id: start.id, parts };
  }

  it('assembles the parts; S3 then announces the object and the processor makes it READY; repeating is harmless', async () => {
    const ct = sampleCt();
    const { id, parts } = await multipartWithParts(ct);
    const response = await completeUpload(completeEvent(id, { parts }));
    expect(response.statusCode, response.body).toBe(200);
    expect(body(response)).toMatchObject({ id, status: 'PROCESSING' });
    expect((await completeUpload(completeEvent(id, { parts }))).statusCode).toBe(200);
    await processor(s3Event(KEYS.upload(id), 'ObjectCreated:CompleteMultipartUpload'));
    expect(await getStores().records.get(id)).toMatchObject({ status: 'READY', sha256: sha256(ct) });
    expect((await completeUpload(completeEvent(id, { parts }))).statusCode).toBe(200);
  });

  it('ETags without quotes are accepted (people strip them)', async () => {
    const { id, parts } = await multipartWithParts(sampleCt());
    const bare = parts.map((p) => ({ ...p, etag: p.etag.replace(/"/g, '') }));
    expect((await completeUpload(completeEvent(id, { parts: bare }))).statusCode).toBe(200);
  });

  it.each([
    ['no parts list', {}, 'BAD_PARTS'],
    ['a part without etag', { parts: [{ part_number: 1 }] }, 'BAD_PARTS'],
    ['a missing part', { parts: [] }, 'INCOMPLETE_UPLOAD'],
    [
      'a part twice',
      {
        parts: [
          { part_number: 1, etag: 'a' },
          { part_number: 1, etag: 'a' },
        ],
      },
      'INCOMPLETE_UPLOAD',
    ],
    [
      'a part that is not in the plan',
      {
        parts: [
          { part_number: 1, etag: 'a' },
          { part_number: 2, etag: 'b' },
        ],
      },
      'INCOMPLETE_UPLOAD',
    ],
  ])('%s -> 400 %s, and nothing is assembled', async (_name, request, code) => {
    const { id } = await multipartWithParts(sampleCt());
    const response = await completeUpload(completeEvent(id, request));
    expect(response.statusCode).toBe(400);
    expect(body(response).code).toBe(code);
    expect(await getStores().objects.head(KEYS.upload(id))).toBeUndefined();
  });

  it('a single-PUT upload has nothing to complete (409); an unknown id is 404', async () => {
    const start = await started({ size_bytes: 10 });
    const response = await completeUpload(completeEvent(start.id, { parts: [] }));
    expect(response.statusCode).toBe(409);
    expect(body(response).code).toBe('NOT_MULTIPART');
    expect((await completeUpload(completeEvent(crypto.randomUUID(), { parts: [] }))).statusCode).toBe(404);
  });
});

describe('GET /dicom/{id}/file', () => {
  it('returns the original bytes inline with application/dicom and the filename to save under', async () => {
    const ct = sampleCt();
    const response = await upload(await uploadEvent(ct, 'tête 1.dcm'));
    const id = body(response).id as string;
    const result = await file(idEvent('/dicom/{id}/file', id));
    expect(result.statusCode).toBe(200);
    expect(result.isBase64Encoded).toBe(true);
    expect(Buffer.from(result.body, 'base64').equals(Buffer.from(ct))).toBe(true);
    expect(result.headers?.['Content-Type']).toBe('application/dicom');
    expect(result.headers?.['Content-Disposition']).toBe(
      `attachment; filename="t_te 1.dcm"; filename*=UTF-8''t%C3%AAte%201.dcm`,
    );
    // POST /dicom hashes at once: the record carries the SHA-256 before the processor runs.
    expect(body(await get(idEvent('/dicom/{id}', id))).sha256).toBe(sha256(ct));
  });

  it('a file too large for a Lambda response is a 302 to a short-lived presigned GET that names the file', async () => {
    const big = new Uint8Array(MAX_INLINE_FILE_BYTES + 1).fill(7);
    const start = await started({ filename: 'large.dcm', size_bytes: big.length });
    await fetch(start.upload_url, { method: 'PUT', body: big, headers: start.upload_headers });
    const result = await file(idEvent('/dicom/{id}/file', start.id));
    expect(result.statusCode).toBe(302);
    const location = new URL(result.headers!.Location as string);
    expect(location.pathname).toBe(`/${BUCKET}/${KEYS.upload(start.id)}`);
    const download = await fetch(location);
    expect(download.headers.get('content-type')).toBe('application/dicom');
    expect(download.headers.get('content-disposition')).toMatch(/filename="large.dcm"/);
    expect(sha256(new Uint8Array(await download.arrayBuffer()))).toBe(sha256(big));
  });

  it('202 while a direct upload has not arrived; 422 with the reason once it failed; 404 for an unknown id', async () => {
    const start = await started({ size_bytes: 10 });
    const pending = await file(idEvent('/dicom/{id}/file', start.id));
    expect(pending.statusCode).toBe(202);
    expect(pending.headers?.['Retry-After']).toMatch(/^\d+$/);
    await getStores().records.markFailed(start.id, 'not a DICOM file: no DICM');
    const failed = await file(idEvent('/dicom/{id}/file', start.id));
    expect(failed.statusCode).toBe(422);
    expect(body(failed).error).toMatch(/no DICM/);
    expect((await file(idEvent('/dicom/{id}/file', crypto.randomUUID()))).statusCode).toBe(404);
  });
});

describe('POST /dicom/{id}/reprocess', () => {
  it('sets the record PROCESSING and copies the original onto itself; the Copy event rebuilds it', async () => {
    const id = await directlyUploaded(sampleCt());
    const before = (await getStores().records.get(id))!;
    await getStores().objects.delete(KEYS.derivedObjects(id)); // derived data of an older schema, say
    const response = await reprocess(idEvent('/dicom/{id}/reprocess', id, 'POST'));
    expect(response.statusCode).toBe(202);
    expect(body(response)).toMatchObject({ id, status: 'PROCESSING' });
    expect((await getStores().records.get(id))?.status).toBe('PROCESSING');
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: KEYS.upload(id) }));
    expect(head.Metadata?.['reprocess-requested-at']).toBeDefined();
    expect(head.ContentType).toBe('application/dicom');

    await processor(s3Event(KEYS.upload(id), 'ObjectCreated:Copy'));
    const after = (await getStores().records.get(id))!;
    expect(after).toMatchObject({ status: 'READY', sha256: before.sha256, schema_version: DERIVED_SCHEMA_VERSION });
    expect(after.modified_at > before.modified_at).toBe(true);
    expect((await png(idEvent('/dicom/{id}/png', id))).statusCode).toBe(200);
  });

  it('409 before the bytes arrived or when the original is gone; 404 for an unknown id', async () => {
    const pending = await started({ size_bytes: 10 });
    const early = await reprocess(idEvent('/dicom/{id}/reprocess', pending.id, 'POST'));
    expect([early.statusCode, body(early).code]).toEqual([409, 'UPLOAD_PENDING']);
    const pdf = await directlyUploaded(new TextEncoder().encode('%PDF-1.4 nothing'), 'x.pdf');
    const gone = await reprocess(idEvent('/dicom/{id}/reprocess', pdf, 'POST'));
    expect([gone.statusCode, body(gone).code]).toEqual([409, 'ORIGINAL_NOT_STORED']);
    expect((await reprocess(idEvent('/dicom/{id}/reprocess', crypto.randomUUID(), 'POST'))).statusCode).toBe(404);
  });

  it('a file that was READY keeps its original when a reprocess fails to parse it (a parser regression destroys nothing)', async () => {
    const id = await directlyUploaded(sampleCt());
    await getStores().objects.put(KEYS.upload(id), new TextEncoder().encode('garbage now'), 'application/dicom');
    await reprocess(idEvent('/dicom/{id}/reprocess', id, 'POST'));
    await processor(s3Event(KEYS.upload(id), 'ObjectCreated:Copy'));
    expect((await getStores().records.get(id))?.status).toBe('FAILED');
    expect(await getStores().objects.head(KEYS.upload(id))).toBeDefined();
    expect(await getStores().objects.head(KEYS.png(id))).toBeUndefined();
  });
});

describe('never stuck in PROCESSING', () => {
  it('the dead-letter consumer marks FAILED the file of an event that failed every attempt, with the reason', async () => {
    const id = body(await upload(await uploadEvent(sampleCt()))).id as string;
    const error = { errorType: 'TypeError', errorMessage: 'cannot read properties of undefined\n    at stack' };
    const result = await processingFailed(deadLetterEvent(s3Event(KEYS.upload(id)), error, 3));
    expect(result.batchItemFailures).toEqual([]);
    const record = (await getStores().records.get(id))!;
    expect(record.status).toBe('FAILED');
    expect(record.error).toBe(
      `processing failed after 3 attempts (TypeError: cannot read properties of undefined); retry with POST /dicom/${id}/reprocess`,
    );
    expect(record.processing_deadline).toBeUndefined();
  });

  it('a late dead letter does not overwrite a file that has become READY since; junk messages are dropped', async () => {
    const id = await directlyUploaded(sampleCt());
    const error = { errorType: 'Error', errorMessage: 'timeout' };
    await processingFailed(deadLetterEvent(s3Event(KEYS.upload(id)), error, 3));
    expect((await getStores().records.get(id))?.status).toBe('READY');
    const junk = { Records: [{ ...deadLetterEvent(s3Event(KEYS.upload(id)), error, 3).Records[0]!, body: '{"x":1}' }] };
    expect(await processingFailed(junk)).toEqual({ batchItemFailures: [] });
  });

  it.each(['throw', 'exit'])(
    'locally, a processor that fails every attempt (%s) is retried 3 times, then the same consumer marks the file FAILED',
    async (mode) => {
      const id = body(await upload(await uploadEvent(sampleCt()))).id as string;
      const attempts: number[] = [];
      const pool = new ProcessorPool(
        1,
        { FAIL_MODE: mode },
        {
          workerUrl: new URL('../support/failing-processor-worker.mjs', import.meta.url),
          onExhausted: async (event, error, count) => {
            attempts.push(count);
            await deliverDeadLetter(processingFailed, deadLetterEvent(event, error, count));
          },
        },
      );
      try {
        pool.submit(s3Event(KEYS.upload(id)));
        await pool.idle();
      } finally {
        await pool.close();
      }
      expect(attempts).toEqual([3]);
      expect(await getStores().records.get(id)).toMatchObject({
        status: 'FAILED',
        error: expect.stringMatching(/failed after 3 attempts/),
      });
    },
  );

  it('a record past its processing deadline reads as FAILED with the reason; a late processor run still completes it', async () => {
    const id = body(await upload(await uploadEvent(sampleCt()))).id as string;
    // As if the processor's event had been lost long ago.
    await getStores().records.markReprocessing(id, new Date(Date.now() - 1000).toISOString());
    expect(body(await get(idEvent('/dicom/{id}', id)))).toMatchObject({
      status: 'FAILED',
      error: expect.stringMatching(/did not finish by .*reprocess/),
    });
    expect((await png(idEvent('/dicom/{id}/png', id))).statusCode).toBe(422);
    await processor(s3Event(KEYS.upload(id)));
    expect(body(await get(idEvent('/dicom/{id}', id))).status).toBe('READY');
  });

  it('a direct upload whose bytes never arrive reads as FAILED once its URLs and grace period are over', async () => {
    const start = await started({ size_bytes: 10 });
    await getStores().records.markReprocessing(start.id, new Date(Date.now() - 1000).toISOString());
    expect(body(await get(idEvent('/dicom/{id}', start.id)))).toMatchObject({
      status: 'FAILED',
      error: expect.stringMatching(/did not arrive before its URLs expired/),
    });
    const late = await completeUpload(completeEvent(start.id, { parts: [] }));
    expect(late.statusCode).toBe(409);
  });
});
