// Drives every endpoint of API.md over HTTP, as curl would: the local runtime, or API_URL's deployed stage.
import { decode } from 'fast-png';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEYS, MAX_UPLOAD_BODY_BYTES } from '../../lambdas/config.js';
import { getStores } from '../../lambdas/commons.js';
import { processDicom } from '../../lambdas/dicom/process.js';
import {
  buildDicom,
  buildEncapsulatedDicom,
  framesWithValues,
  imageElements,
  patientElements,
  sampleCt,
  TS,
  pixelModuleElements,
} from '../fixtures/dicom-builder.js';
import { uploadForm } from '../support/runtime.js';
import { isRemote, startTarget, type ApiTarget } from '../support/target.js';

let api: ApiTarget;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

async function upload(bytes: Uint8Array, filename = 'sample.dcm'): Promise<Response> {
  const response = await api.fetch('/dicom', { method: 'POST', body: uploadForm(bytes, filename) });
  if (response.status === 201) api.track(((await response.clone().json()) as { id: string }).id);
  return response;
}

async function uploadOk(bytes: Uint8Array, filename = 'sample.dcm'): Promise<string> {
  const response = await upload(bytes, filename);
  expect(response.status).toBe(201);
  return ((await response.json()) as { id: string }).id;
}

async function errorOf(response: Response): Promise<{ error: string; code: string }> {
  expect(response.headers.get('content-type')).toMatch(/application\/json/);
  const body = (await response.json()) as { error: string; code: string };
  expect(typeof body.error).toBe('string');
  expect(typeof body.code).toBe('string');
  return body;
}

beforeAll(async () => {
  api = await startTarget();
});
afterAll(async () => {
  await api?.close();
});

