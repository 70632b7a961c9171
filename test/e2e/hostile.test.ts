// Hostile input, bursts and log hygiene over HTTP against the local runtime (it inspects storage and
// captures logs, so it runs only locally; API_URL skips it).
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mutate, random, seedFiles } from '../fuzz/mutations.js';
import { buildDicom, imageElements, patientElements, sampleCt } from '../fixtures/dicom-builder.js';
import type { TestRuntime } from '../support/runtime.js';

// Logs are captured at INFO, as deployed; set before the runtime (and its logger) is imported.
process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
const { startTestRuntime, uploadForm } = await import('../support/runtime.js');
const { isRemote } = await import('../support/target.js');

let api: TestRuntime;
const captured: string[] = [];
const originalStdout = process.stdout.write.bind(process.stdout);
const originalStderr = process.stderr.write.bind(process.stderr);

beforeAll(async () => {
  // Kept, not echoed: thousands of INFO lines would drown the test report.
  const capture = (chunk: string | Uint8Array): boolean => {
    captured.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  };
  process.stdout.write = capture as typeof process.stdout.write;
  process.stderr.write = capture as typeof process.stderr.write;
  if (!isRemote) api = await startTestRuntime();
});
afterAll(async () => {
  process.stdout.write = originalStdout;
  process.stderr.write = originalStderr;
  await api?.destroy();
});

interface Listing {
  count: number;
  files: { id: string; status: string; filename: string }[];
}

async function listing(): Promise<Listing> {
  // GET /dicom pages (100 by default): one page of 1,000 holds every file these tests make.
  return (await (await fetch(`${api.url}/dicom?limit=1000`)).json()) as Listing;
}

async function waitUntilSettled(): Promise<Listing> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    await api.processorIdle();
    const list = await listing();
    if (list.files.every((f) => f.status !== 'PROCESSING') || Date.now() > deadline) return list;
  }
}

describe.skipIf(isRemote)('mutated uploads over HTTP', () => {
  it('150 fuzzed files: never a 5xx, and only accepted uploads are stored', async () => {
    const seeds = seedFiles();
    const statuses: Record<number, number> = {};
    const accepted = new Set<string>();
    for (let seed = 1; seed <= 150; seed++) {
      const rand = random(seed * 7919);
      const { bytes } = mutate(seeds[seed % seeds.length]!, rand);
      const response = await fetch(`${api.url}/dicom`, { method: 'POST', body: uploadForm(bytes, `fuzz-${seed}.dcm`) });
      statuses[response.status] = (statuses[response.status] ?? 0) + 1;
      expect(response.status, `seed ${seed}`).toBeLessThan(500);
      const body = (await response.json()) as { id?: string; error?: string };
      if (response.status === 201) accepted.add(body.id!);
      else expect(body.error, `seed ${seed}`).toBeTruthy();
    }
    expect(Object.keys(statuses).sort()).toEqual(['201', '400']);
    const list = await waitUntilSettled();
    expect(new Set(list.files.map((f) => f.id))).toEqual(accepted);
    for (const id of accepted) {
      for (const path of ['/png', '/attributes']) {
        const read = await fetch(`${api.url}/dicom/${id}${path}`);
        expect(read.status, `${id}${path}`).toBeLessThan(500);
      }
    }
    for (const id of accepted) expect((await fetch(`${api.url}/dicom/${id}`, { method: 'DELETE' })).status).toBe(200);
  });
});

