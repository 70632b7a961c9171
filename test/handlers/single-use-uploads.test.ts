// Issue 19: an upload URL writes once (If-None-Match: *), and the processor reads the object version its record names.
import { createHash } from 'node:crypto';
import { S3Client } from '@aws-sdk/client-s3';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getStores, setStores } from '../../lambdas/commons.js';
import { KEYS } from '../../lambdas/config.js';
import { handler as file } from '../../lambdas/handlers/file.js';
import { handler as largeUpload } from '../../lambdas/handlers/largeUpload.js';
import { handler as processor } from '../../lambdas/handlers/processor.js';
import { S3ObjectStore } from '../../lambdas/store/s3-object-store.js';
import type { ObjectStore } from '../../lambdas/store/objects.js';
import { sampleCt } from '../fixtures/dicom-builder.js';
import { useEmulatedStorage } from '../support/emulated-storage.js';
import { apiEvent, idEvent, s3Event } from '../support/events.js';

useEmulatedStorage('single-use');
let s3: S3Client;
beforeAll(() => {
  s3 = new S3Client({ forcePathStyle: true });
});
afterAll(() => s3?.destroy());

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const body = (response: APIGatewayProxyResult): Record<string, any> => JSON.parse(response.body);

async function started(request: Record<string, unknown>): Promise<Record<string, any>> {
  const response = await largeUpload(
    apiEvent({
      method: 'POST',
      resource: '/dicom/uploads',
      path: '/dicom/uploads',
      headers: { 'Content-Type': 'application/json' },
      body: Buffer.from(JSON.stringify(request)),
    }),
  );
  expect(response.statusCode, response.body).toBe(201);
  return body(response);
}

/** Same length, other bytes: what a replacement would look like (the size is signed too). */
function tampered(bytes: Uint8Array): Uint8Array {
  const other = new Uint8Array(bytes);
  other[other.length - 1] = (other[other.length - 1] ?? 0) ^ 0xff;
  return other;
}

describe('the presigned PUT of POST /dicom/uploads is single-use', () => {
  it('tells the client the headers to send; a PUT without them is refused (403), not silently accepted', async () => {
    const ct = sampleCt();
    const start = await started({ filename: 'once.dcm', size_bytes: ct.length });
    expect(start.upload_headers).toEqual({ 'If-None-Match': '*' });
    expect(start.message).toMatch(/If-None-Match: \*/);
    const bare = await fetch(start.upload_url, { method: 'PUT', body: ct });
    expect(bare.status).toBe(403);
    expect(await bare.text()).toMatch(/SignatureDoesNotMatch/);
    expect(await getStores().objects.head(KEYS.upload(start.id))).toBeUndefined();
  });

  it('a second PUT after the file is READY answers 412; the stored bytes and the record are unchanged', async () => {
    const ct = sampleCt();
    const start = await started({ filename: 'once.dcm', size_bytes: ct.length });
    const first = await fetch(start.upload_url, { method: 'PUT', body: ct, headers: start.upload_headers });
    expect(first.status).toBe(200);
    await processor(s3Event(KEYS.upload(start.id)));
    const ready = (await getStores().records.get(start.id))!;
    expect(ready).toMatchObject({ status: 'READY', sha256: sha256(ct) });

    const second = await fetch(start.upload_url, { method: 'PUT', body: tampered(ct), headers: start.upload_headers });
    expect(second.status).toBe(412);
    expect(await second.text()).toMatch(/PreconditionFailed/);
    // Even if a storage event came (S3 sends none for a refused write), nothing changes.
    await processor(s3Event(KEYS.upload(start.id)));
    expect(await getStores().records.get(start.id)).toEqual(ready);
    const download = await file(idEvent('/dicom/{id}/file', start.id));
    expect(download.statusCode).toBe(200);
    expect(sha256(Buffer.from(download.body, 'base64'))).toBe(sha256(ct));
  });

  it('of two PUTs racing with the same URL, exactly one is stored', async () => {
    const ct = sampleCt();
    const start = await started({ size_bytes: ct.length });
    const answers = await Promise.all(
      [ct, tampered(ct)].map((bytes) =>
        fetch(start.upload_url, { method: 'PUT', body: bytes, headers: start.upload_headers }).then((r) => r.status),
      ),
    );
    expect(answers.sort()).toEqual([200, 412]);
  });

  it('CompleteMultipartUpload never replaces an object already at the key (412 -> ALREADY_EXISTS)', async () => {
    const objects = getStores().objects;
    const key = KEYS.upload(crypto.randomUUID());
    const ct = sampleCt();
    await objects.put(key, ct, 'application/dicom');
    const uploadId = await objects.startMultipartUpload(key, 'application/dicom');
    const url = await objects.presignUploadPart(key, uploadId, 1, ct.length, 60);
    const part = await fetch(url, { method: 'PUT', body: tampered(ct) });
    expect(part.status).toBe(200);
    const result = await objects.completeMultipartUpload(key, uploadId, [
      { partNumber: 1, etag: part.headers.get('etag')! },
    ]);
    expect(result).toMatchObject({ ok: false, code: 'ALREADY_EXISTS' });
    expect(sha256((await objects.get(key))!)).toBe(sha256(ct));
  });
});

describe('the processor reads the object version its record names', () => {
  /** The emulator has no versioning: record which version each read asked for, read the only one there is. */
  function versionRecordingStore(inner: ObjectStore, asked: (string | undefined)[]): ObjectStore {
    return Object.assign(Object.create(inner) as ObjectStore, {
      get: (key: string, versionId?: string) => {
        if (key.startsWith(KEYS.uploadPrefix)) asked.push(versionId);
        return inner.get(key);
      },
    });
  }

  it('records the version of the first event at markReceived, and a later event (another version) still reads it', async () => {
    const { records } = getStores();
    const objects = new S3ObjectStore(s3, process.env.BUCKET_NAME ?? 'single-use-bucket');
    const asked: (string | undefined)[] = [];
    setStores({ objects: versionRecordingStore(objects, asked), records });
    const ct = sampleCt();
    const start = await started({ size_bytes: ct.length });
    expect((await fetch(start.upload_url, { method: 'PUT', body: ct, headers: start.upload_headers })).status).toBe(
      200,
    );
    const versioned = (versionId: string) => {
      const event = s3Event(KEYS.upload(start.id), 'ObjectCreated:Put', ct.length);
      event.Records[0]!.s3.object.versionId = versionId;
      return event;
    };
    await processor(versioned('v-first'));
    expect(await records.get(start.id)).toMatchObject({ status: 'READY', object_version: 'v-first' });
    // A reprocess (CopyObject in place) makes a new version: the record's one is read.
    expect(asked).toEqual(['v-first']);
    await records.markReprocessing(start.id, new Date(Date.now() + 60_000).toISOString());
    asked.length = 0;
    await processor(versioned('v-copy'));
    expect(await records.get(start.id)).toMatchObject({ status: 'READY', object_version: 'v-first' });
    // A small file is prefetched at the event's version; the bytes processed are the recorded version's.
    expect(asked.at(-1)).toBe('v-first');
  });
});
