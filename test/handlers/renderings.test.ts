// GET /png with frame, window and size parameters against the emulators: rendered, cached, thumbnailed, deleted.
import type { APIGatewayProxyResult } from 'aws-lambda';
import { decode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { getStores } from '../../lambdas/commons.js';
import { KEYS } from '../../lambdas/config.js';
import { encodePng } from '../../lambdas/dicom/png.js';
import { handler as del } from '../../lambdas/handlers/delete.js';
import { handler as get } from '../../lambdas/handlers/get.js';
import { handler as png } from '../../lambdas/handlers/png.js';
import { handler as processor } from '../../lambdas/handlers/processor.js';
import { handler as upload } from '../../lambdas/handlers/upload.js';
import { renderAndCache } from '../../lambdas/ingest/render-on-demand.js';
import { resolveRendering } from '../../lambdas/http/png-query.js';
import { buildDicom, framesWithValues, imageElements, patientElements, sampleCt } from '../fixtures/dicom-builder.js';
import { useEmulatedStorage } from '../support/emulated-storage.js';
import { idEvent, s3Event, uploadEvent } from '../support/events.js';

useEmulatedStorage('renderings');

/** Uploads and processes a file the way S3 would trigger it; returns its id. */
async function stored(bytes: Uint8Array): Promise<string> {
  const response = await upload(await uploadEvent(bytes, 'file.dcm'));
  expect(response.statusCode).toBe(201);
  const id = (JSON.parse(response.body) as { id: string }).id;
  await processor(s3Event(KEYS.upload(id)));
  return id;
}

function pngOf(id: string, query?: Record<string, string>, headers?: Record<string, string>) {
  const event = idEvent('/dicom/{id}/png', id, 'GET', query);
  if (headers) event.headers = headers;
  return png(event);
}

function image(response: APIGatewayProxyResult) {
  expect(response.statusCode, response.body.slice(0, 200)).toBe(200);
  expect(response.headers?.['Content-Type']).toBe('image/png');
  return decode(Buffer.from(response.body, 'base64'));
}

const VALUES = [20, 50, 80, 110, 140, 170];

describe('frames', () => {
  it.each(['native', 'rle'] as const)(
    '%s: ?frame=N renders that frame (each frame has its own value)',
    async (encoding) => {
      const id = await stored(framesWithValues({ rows: 8, columns: 12, values: VALUES, encoding }));
      const record = JSON.parse((await get(idEvent('/dicom/{id}', id))).body) as { number_of_frames: number };
      expect(record.number_of_frames).toBe(VALUES.length);
      for (const frame of [1, 2, 4, 6]) {
        const decoded = image(await pngOf(id, { frame: String(frame) }));
        expect([decoded.width, decoded.height], `frame ${frame}`).toEqual([12, 8]);
        expect([...new Set(decoded.data)], `frame ${frame}`).toEqual([VALUES[frame - 1]]);
      }
      const beyond = await pngOf(id, { frame: '7' });
      expect(beyond.statusCode).toBe(400);
      expect(JSON.parse(beyond.body)).toMatchObject({ code: 'INVALID_PARAMETER', parameter: 'frame' });
      expect(JSON.parse(beyond.body).error).toContain('6 frames');
    },
  );
});

describe('cache', () => {
  it('the first call renders and stores under derived/<id>/render/; the next is served from there', async () => {
    const id = await stored(framesWithValues({ rows: 8, columns: 12, values: VALUES }));
    const key = KEYS.rendering(id, 'f3_voi_12x8');
    const { objects } = getStores();
    expect(await objects.get(key)).toBeUndefined();
    const first = await pngOf(id, { frame: '3' });
    expect([...new Set(image(first).data)]).toEqual([VALUES[2]]);
    expect(Buffer.from((await objects.get(key))!).toString('base64')).toBe(first.body);

    // Replace the cached object: the second call returns it as stored, so it did not render again.
    const marker = encodePng({ width: 1, height: 1, channels: 1, data: Uint8Array.of(7) });
    await objects.put(key, marker, 'image/png');
    const second = await pngOf(id, { frame: '3' });
    expect(Buffer.from(second.body, 'base64')).toEqual(Buffer.from(marker));
  });

  it('the ETag differs per normalised parameter set, and each revalidates with 304', async () => {
    const id = await stored(sampleCt({ rows: 64, columns: 48 }));
    const sets: Record<string, string>[] = [
      {},
      { window: '-600,1500' },
      { max: '32' },
      { max: '32', window: '-600,1500' },
    ];
    const etags: string[] = [];
    for (const query of sets) {
      const response = await pngOf(id, query);
      expect(response.statusCode).toBe(200);
      const etag = response.headers!.ETag as string;
      etags.push(etag);
      expect((await pngOf(id, query, { 'If-None-Match': etag })).statusCode, JSON.stringify(query)).toBe(304);
    }
    expect(new Set(etags).size).toBe(sets.length);
    // The same rendering asked differently has the same ETag.
    const same = await pngOf(id, { window: '-600.0,1.5e3' }, { 'If-None-Match': etags[1]! });
    expect(same.statusCode).toBe(304);
  });

  it('?window= replaces the file’s window with the given one (PS3.3 C.11.2.1.2.1 on HU)', async () => {
    const id = await stored(sampleCt());
    // Pixel p of sampleCt is stored 8p, i.e. 8p - 1024 HU (the file's own window is 40/400).
    const [c, w] = [0, 100];
    const expected = Array.from({ length: 256 }, (_, p) => {
      const hu = 8 * p - 1024;
      if (hu <= c - 0.5 - (w - 1) / 2) return 0;
      if (hu > c - 0.5 + (w - 1) / 2) return 255;
      return Math.round(((hu - (c - 0.5)) / (w - 1) + 0.5) * 255);
    });
    expect([...image(await pngOf(id, { window: `${c},${w}` })).data]).toEqual(expected);
    expect(expected.filter((v) => v > 0 && v < 255).length).toBe(13); // -48..48 HU fall inside the window
  });

  it('a rendering finished after a concurrent DELETE is removed again', async () => {
    const id = await stored(framesWithValues({ rows: 8, columns: 12, values: VALUES }));
    const { objects, records } = getStores();
    const record = (await records.get(id))!;
    const rendering = resolveRendering(id, { frame: 2 }, { width: 12, height: 8, frames: VALUES.length });
    await records.delete(id); // as DELETE does first, while this render is in flight
    await expect(renderAndCache({ objects, records }, id, rendering)).rejects.toMatchObject({ status: 404 });
    expect(record.status).toBe('READY');
    expect(await objects.listKeys(KEYS.derivedFolder(id))).not.toContain(rendering.key);
  });
});

describe('thumbnail', () => {
  it('the processor stores it, the record links it, and the first request is served from it', async () => {
    const rows = 300;
    const columns = 512;
    const pixels = Array.from({ length: rows * columns }, (_, p) => (p % columns) * 4);
    const id = await stored(
      buildDicom([
        ...patientElements(),
        ...imageElements({ rows, columns, pixels, window: { center: 1024, width: 2048 } }),
      ]),
    );
    const record = JSON.parse((await get(idEvent('/dicom/{id}', id))).body) as { thumbnail: string };
    expect(record.thumbnail).toBe(`/dicom/${id}/png?max=256`);
    const { objects } = getStores();
    const precomputed = await objects.get(KEYS.thumbnail(id));
    expect(precomputed).toBeDefined();

    const response = await pngOf(id, { max: '256' });
    expect(Buffer.from(response.body, 'base64')).toEqual(Buffer.from(precomputed!));
    const thumbnail = image(response);
    expect([thumbnail.width, thumbnail.height]).toEqual([256, 150]); // 512 x 300 keeps its aspect ratio
    // A horizontal ramp stays a ramp: left dark, right bright, monotonic along a row.
    const row = [...thumbnail.data.subarray(75 * 256, 76 * 256)];
    expect(row[0]).toBeLessThan(10);
    expect(row[255]).toBeGreaterThan(245);
    expect(row.every((v, i) => i === 0 || v >= row[i - 1]!)).toBe(true);
    // Nothing was rendered on demand for it.
    expect(await objects.listKeys(KEYS.renderingPrefix(id))).toEqual([]);
  });

  it('an image no larger than 256 has no thumbnail of its own: ?max=256 is the PNG itself', async () => {
    const id = await stored(sampleCt());
    const { objects } = getStores();
    expect(await objects.get(KEYS.thumbnail(id))).toBeUndefined();
    const small = await pngOf(id, { max: '256' });
    const full = await pngOf(id);
    expect(small.body).toBe(full.body);
    expect(small.headers!.ETag).toBe(full.headers!.ETag);
  });
});

describe('delete', () => {
  it('removes the original, the derived files, the thumbnail and every cached rendering', async () => {
    const id = await stored(framesWithValues({ rows: 300, columns: 400, values: VALUES }));
    const queries: Record<string, string>[] = [{ frame: '2' }, { frame: '5', max: '64' }, { window: '10,20' }];
    for (const query of queries) {
      expect((await pngOf(id, query)).statusCode).toBe(200);
    }
    const { objects } = getStores();
    expect((await objects.listKeys(KEYS.renderingPrefix(id))).length).toBe(3);
    expect(await objects.get(KEYS.thumbnail(id))).toBeDefined();
    expect((await del(idEvent('/dicom/{id}', id, 'DELETE'))).statusCode).toBe(200);
    expect(await objects.listKeys(KEYS.derivedFolder(id))).toEqual([]);
    expect(await objects.get(KEYS.upload(id))).toBeUndefined();
  });
});

describe('bad parameters', () => {
  it.each([
    ['frame', { frame: '0' }],
    ['frame', { frame: 'two' }],
    ['window', { window: '40' }],
    ['window', { window: '40,0' }],
    ['max', { max: '0' }],
    ['max', { max: '5000' }],
    ['size', { size: '10by10' }],
    ['size', { size: '10x10', max: '10' }],
  ])('%s: 400 naming it, before any waiting', async (parameter, query) => {
    const id = await stored(sampleCt());
    const response = await pngOf(id, query);
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body)).toMatchObject({ code: 'INVALID_PARAMETER', parameter });
  });

  it('an unknown parameter is 400 naming it; an unknown id is still 404', async () => {
    const id = await stored(sampleCt());
    const unknown = await pngOf(id, { colour: 'red' });
    expect(unknown.statusCode).toBe(400);
    expect(JSON.parse(unknown.body).error).toContain('colour');
    const missing = await pngOf('00000000-0000-4000-8000-000000000000', { frame: '2' });
    expect(missing.statusCode).toBe(404);
  });
});
