// A frame larger than one Lambda answer (a big uncompressed radiograph) still reaches a DICOMweb viewer: the frames
// answer is written once under answers/ and the client follows a short-lived redirect to it (local runtime).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getStores } from '../../lambdas/commons.js';
import { KEYS } from '../../lambdas/config.js';
import { buildDicom, imageElements, patientElements } from '../fixtures/dicom-builder.js';
import { parseMultipartRelated, uniqueUidRoot } from '../support/dicomweb.js';
import { startTestRuntime, type TestRuntime } from '../support/runtime.js';
import { isRemote } from '../support/target.js';

const ROWS = 1700;
const COLUMNS = 1600; // 16-bit: 5.4 MB of pixels, above the 4.3 MB one answer carries

describe.skipIf(isRemote)('frames larger than one answer', () => {
  let api: TestRuntime;
  const root = uniqueUidRoot();
  const uids = { study: `${root}.1`, series: `${root}.1.1`, sop: `${root}.1.1.1` };
  let pixels: Uint16Array;

  beforeAll(async () => {
    api = await startTestRuntime();
    pixels = new Uint16Array(ROWS * COLUMNS);
    for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 7) % 4096;
    const bytes = buildDicom([
      ...patientElements({ modality: 'CR' }),
      { tag: 0x0020000d, vr: 'UI', value: uids.study },
      { tag: 0x0020000e, vr: 'UI', value: uids.series },
      { tag: 0x00080018, vr: 'UI', value: uids.sop },
      ...imageElements({ rows: ROWS, columns: COLUMNS, pixels: Array.from(pixels) }),
    ]);
    // Too large for POST /dicom: the large-file route, as a client would.
    const started = await fetch(`${api.url}/dicom/uploads`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ filename: 'large-cr.dcm', size_bytes: bytes.length, multipart: false }),
    });
    expect(started.status).toBe(201);
    const upload = (await started.json()) as { upload_url: string; upload_headers?: Record<string, string> };
    expect(
      (await fetch(upload.upload_url, { method: 'PUT', body: bytes, headers: upload.upload_headers })).status,
    ).toBe(200);
    await api.processorIdle();
  }, 60_000);
  afterAll(async () => {
    await api?.destroy();
  });

  it('redirects to the frames answer written once; its part is the stored pixels', async () => {
    const path = `/dicomweb/studies/${uids.study}/series/${uids.series}/instances/${uids.sop}/frames/1`;
    const accept = { Accept: 'multipart/related; type="application/octet-stream"; transfer-syntax=*' };
    const first = await fetch(`${api.url}${path}`, { headers: accept, redirect: 'manual' });
    expect(first.status).toBe(302);
    const location = first.headers.get('location')!;
    const answers = await getStores().objects.listKeys(KEYS.answerPrefix);
    expect(answers.filter((key) => key.includes('frames-'))).toHaveLength(1);

    const followed = await fetch(location);
    expect(followed.status).toBe(200);
    const parts = parseMultipartRelated(
      followed.headers.get('content-type'),
      new Uint8Array(await followed.arrayBuffer()),
    );
    expect(parts).toHaveLength(1);
    expect(parts[0]!.headers['content-type']).toBe('application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1');
    const expected = Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength);
    expect(Buffer.from(parts[0]!.bytes).equals(expected)).toBe(true);

    // Asked again: the kept answer, nothing written anew; fetch follows the redirect as a viewer does.
    const again = await fetch(`${api.url}${path}`, { headers: accept });
    expect(again.status).toBe(200);
    expect(new Uint8Array(await again.arrayBuffer()).length).toBeGreaterThan(expected.length);
    expect(
      (await getStores().objects.listKeys(KEYS.answerPrefix)).filter((key) => key.includes('frames-')),
    ).toHaveLength(1);
  });
});