describe('upload then read, as a script would', () => {
  const ct = sampleCt();
  let id: string;

  it('POST /dicom answers 201 with a fresh UUID, the filename and the message', async () => {
    const response = await upload(ct, 'head ct.dcm');
    expect(response.status).toBe(201);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toEqual({
      id: expect.stringMatching(UUID),
      filename: 'head ct.dcm',
      message: 'DICOM file uploaded successfully',
    });
    id = body.id as string;
  });

  it('GET /png right after the upload returns the rendered image without a retry loop', async () => {
    const response = await api.fetch(`/dicom/${id}/png`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/png');
    const png = decode(new Uint8Array(await response.arrayBuffer()));
    expect([png.width, png.height, png.channels, png.depth]).toEqual([16, 16, 1, 8]);
    // Stored value v -> HU v-1024; window 40/400 spans -160..240 HU, i.e. stored 864..1264.
    // Pixel 0 (stored 0) is below the window: black. The last pixel (stored 2040) is above: white.
    expect(png.data[0]).toBe(0);
    expect(png.data[255]).toBe(255);
    // Stored 1064 = 40 HU = the window centre: mid grey.
    const mid = png.data[1064 / 8]!;
    expect(mid).toBeGreaterThanOrEqual(126);
    expect(mid).toBeLessThanOrEqual(129);
  });

  it('the PNG carries an ETag and a revalidation with If-None-Match is a 304 without a body', async () => {
    const first = await api.fetch(`/dicom/${id}/png`);
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^".+"$/);
    expect(first.headers.get('cache-control')).toMatch(/max-age=\d+/);
    const again = await api.fetch(`/dicom/${id}/png`, { headers: { 'If-None-Match': etag! } });
    expect(again.status).toBe(304);
    expect((await again.arrayBuffer()).byteLength).toBe(0);
    const other = await api.fetch(`/dicom/${id}/png`, { headers: { 'If-None-Match': '"something-else"' } });
    expect(other.status).toBe(200);
  });

  it('GET /dicom/{id} returns the file record with exact size, timestamps and dicom_info', async () => {
    const response = await api.fetch(`/dicom/${id}`);
    expect(response.status).toBe(200);
    const record = (await response.json()) as Record<string, unknown>;
    expect(record).toMatchObject({
      id,
      filename: 'head ct.dcm',
      size_bytes: ct.length,
      status: 'READY',
      dicom_info: {
        PatientName: 'DOE^JOHN',
        PatientID: '12345',
        StudyDate: '20231215',
        StudyDescription: 'CT HEAD',
        Modality: 'CT',
        ImageDimensions: { rows: 16, columns: 16 },
      },
    });
    expect(record.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(record.modified_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('GET /attributes and WADO-RS metadata answer the documents the processor made, byte for byte', async () => {
    // A file with the UIDs a WADO-RS URL names (unique per run: a deployed target keeps its files).
    const study = `1.2.826.0.1.3680043.8.498.${Date.now()}`;
    const bytes = buildDicom(
      [
        ...patientElements({ modality: 'CT' }),
        { tag: 0x0020000d, vr: 'UI', value: study },
        { tag: 0x0020000e, vr: 'UI', value: `${study}.1` },
        ...imageElements({ rows: 4, columns: 4, pixels: new Array(16).fill(7) }),
      ],
      { sopInstanceUid: `${study}.1.1` },
    );
    const fileId = await uploadOk(bytes, 'uids.dcm');
    const made = await processDicom(bytes);
    const attributes = await api.fetch(`/dicom/${fileId}/attributes`);
    expect(attributes.status).toBe(200);
    expect(Buffer.from(await attributes.arrayBuffer()).equals(Buffer.from(made.attributesJson))).toBe(true);
    const instance = `/studies/${study}/series/${study}.1/instances/${study}.1.1`;
    const metadata = await api.fetch(`/dicomweb${instance}/metadata`, {
      headers: { Accept: 'application/dicom+json' },
    });
    expect(metadata.status).toBe(200);
    const text = await metadata.text();
    const root = /"BulkDataURI":"([^"]*)\/studies\//.exec(text)?.[1];
    expect(root).toMatch(/\/dicomweb$/);
    const absolute = `"BulkDataURI":"${root}${instance}/bulkdata/`;
    const dicomJson = Buffer.from(made.metadataJson).toString('utf8');
    expect(text).toBe(`[${dicomJson.replaceAll('"BulkDataURI":"bulkdata/', absolute)}]`);
  });

  it('GET /attributes returns every top-level element keyed GGGG,EEEE with names from the dictionary', async () => {
    const response = await api.fetch(`/dicom/${id}/attributes`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { count: number; attributes: Record<string, Record<string, unknown>> };
    expect(body.count).toBe(Object.keys(body.attributes).length);
    expect(body.attributes['0010,0010']).toEqual({
      name: "Patient's Name",
      vr: 'PN',
      keyword: 'PatientName',
      value: 'DOE^JOHN',
    });
    expect(body.attributes['0028,0010']).toMatchObject({ vr: 'US', keyword: 'Rows', value: 16 });
    expect(body.attributes['0028,1052']).toMatchObject({ keyword: 'RescaleIntercept', value: -1024 });
    expect(body.attributes['7FE0,0010']).toMatchObject({ keyword: 'PixelData', value: null, length: 512 });
  });

  it.each(['0010,0010', '(0010,0010)', '00100010', '(0010,0010)'.toLowerCase(), 'PatientName'])(
    'GET /attributes?tag=%s returns the one attribute',
    async (tag) => {
      const response = await api.fetch(`/dicom/${id}/attributes?tag=${encodeURIComponent(tag)}`);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({
        tag: '0010,0010',
        value: 'DOE^JOHN',
        name: "Patient's Name",
        vr: 'PN',
        keyword: 'PatientName',
      });
    },
  );

  it('a malformed tag is 400 and a valid tag the file lacks is 404, each saying which', async () => {
    const bad = await api.fetch(`/dicom/${id}/attributes?tag=0010-0010x`);
    expect(bad.status).toBe(400);
    expect((await errorOf(bad)).error).toMatch(/tag/i);
    const missing = await api.fetch(`/dicom/${id}/attributes?tag=PatientAge`);
    expect(missing.status).toBe(404);
    expect((await errorOf(missing)).error).toMatch(/0010,1010/);
  });

  it('GET /dicom lists the file, newest first, count equal to the records', async () => {
    const second = await uploadOk(sampleCt({ sopInstanceUid: '1.2.3.4.5' }), 'second.dcm');
    const response = await api.fetch(`/dicom`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { count: number; files: { id: string }[] };
    expect(body.count).toBe(body.files.length);
    const ids = body.files.map((f) => f.id);
    expect(ids.indexOf(second)).toBeLessThan(ids.indexOf(id));
    expect(ids).toContain(id);
  });

  it('DELETE removes the record, the DICOM, the PNG and the attributes; every read is then 404', async () => {
    const response = await api.fetch(`/dicom/${id}`, { method: 'DELETE' });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ message: 'DICOM file deleted successfully' });
    for (const path of ['', '/attributes', '/png', '/attributes?tag=PatientName']) {
      const read = await api.fetch(`/dicom/${id}${path}`);
      expect(read.status, path).toBe(404);
      await errorOf(read);
    }
    const again = await api.fetch(`/dicom/${id}`, { method: 'DELETE' });
    expect(again.status).toBe(404);
    if (api.local) {
      const { objects } = getStores();
      for (const key of KEYS.allObjects(id)) expect(await objects.get(key), key).toBeUndefined();
    }
    const listed = (await (await api.fetch(`/dicom`)).json()) as { files: { id: string }[] };
    expect(listed.files.map((f) => f.id)).not.toContain(id);
  });
});

describe('bad requests get a clear 4xx JSON error and store nothing', () => {
  async function fileCount(): Promise<number> {
    return ((await (await api.fetch(`/dicom`)).json()) as { count: number }).count;
  }

  it.each([
    ['a missing file field', () => uploadForm(sampleCt(), 'a.dcm', 'other'), 'MISSING_FILE'],
    ['an empty file', () => uploadForm(new Uint8Array(0)), 'EMPTY_FILE'],
    [
      'a PDF named .dcm',
      () => uploadForm(new TextEncoder().encode('%PDF-1.4\n1 0 obj << >> endobj\n%%EOF\n')),
      'NOT_DICOM',
    ],
    ['random bytes', () => uploadForm(new Uint8Array(4096).map((_, i) => (i * 7919) % 251)), 'NOT_DICOM'],
  ])('%s -> 400', async (_name, form, code) => {
    const before = await fileCount();
    const response = await api.fetch(`/dicom`, { method: 'POST', body: form() });
    expect(response.status).toBe(400);
    expect((await errorOf(response)).code).toBe(code);
    expect(await fileCount()).toBe(before);
  });

  it('a body that is not multipart -> 400', async () => {
    const response = await api.fetch(`/dicom`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"file": "x"}',
    });
    expect(response.status).toBe(400);
    expect((await errorOf(response)).error).toMatch(/multipart/);
  });

  it('a file above the Lambda request limit -> 413 naming the large-file route', async () => {
    const before = await fileCount();
    const big = new Uint8Array(MAX_UPLOAD_BODY_BYTES + 1000);
    const response = await api.fetch(`/dicom`, { method: 'POST', body: uploadForm(big) });
    expect(response.status).toBe(413);
    expect((await errorOf(response)).error).toMatch(/POST \/dicom\/uploads/);
    expect(await fileCount()).toBe(before);
  });

  it('ids that are not UUIDs, unknown UUIDs and unknown routes are 404 JSON', async () => {
    for (const path of ['/dicom/not-a-uuid', '/dicom/00000000-0000-4000-8000-000000000000/png', '/nothing/here']) {
      const response = await api.fetch(`${path}`);
      expect(response.status, path).toBe(404);
      await errorOf(response);
    }
  });

  it('an unknown query parameter on the listing -> 400', async () => {
    const response = await api.fetch(`/dicom?colour=blue`);
    expect(response.status).toBe(400);
    expect((await errorOf(response)).error).toMatch(/colour/);
  });
});

