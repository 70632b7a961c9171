// The large-file route end to end on the local runtime: presigned PUT and multipart to the embedded S3, processing, download, races, reprocess.
import { createHash } from 'node:crypto';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { decode } from 'fast-png';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEYS } from '../../lambdas/config.js';
import { DERIVED_SCHEMA_VERSION } from '../../lambdas/dicom/process.js';
import { reprocessAll } from '../../scripts/reprocess-all.js';
import { multiFrameMono8, sampleCt } from '../fixtures/dicom-builder.js';
import { startTestRuntime, uploadForm, type TestRuntime } from '../support/runtime.js';

interface Part {
  part_number: number;
  size_bytes: number;
  upload_url: string;
}
interface StartedUpload {
  id: string;
  upload_method: 'PUT' | 'MULTIPART';
  upload_url: string | null;
  upload_headers?: Record<string, string>;
  expires_at: string;
  parts?: Part[];
  complete_path?: string;
}
type FileRecord = Record<string, any>;

let api: TestRuntime;
let s3: S3Client;
/** 8-bit 1024 x 1024 x 120 frames: a 120 MB file, like a multi-frame ultrasound or a tomosynthesis series. */
let big: Uint8Array;
let bigSha256: string;

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

beforeAll(async () => {
  api = await startTestRuntime();
  s3 = new S3Client({ forcePathStyle: true });
  big = multiFrameMono8({ rows: 1024, columns: 1024, frames: 120 });
  bigSha256 = sha256(big);
});
afterAll(async () => {
  s3?.destroy();
  await api?.destroy();
});

async function startUpload(request: Record<string, unknown>): Promise<StartedUpload> {
  const response = await fetch(`${api.url}/dicom/uploads`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(request),
  });
  expect(response.status, await response.clone().text()).toBe(201);
  return (await response.json()) as StartedUpload;
}

async function record(id: string): Promise<FileRecord | undefined> {
  const response = await fetch(`${api.url}/dicom/${id}`);
  return response.status === 404 ? undefined : ((await response.json()) as FileRecord);
}