describe.skipIf(isRemote)('multipart edge cases', () => {
  async function post(body: FormData | string, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(`${api.url}/dicom`, { method: 'POST', body, headers });
  }

  it('no boundary, garbage parts, and huge part headers are 400s with a reason', async () => {
    for (const [body, contentType] of [
      ['--x\r\n\r\n', 'multipart/form-data'],
      ['not multipart at all', 'multipart/form-data; boundary=zzz'],
      [
        `--b\r\nContent-Disposition: form-data; name="file"; filename="a.dcm"\r\nX-Pad: ${'a'.repeat(200_000)}\r\n\r\nDICM\r\n--b--\r\n`,
        'multipart/form-data; boundary=b',
      ],
    ] as const) {
      const response = await post(body, { 'Content-Type': contentType });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: string }).error.length).toBeGreaterThan(5);
    }
  });

  it('a filename with path separators, control characters and 10 KB of text is stored sanitised', async () => {
    const nasty = `../..\\evil/\u0001\u001b[31m${'x'.repeat(10_000)}.dcm`;
    const response = await post(uploadForm(sampleCt(), nasty));
    expect(response.status).toBe(201);
    const { id, filename } = (await response.json()) as { id: string; filename: string };
    expect(filename).not.toMatch(/[/\\\u0000-\u001f]/);
    expect(filename.length).toBeLessThanOrEqual(255);
    const record = (await (await fetch(`${api.url}/dicom/${id}`)).json()) as { filename: string };
    expect(record.filename).toBe(filename);
    await fetch(`${api.url}/dicom/${id}`, { method: 'DELETE' });
  });
});

describe.skipIf(isRemote)('a burst of uploads', () => {
  it('200 parallel uploads -> 200 READY records listed once each; deleting all leaves bucket and table empty', async () => {
    const files = Array.from({ length: 200 }, (_, i) =>
      buildDicom(
        [
          ...patientElements({ id: `BURST${i}` }),
          ...imageElements({ rows: 4, columns: 4, pixels: new Array(16).fill(i) }),
        ],
        {
          sopInstanceUid: `1.2.826.0.1.3680043.8.498.${i + 100}`,
        },
      ),
    );
    const responses = await Promise.all(
      files.map((bytes, i) => fetch(`${api.url}/dicom`, { method: 'POST', body: uploadForm(bytes, `burst-${i}.dcm`) })),
    );
    expect(responses.map((r) => r.status)).toEqual(new Array(200).fill(201));
    const ids = await Promise.all(responses.map(async (r) => ((await r.json()) as { id: string }).id));
    const list = await waitUntilSettled();
    const listed = list.files.map((f) => f.id).filter((id) => ids.includes(id));
    expect(listed).toHaveLength(200);
    expect(new Set(listed).size).toBe(200);
    expect(list.files.filter((f) => ids.includes(f.id)).every((f) => f.status === 'READY')).toBe(true);

    const deletes = await Promise.all(ids.map((id) => fetch(`${api.url}/dicom/${id}`, { method: 'DELETE' })));
    expect(deletes.every((r) => r.status === 200)).toBe(true);
    await api.processorIdle();
    expect((await listing()).count).toBe(0);
    const s3 = new S3Client({ forcePathStyle: true, region: 'us-east-1' });
    const objects = await s3.send(new ListObjectsV2Command({ Bucket: process.env.BUCKET_NAME! }));
    s3.destroy();
    expect(objects.KeyCount ?? 0).toBe(0);
  });
});

describe.skipIf(isRemote)('logs', () => {
  it('never contain the patient names, IDs or other attribute values of uploaded files', async () => {
    const secrets = { name: 'ZZSECRET^PATIENTNAME', id: 'ZZSECRETID4711', description: 'ZZSECRETSTUDY' };
    const file = buildDicom([
      ...patientElements({ name: secrets.name, id: secrets.id, description: secrets.description }),
      ...imageElements({ rows: 4, columns: 4, pixels: new Array(16).fill(7) }),
    ]);
    const { id } = (await (
      await fetch(`${api.url}/dicom`, { method: 'POST', body: uploadForm(file, 'secret.dcm') })
    ).json()) as { id: string };
    expect((await fetch(`${api.url}/dicom/${id}/png`)).status).toBe(200);
    await fetch(`${api.url}/dicom/${id}/attributes?tag=PatientName`);
    await fetch(`${api.url}/dicom/${id}`, { method: 'DELETE' });
    await api.processorIdle();
    const logs = captured.join('');
    expect(logs).toMatch(/"route":"upload"/); // the capture works: request logs are there
    for (const secret of Object.values(secrets)) expect(logs).not.toContain(secret);
  });
});