describe('objects without a renderable image', () => {
  it('an SR-like object without pixel data: attributes work, /png is 404 "this DICOM object has no image"', async () => {
    const sr = buildDicom([...patientElements({ modality: 'SR' }), { tag: 0x0040a040, vr: 'CS', value: 'CONTAINER' }], {
      sopClassUid: '1.2.840.10008.5.1.4.1.1.88.22',
    });
    const id = await uploadOk(sr, 'report.dcm');
    const png = await api.fetch(`/dicom/${id}/png`);
    expect(png.status).toBe(404);
    expect((await errorOf(png)).error).toBe('this DICOM object has no image');
    const record = (await (await api.fetch(`/dicom/${id}`)).json()) as {
      dicom_info: { ImageDimensions: unknown };
    };
    expect(record.dicom_info.ImageDimensions).toBeNull();
    const attributes = await api.fetch(`/dicom/${id}/attributes?tag=0040,A040`);
    expect(((await attributes.json()) as { value: string }).value).toBe('CONTAINER');
  });

  it('pixel data that cannot be decoded: /png is 422 with the reason, attributes still served', async () => {
    // A JPEG Baseline file whose single fragment is not a JPEG stream.
    const fragment = new Uint8Array([0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3]);
    const file = buildEncapsulatedDicom(
      [...patientElements({ modality: 'US' }), ...pixelModuleElements({ rows: 2, columns: 2 })],
      [[fragment]],
      { transferSyntax: TS.jpegBaseline },
    );
    const id = await uploadOk(file, 'broken.dcm');
    const png = await api.fetch(`/dicom/${id}/png`);
    expect(png.status).toBe(422);
    expect((await errorOf(png)).error.length).toBeGreaterThan(10);
    const attributes = await api.fetch(`/dicom/${id}/attributes?tag=Modality`);
    expect(attributes.status).toBe(200);
    // It has an image, but no thumbnail to offer: a list page would only get the 422 again.
    expect(await (await api.fetch(`/dicom/${id}`)).json()).toMatchObject({
      has_image: true,
      png: `/dicom/${id}/png`,
      thumbnail: null,
    });
  });
});

