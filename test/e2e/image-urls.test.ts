// GET /dicom/image-urls end to end on the local runtime: presigned URLs that point at the embedded S3 (as deployed
// they point at the bucket), fetched byte for byte against GET /dicom/{id}/png; every file's state reported per id;
// malformed requests refused whole with their codes; the URLs' lifetime.
import { decode } from 'fast-png';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DOWNLOAD_URL_SECONDS, THUMBNAIL_MAX_PIXELS } from '../../lambdas/config.js';
import type { ImageUrls } from '../../lambdas/handlers/imageUrls.js';
import { buildDicom, patientElements, sampleCt } from '../fixtures/dicom-builder.js';
import { startTestRuntime, uploadForm, type TestRuntime } from '../support/runtime.js';

interface Answer {
  expires_at: string;
  expires_in: number;
  images: ImageUrls[];
}

let api: TestRuntime;
/** A 300 x 300 CT (larger than the thumbnail box: it has a thumbnail of its own) and a 16 x 16 one (its own). */
let large: string;
let small: string;
/** A DICOM file without pixel data, a file whose bytes never came, one that is not DICOM. */
let noImage: string;
let awaited: string;
let failed: string;
const unknown = '00000000-0000-4000-8000-000000000000';

async function upload(bytes: Uint8Array): Promise<string> {
  const response = await fetch(`${api.url}/dicom`, { method: 'POST', body: uploadForm(bytes) });
  expect(response.status, await response.clone().text()).toBe(201);
  return ((await response.json()) as { id: string }).id;
}

/** Polls the record until processing has ended (a deadline, not a sleep). */
async function settled(id: string): Promise<string> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const record = (await (await fetch(`${api.url}/dicom/${id}`)).json()) as { status: string };
    if (record.status !== 'PROCESSING') return record.status;
    if (Date.now() > deadline) throw new Error(`${id} still processing`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A large upload started: with `bytes` they are PUT to its URL, without it the record waits for them. */
async function directUpload(bytes?: Uint8Array): Promise<string> {
  const started = await fetch(`${api.url}/dicom/uploads`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ size_bytes: bytes?.length ?? 1000 }),
  });
  expect(started.status).toBe(201);
  const plan = (await started.json()) as { id: string; upload_url: string; upload_headers: Record<string, string> };
  if (bytes) {
    const put = await fetch(plan.upload_url, { method: 'PUT', body: bytes, headers: plan.upload_headers });
    expect(put.status).toBe(200);
  }
  return plan.id;
}