/** Polls the record until processing has ended (no sleeps for async work: a deadline instead). */
async function settled(id: string, timeoutMs = 30_000): Promise<FileRecord> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const current = await record(id);
    if (current && current.status !== 'PROCESSING') return current;
    if (Date.now() > deadline) throw new Error(`${id} still ${current?.status ?? 'missing'} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Every object stored for an id, straight from the emulated bucket. */
async function storedKeys(id: string): Promise<string[]> {
  const keys: string[] = [];
  for (const prefix of [KEYS.upload(id), KEYS.derivedFolder(id)]) {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: 'dicom-api-local', Prefix: prefix }));
    keys.push(...(page.Contents ?? []).map((object) => object.Key!));
  }
  return keys;
}

async function putMultipart(start: StartedUpload, bytes: Uint8Array): Promise<{ part_number: number; etag: string }[]> {
  let offset = 0;
  const slices = start.parts!.map((part) => {
    const slice = bytes.subarray(offset, offset + part.size_bytes);
    offset += part.size_bytes;
    return { part, slice };
  });
  expect(offset).toBe(bytes.length);
  return Promise.all(
    slices.map(async ({ part, slice }) => {
      const response = await fetch(part.upload_url, { method: 'PUT', body: slice });
      expect(response.status).toBe(200);
      return { part_number: part.part_number, etag: response.headers.get('etag')! };
    }),
  );
}

async function expectReadyBigFile(id: string): Promise<void> {
  const ready = await settled(id);
  expect(ready).toMatchObject({
    status: 'READY',
    size_bytes: big.length,
    sha256: bigSha256,
    number_of_frames: 120,
    schema_version: DERIVED_SCHEMA_VERSION,
    dicom_info: { Modality: 'MG', ImageDimensions: { rows: 1024, columns: 1024 } },
  });
  const png = await fetch(`${api.url}/dicom/${id}/png`);
  expect(png.status).toBe(200);
  const image = decode(new Uint8Array(await png.arrayBuffer()));
  expect([image.width, image.height]).toEqual([1024, 1024]);

  // Too large for a Lambda response: a 302 to the embedded S3, whose bytes are the upload's, exactly.
  const file = await fetch(`${api.url}/dicom/${id}/file`, { redirect: 'manual' });
  expect(file.status).toBe(302);
  const location = new URL(file.headers.get('location')!);
  expect(location.hostname).toBe('127.0.0.1');
  expect(location.port).toBe(new URL(process.env.AWS_ENDPOINT_URL_S3!).port);
  const download = await fetch(location);
  expect(download.headers.get('content-type')).toBe('application/dicom');
  expect(sha256(new Uint8Array(await download.arrayBuffer()))).toBe(bigSha256);
}

describe('a 120 MB multi-frame file through POST /dicom/uploads', () => {
  it('one presigned PUT: READY with its PNG, real size and SHA-256; GET /file returns identical bytes', async () => {
    const start = await startUpload({ filename: 'tomo.dcm', size_bytes: big.length, multipart: false });
    expect(start.upload_method).toBe('PUT');
    // Presigned to the embedded S3 on loopback, at the port it really listens on.
    const url = new URL(start.upload_url!);
    expect(url.origin).toBe(process.env.AWS_ENDPOINT_URL_S3);
    expect((await record(start.id))?.status).toBe('PROCESSING');
    const put = await fetch(start.upload_url!, { method: 'PUT', body: big, headers: start.upload_headers });
    expect(put.status).toBe(200);
    await expectReadyBigFile(start.id);
    expect((await fetch(`${api.url}/dicom/${start.id}`, { method: 'DELETE' })).status).toBe(200);
    expect(await storedKeys(start.id)).toEqual([]);
  });

  it('multipart (the default above 100 MiB): parts PUT in parallel, completed with their ETags, READY, identical bytes', async () => {
    const start = await startUpload({ filename: 'tomo.dcm', size_bytes: big.length });
    expect(start.upload_method).toBe('MULTIPART');
    expect(start.parts!.length).toBeGreaterThan(1);
    const parts = await putMultipart(start, big);
    const incomplete = await fetch(`${api.url}${start.complete_path}`, {
      method: 'POST',
      body: JSON.stringify({ parts: parts.slice(1) }),
    });
    expect(incomplete.status).toBe(400);
    expect(((await incomplete.json()) as { error: string }).error).toMatch(/missing: 1/);
    const complete = await fetch(`${api.url}${start.complete_path}`, {
      method: 'POST',
      body: JSON.stringify({ parts }),
    });
    expect(complete.status).toBe(200);
    await expectReadyBigFile(start.id);
    expect((await fetch(`${api.url}/dicom/${start.id}`, { method: 'DELETE' })).status).toBe(200);
    expect(await storedKeys(start.id)).toEqual([]);
  });
});

describe('a file that is not DICOM through the large-file route', () => {
  it('ends FAILED with the reason, and none of its bytes stay stored', async () => {
    const pdf = new TextEncoder().encode('%PDF-1.7\n%\u00e2\u00e3\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n');
    const start = await startUpload({ filename: 'report.pdf', size_bytes: pdf.length });
    expect((await fetch(start.upload_url!, { method: 'PUT', body: pdf, headers: start.upload_headers })).status).toBe(
      200,
    );
    const failed = await settled(start.id);
    expect(failed.status).toBe('FAILED');
    expect(failed.error).toMatch(/not a DICOM file/);
    await api.processorIdle();
    expect(await storedKeys(start.id)).toEqual([]);
    for (const read of ['/png', '/attributes', '/file']) {
      const response = await fetch(`${api.url}/dicom/${start.id}${read}`);
      expect(response.status, read).toBe(422);
      expect(((await response.json()) as { error: string }).error).toMatch(/not a DICOM file/);
    }
    const listing = (await (await fetch(`${api.url}/dicom`)).json()) as { files: FileRecord[] };
    expect(listing.files.find((f) => f.id === start.id)).toMatchObject({ status: 'FAILED', error: failed.error });
    const again = await fetch(`${api.url}/dicom/${start.id}/reprocess`, { method: 'POST' });
    expect(again.status).toBe(409);
  });
});

describe('a delete racing the processor leaves nothing behind', () => {
  const medium = multiFrameMono8({ rows: 1024, columns: 1024, frames: 24 });

  async function expectNothingLeft(id: string): Promise<void> {
    await api.processorIdle();
    expect(await record(id)).toBeUndefined();
    expect(await storedKeys(id)).toEqual([]);
  }

  it('delete before the bytes arrive: the late bytes are removed by the processor', async () => {
    const start = await startUpload({ size_bytes: medium.length });
    expect((await fetch(`${api.url}/dicom/${start.id}`, { method: 'DELETE' })).status).toBe(200);
    expect(
      (await fetch(start.upload_url!, { method: 'PUT', body: medium, headers: start.upload_headers })).status,
    ).toBe(200);
    await expectNothingLeft(start.id);
  });

  it('delete the moment the bytes have arrived', async () => {
    const start = await startUpload({ size_bytes: medium.length });
    expect(
      (await fetch(start.upload_url!, { method: 'PUT', body: medium, headers: start.upload_headers })).status,
    ).toBe(200);
    expect((await fetch(`${api.url}/dicom/${start.id}`, { method: 'DELETE' })).status).toBe(200);
    await expectNothingLeft(start.id);
  });

  it('delete while the processor works on the file (its hash is recorded, its PNG not yet)', async () => {
    const start = await startUpload({ size_bytes: medium.length });
    expect(
      (await fetch(start.upload_url!, { method: 'PUT', body: medium, headers: start.upload_headers })).status,
    ).toBe(200);
    // The processor records size and SHA-256 before it parses: from then on it is mid-way.
    const deadline = Date.now() + 30_000;
    while (!(await record(start.id))?.sha256 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
    expect((await fetch(`${api.url}/dicom/${start.id}`, { method: 'DELETE' })).status).toBe(200);
    await expectNothingLeft(start.id);
  });
});

describe('reprocess', () => {
  it('POST /dicom/{id}/reprocess rebuilds the attributes, the PNG and the record from the stored original', async () => {
    const upload = await fetch(`${api.url}/dicom`, { method: 'POST', body: uploadForm(sampleCt(), 'ct.dcm') });
    const { id } = (await upload.json()) as { id: string };
    const before = await settled(id);
    expect(before.status).toBe('READY');
    // As after an upgrade that changed what is derived: the old outputs are gone.
    await api.processorIdle();
    const { getStores } = await import('../../lambdas/commons.js');
    await getStores().objects.delete(KEYS.derivedObjects(id));

    const response = await fetch(`${api.url}/dicom/${id}/reprocess`, { method: 'POST' });
    expect(response.status).toBe(202);
    expect(await response.json()).toMatchObject({ id, status: 'PROCESSING' });
    const after = await settled(id);
    expect(after).toMatchObject({ status: 'READY', sha256: before.sha256, schema_version: DERIVED_SCHEMA_VERSION });
    expect(after.modified_at > before.modified_at).toBe(true);
    expect((await fetch(`${api.url}/dicom/${id}/png`)).status).toBe(200);
    expect((await fetch(`${api.url}/dicom/${id}/attributes?tag=PatientName`)).status).toBe(200);
  });

  it('scripts/reprocess-all.ts re-runs every stored file through the same route and reports what it skipped', async () => {
    const summary = await reprocessAll({ apiUrl: api.url, all: true, log: () => {} });
    expect(summary.requested).toBeGreaterThan(0);
    expect(summary.failed).toBe(0);
    await api.processorIdle();
    const listing = (await (await fetch(`${api.url}/dicom`)).json()) as { files: FileRecord[] };
    for (const file of listing.files.filter((f) => f.status !== 'FAILED')) {
      expect(file, file.id).toMatchObject({ status: 'READY', schema_version: DERIVED_SCHEMA_VERSION });
    }
    // Only files below the current schema version by default: none are left.
    expect((await reprocessAll({ apiUrl: api.url, log: () => {} })).requested).toBe(0);
  });
});