describe('frames, windows and sizes on demand', () => {
  it('?frame=, ?window= and ?max= as curl sends them; each has its own ETag; DELETE removes the cached ones', async () => {
    const values = [30, 90, 150, 210];
    const id = await uploadOk(framesWithValues({ rows: 300, columns: 400, values, encoding: 'rle' }), 'cine.dcm');
    const record = (await (await api.fetch(`/dicom/${id}`)).json()) as { number_of_frames: number; thumbnail: string };
    expect(record).toMatchObject({ number_of_frames: 4, thumbnail: `/dicom/${id}/png?max=256` });
    const etags = new Set<string>();
    for (const [query, size, value] of [
      ['', [400, 300], values[0]],
      ['?frame=3', [400, 300], values[2]],
      ['?frame=4&max=100', [100, 75], values[3]],
      ['?max=256', [256, 192], values[0]],
    ] as const) {
      const response = await api.fetch(`/dicom/${id}/png${query}`);
      expect(response.status, query).toBe(200);
      etags.add(response.headers.get('etag')!);
      const png = decode(new Uint8Array(await response.arrayBuffer()));
      expect([png.width, png.height], query).toEqual(size);
      expect([...new Set(png.data)], query).toEqual([value]);
    }
    expect(etags.size).toBe(4);
    const windowed = await api.fetch(`/dicom/${id}/png?frame=2&window=90,2`);
    expect(new Set(decode(new Uint8Array(await windowed.arrayBuffer())).data)).toEqual(new Set([255]));
    for (const bad of ['frame=5', 'frame=0', 'window=90', 'max=0', 'size=1x', 'colour=red']) {
      const response = await api.fetch(`/dicom/${id}/png?${bad}`);
      expect(response.status, bad).toBe(400);
      expect((await errorOf(response)).error, bad).toContain(bad.split('=')[0]);
    }
    expect((await api.fetch(`/dicom/${id}`, { method: 'DELETE' })).status).toBe(200);
    if (api.local) expect(await getStores().objects.listKeys(KEYS.derivedFolder(id))).toEqual([]);
    expect((await api.fetch(`/dicom/${id}/png?frame=3`)).status).toBe(404);
  });
});

describe('restart', () => {
  it.skipIf(isRemote)('a restarted runtime on the same data folder still serves the record and its PNG', async () => {
    const id = await uploadOk(sampleCt(), 'keep.dcm');
    expect((await api.fetch(`/dicom/${id}/png`)).status).toBe(200);
    const dataDir = api.local!.dataDir;
    await api.local!.close();
    const { startTestRuntime } = await import('../support/runtime.js');
    const restarted = await startTestRuntime(dataDir);
    api.local = restarted;
    api.url = restarted.url;
    const record = await api.fetch(`/dicom/${id}`);
    expect(record.status).toBe(200);
    expect(((await record.json()) as { filename: string }).filename).toBe('keep.dcm');
    const png = await api.fetch(`/dicom/${id}/png`);
    expect(png.status).toBe(200);
  });
});