async function imageUrls(query: string): Promise<{ status: number; body: Record<string, any> }> {
  const response = await fetch(`${api.url}/dicom/image-urls?${query}`);
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

async function bytesOf(url: string): Promise<Buffer> {
  const response = await fetch(url);
  expect(response.status, url).toBe(200);
  expect(response.headers.get('content-type')).toBe('image/png');
  return Buffer.from(await response.arrayBuffer());
}

beforeAll(async () => {
  api = await startTestRuntime();
  large = await upload(sampleCt({ rows: 300, columns: 300 }));
  small = await upload(sampleCt());
  noImage = await upload(buildDicom(patientElements({ modality: 'SR' })));
  awaited = await directUpload();
  failed = await directUpload(new TextEncoder().encode('not a DICOM file at all'));
  for (const id of [large, small, noImage]) expect(await settled(id)).toBe('READY');
  expect(await settled(failed)).toBe('FAILED');
}, 60_000);
afterAll(async () => {
  await api?.destroy();
});

describe('GET /dicom/image-urls', () => {
  it('hands out URLs of the embedded S3 whose bytes are those GET /dicom/{id}/png serves', async () => {
    const { status, body } = await imageUrls(`ids=${large},${small}`);
    expect(status).toBe(200);
    const answer = body as Answer;
    expect(answer.images.map((image) => [image.id, image.ready])).toEqual([
      [large, true],
      [small, true],
    ]);
    const [big, little] = answer.images as [ImageUrls, ImageUrls];
    // Straight to the bucket, not through the API.
    const s3 = new URL(big.png_url!);
    expect(s3.origin).not.toBe(new URL(api.url).origin);
    expect(s3.pathname).toContain(big.id);

    const viaApi = async (id: string, query = '') =>
      Buffer.from(await (await fetch(`${api.url}/dicom/${id}/png${query}`)).arrayBuffer());
    expect((await bytesOf(big.png_url!)).equals(await viaApi(large))).toBe(true);
    expect((await bytesOf(little.png_url!)).equals(await viaApi(small))).toBe(true);
    expect([big.width, big.height, little.width, little.height]).toEqual([300, 300, 16, 16]);

    // The large image's thumbnail is its own object, fitted into the box, the bytes of GET /png?max=256.
    expect(big.thumbnail_url).not.toBe(big.png_url);
    const thumbnail = await bytesOf(big.thumbnail_url!);
    expect(thumbnail.equals(await viaApi(large, `?max=${THUMBNAIL_MAX_PIXELS}`))).toBe(true);
    const decoded = decode(thumbnail);
    expect(Math.max(decoded.width, decoded.height)).toBe(THUMBNAIL_MAX_PIXELS);
    // The small image is its own thumbnail: the same URL, always readable.
    expect(little.thumbnail_url).toBe(little.png_url);
  });

  it("reports each file's state in the order asked, repeated ids once, without failing the batch", async () => {
    const ids = [small, unknown, awaited, failed, noImage, small.toUpperCase()];
    const { status, body } = await imageUrls(`ids=${ids.join(',')}`);
    expect(status).toBe(200);
    const states = (body as Answer).images.map(({ id, ready, code, png_url, thumbnail_url }) => ({
      id,
      ready,
      code,
      urls: [png_url, thumbnail_url].filter(Boolean).length,
    }));
    expect(states).toEqual([
      { id: small, ready: true, code: undefined, urls: 2 },
      { id: unknown, ready: false, code: 'FILE_NOT_FOUND', urls: 0 },
      { id: awaited, ready: false, code: 'PROCESSING', urls: 0 },
      { id: failed, ready: false, code: 'PROCESSING_FAILED', urls: 0 },
      { id: noImage, ready: false, code: 'NO_IMAGE', urls: 0 },
    ]);
    for (const image of (body as Answer).images.filter((i) => !i.ready)) {
      expect(image.error, image.code).toEqual(expect.any(String));
    }
  });

  it('refuses a malformed request whole: no ids, a non-UUID, more than 100 ids, a second ids', async () => {
    const many = Array.from({ length: 101 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    const cases: [string, string][] = [
      ['', 'MISSING_IDS'],
      ['ids=', 'MISSING_IDS'],
      ['ids=,%20,', 'MISSING_IDS'],
      [`ids=${small},not-a-uuid`, 'INVALID_ID'],
      [`ids=${many.join(',')}`, 'TOO_MANY_IDS'],
      [`ids=${small}&ids=${large}`, 'BAD_QUERY'],
      [`ids=${small}&max=4`, 'BAD_QUERY'],
    ];
    for (const [query, code] of cases) {
      const { status, body } = await imageUrls(query);
      expect([status, body.code], query.slice(0, 80)).toEqual([400, code]);
      expect(body.error).toEqual(expect.any(String));
      // Values are never echoed back.
      expect(body.error).not.toContain('not-a-uuid');
    }
    // Exactly 100 distinct ids is allowed (each unknown here).
    const hundred = await imageUrls(`ids=${many.slice(0, 100).join(',')}`);
    expect(hundred.status).toBe(200);
    expect((hundred.body as Answer).images.every((image) => image.code === 'FILE_NOT_FOUND')).toBe(true);
  });

  it('signs URLs valid for DOWNLOAD_URL_SECONDS from now and says until when', async () => {
    const before = Date.now();
    const { body } = await imageUrls(`ids=${small}`);
    const answer = body as Answer;
    expect(answer.expires_in).toBe(DOWNLOAD_URL_SECONDS);
    const expiresAt = Date.parse(answer.expires_at);
    expect(expiresAt).toBeGreaterThanOrEqual(before + DOWNLOAD_URL_SECONDS * 1000 - 1000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + DOWNLOAD_URL_SECONDS * 1000);
    const url = new URL(answer.images[0]!.png_url!);
    expect(url.searchParams.get('X-Amz-Expires')).toBe(String(DOWNLOAD_URL_SECONDS));
    // X-Amz-Date (signing time, YYYYMMDDTHHMMSSZ) plus X-Amz-Expires is the instant the answer names, to the second.
    const signed = url.searchParams
      .get('X-Amz-Date')!
      .replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, '$1-$2-$3T$4:$5:$6Z');
    expect(Math.abs(Date.parse(signed) + DOWNLOAD_URL_SECONDS * 1000 - expiresAt)).toBeLessThan(2000);
  });

  it('a URL works until its lifetime is over, then the bucket refuses it', async () => {
    // The handlers run in this process: URLs signed with the clock set back are as old as that, once it is restored.
    const signedAgo = async (seconds: number): Promise<string> => {
      vi.useFakeTimers({ toFake: ['Date'], now: Date.now() - seconds * 1000 });
      try {
        return ((await imageUrls(`ids=${small}`)).body as Answer).images[0]!.png_url!;
      } finally {
        vi.useRealTimers();
      }
    };
    const almost = await signedAgo(DOWNLOAD_URL_SECONDS - 30);
    const expired = await signedAgo(DOWNLOAD_URL_SECONDS + 5);
    expect((await fetch(almost)).status).toBe(200);
    const refused = await fetch(expired);
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('expired');
  });

  it('a deleted file is no longer found, and its URLs stop serving it', async () => {
    const id = await upload(sampleCt({ rows: 8, columns: 8 }));
    expect(await settled(id)).toBe('READY');
    const url = ((await imageUrls(`ids=${id}`)).body as Answer).images[0]!.png_url!;
    expect((await fetch(url)).status).toBe(200);
    expect((await fetch(`${api.url}/dicom/${id}`, { method: 'DELETE' })).status).toBe(200);
    expect(((await imageUrls(`ids=${id}`)).body as Answer).images[0]!.code).toBe('FILE_NOT_FOUND');
    expect((await fetch(url)).status).toBe(404);
  });
});
