// On-demand renderings: the /png query, window override, downscaling, and reading one frame with ranged reads.
import { describe, expect, it } from 'vitest';
import { KEYS } from '../../lambdas/config.js';
import { readFrameForRendering, type ByteSource } from '../../lambdas/dicom/frame-source.js';
import { parseDicom } from '../../lambdas/dicom/parse.js';
import { renderFrame, renderFrameAsync, type RenderedImage } from '../../lambdas/dicom/render.js';
import { downscale, fitWithin } from '../../lambdas/dicom/resize.js';
import { clientError } from '../../lambdas/http/domain-errors.js';
import { parsePngQuery, resolveRendering, type PngQuery } from '../../lambdas/http/png-query.js';
import { buildDicom, framesWithValues, imageElements, patientElements } from '../fixtures/dicom-builder.js';
import { apiEvent } from '../support/events.js';

const ID = '0b6c2d8e-6a55-4a3c-9d5e-2f0e1c3b4a59';

function query(parameters: Record<string, string>): PngQuery {
  return parsePngQuery(
    apiEvent({ method: 'GET', resource: '/dicom/{id}/png', path: `/dicom/${ID}/png`, query: parameters }),
  );
}

function failure(run: () => unknown): { status: number; code: string; parameter?: unknown; message: string } {
  try {
    run();
  } catch (error) {
    const answer = clientError(error);
    if (answer) {
      return {
        status: answer.status,
        code: answer.code,
        parameter: answer.extra.body?.parameter,
        message: answer.message,
      };
    }
    throw error;
  }
  throw new Error('expected an error answer');
}

const CT_IMAGE = { width: 512, height: 512, frames: 1 };

describe('GET /png query parameters', () => {
  it.each([
    ['frame', '0'],
    ['frame', '-1'],
    ['frame', '1.5'],
    ['frame', 'x'],
    ['frame', ''],
    ['window', 'x'],
    ['window', '40'],
    ['window', '40,0'],
    ['window', '40,-5'],
    ['window', '40,400,1'],
    ['window', '40,abc'],
    ['window', 'Infinity,400'],
    ['window', '1e10,400'],
    ['max', '0'],
    ['max', '4097'],
    ['max', '25.5'],
    ['size', '256'],
    ['size', '0x10'],
    ['size', '10x5000'],
    ['size', 'axb'],
  ])('%s=%s is 400 naming the parameter', (name, value) => {
    const error = failure(() => query({ [name]: value }));
    expect(error).toMatchObject({ status: 400, code: 'INVALID_PARAMETER', parameter: name });
    expect(error.message).toContain(name);
  });

  it('an unknown parameter is 400 naming it; max and size together are 400', () => {
    const unknown = failure(() => query({ frames: '2' }));
    expect(unknown).toMatchObject({ status: 400, code: 'BAD_QUERY' });
    expect(unknown.message).toContain('frames');
    expect(failure(() => query({ max: '256', size: '256x256' }))).toMatchObject({ status: 400, parameter: 'size' });
  });

  it('a frame beyond the file is 400 saying how many frames there are', () => {
    const error = failure(() => resolveRendering(ID, query({ frame: '97' }), { ...CT_IMAGE, frames: 96 }));
    expect(error).toMatchObject({ status: 400, parameter: 'frame' });
    expect(error.message).toContain('96 frames');
  });

  it('normalises: equal renderings get one name, the default and the thumbnail map to the processor objects', () => {
    const name = (parameters: Record<string, string>, image = CT_IMAGE) =>
      resolveRendering(ID, query(parameters), image).name;
    expect(name({ window: '40,400' })).toBe(name({ window: ' 40.0 , 4e2 ' }));
    expect(name({ window: '-0,400' })).toBe(name({ window: '0,400' }));
    expect(name({ max: '256' })).toBe(name({ size: '256x256' }));
    expect(name({ max: '256' })).toBe(name({ size: '300x256' })); // the same fit
    expect(name({ frame: '2', max: '100' }, { ...CT_IMAGE, frames: 3 })).toBe('f2_voi_100x100');
    expect(name({ window: '-600,1500' })).toBe('f1_c-600w1500_512x512');

    const resolve = (parameters: Record<string, string>) => resolveRendering(ID, query(parameters), CT_IMAGE);
    const sameAsDefault: Record<string, string>[] = [
      {},
      { frame: '1' },
      { max: '512' },
      { max: '4096' },
      { size: '600x700' },
    ];
    for (const same of sameAsDefault) {
      expect(resolve(same), JSON.stringify(same)).toMatchObject({ source: 'default', key: KEYS.png(ID) });
    }
    expect(resolve({ max: '256' })).toMatchObject({ source: 'thumbnail', key: KEYS.thumbnail(ID) });
    expect(resolve({ max: '255' })).toMatchObject({
      source: 'on-demand',
      key: KEYS.rendering(ID, 'f1_voi_255x255'),
    });
  });

  it('sizes keep the aspect ratio and never exceed the image', () => {
    const cr = { width: 1841, height: 1955, frames: 1 };
    expect(resolveRendering(ID, query({ max: '256' }), cr).size).toEqual({ width: 241, height: 256 });
    expect(resolveRendering(ID, query({ size: '100x1000' }), cr).size).toEqual({ width: 100, height: 106 });
    expect(resolveRendering(ID, query({ size: '4000x4000' }), cr).size).toEqual({ width: 1841, height: 1955 });
  });
});

describe('downscaling', () => {
  function grey(width: number, height: number, value: (x: number, y: number) => number): RenderedImage {
    const data = new Uint8Array(width * height);
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = value(x, y);
    return { width, height, channels: 1, data };
  }

  it('averages a one-pixel checkerboard to mid grey (no aliasing), at whole and fractional ratios', () => {
    const board = grey(64, 48, (x, y) => ((x + y) % 2 ? 255 : 0));
    for (const target of [
      { width: 16, height: 12 },
      { width: 32, height: 24 },
    ]) {
      const small = downscale(board, target);
      expect(small).toMatchObject({ ...target, channels: 1 });
      expect(Math.min(...small.data)).toBeGreaterThanOrEqual(127);
      expect(Math.max(...small.data)).toBeLessThanOrEqual(128);
    }
    // 64 -> 25 columns: partial pixels weigh their share, so the mean stays mid grey within a few levels.
    const odd = downscale(board, fitWithin(board, { width: 25, height: 25 }));
    expect(odd.width).toBe(25);
    expect(odd.height).toBe(19);
    const mean = odd.data.reduce((sum, v) => sum + v, 0) / odd.data.length;
    expect(Math.abs(mean - 127.5)).toBeLessThan(3);
  });

  it('a whole-factor shrink (a CT to its thumbnail) gives each block its rounded mean, grey and colour alike', () => {
    let seed = 7;
    const noise = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % 256;
    for (const [factor, channels] of [
      [2, 1],
      [3, 1],
      [4, 3],
    ] as const) {
      const width = 12 * factor;
      const height = 5 * factor;
      const image: RenderedImage = {
        width,
        height,
        channels,
        data: Uint8Array.from({ length: width * height * channels }, noise),
      };
      const small = downscale(image, { width: 12, height: 5 });
      const expected: number[] = [];
      for (let y = 0; y < 5; y++)
        for (let x = 0; x < 12; x++)
          for (let c = 0; c < channels; c++) {
            let sum = 0;
            for (let dy = 0; dy < factor; dy++)
              for (let dx = 0; dx < factor; dx++)
                sum += image.data[((y * factor + dy) * width + x * factor + dx) * channels + c]!;
            expected.push(Math.round(sum / factor ** 2));
          }
      expect([...small.data]).toEqual(expected);
    }
  });

  it('keeps a flat area exactly, averages colour per channel, and refuses to upscale', () => {
    expect([
      ...new Set(
        downscale(
          grey(30, 20, () => 77),
          { width: 7, height: 5 },
        ).data,
      ),
    ]).toEqual([77]);
    const rgb: RenderedImage = { width: 2, height: 1, channels: 3, data: Uint8Array.of(255, 0, 10, 0, 255, 20) };
    expect([...downscale(rgb, { width: 1, height: 1 }).data]).toEqual([128, 128, 15]);
    expect(fitWithin({ width: 100, height: 50 }, { width: 400, height: 400 })).toEqual({ width: 100, height: 50 });
    expect(() =>
      downscale(
        grey(10, 10, () => 0),
        { width: 20, height: 10 },
      ),
    ).toThrow();
  });
});

describe('window override', () => {
  /** Stored v is v - 1024 HU; the file's own window (40/400) is replaced by the caller's. */
  const stored = [0, 974, 1024, 1074, 2048];
  const file = buildDicom([
    ...patientElements({ modality: 'CT' }),
    ...imageElements({
      rows: 1,
      columns: stored.length,
      pixels: stored,
      rescale: { slope: 1, intercept: -1024 },
      window: { center: 40, width: 400 },
    }),
  ]);

  /** PS3.3 C.11.2.1.2.1 (LINEAR) to 0..255, rounded half to even as the renderer does. */
  function linear(hu: number, c: number, w: number): number {
    if (hu <= c - 0.5 - (w - 1) / 2) return 0;
    if (hu > c - 0.5 + (w - 1) / 2) return 255;
    const y = ((hu - (c - 0.5)) / (w - 1) + 0.5) * 255;
    const r = Math.round(y);
    return r - y === 0.5 && r % 2 !== 0 ? r - 1 : r;
  }

  it('maps modality values through the given center and width, not the file’s', () => {
    const parsed = parseDicom(file);
    const own = renderFrame(parsed, 0);
    const lung = renderFrame(parsed, 0, { window: { center: 0, width: 101 } });
    const hu = stored.map((v) => v - 1024);
    expect([...lung.data]).toEqual(hu.map((v) => linear(v, 0, 101)));
    expect([...lung.data]).toEqual([0, 1, 129, 255, 255]);
    expect([...lung.data]).not.toEqual([...own.data]);
  });

  it('a window on a colour image is 400 naming window', () => {
    const rgb = buildDicom([
      ...patientElements(),
      ...imageElements({ rows: 1, columns: 1, pixels: [1, 2, 3], samplesPerPixel: 3, bitsAllocated: 8 }),
    ]);
    expect(failure(() => renderFrame(parseDicom(rgb), 0, { window: { center: 1, width: 2 } }))).toMatchObject({
      status: 400,
      parameter: 'window',
    });
  });
});

describe('reading one frame with ranged reads', () => {
  const values = [10, 60, 110, 160, 210];

  /** The file in memory behind the ByteSource interface, recording each range asked for. */
  function source(bytes: Uint8Array): ByteSource & { ranges: [number, number][] } {
    const ranges: [number, number][] = [];
    return {
      ranges,
      read: async (start, end) => {
        ranges.push([start, end]);
        return { bytes: bytes.subarray(start, Math.min(end, bytes.length)), size: bytes.length };
      },
    };
  }

  it.each(['native', 'rle'] as const)(
    '%s: renders the frame asked for and reads little beyond it',
    async (encoding) => {
      const rows = 256;
      const columns = 256;
      // Alternate pixels hold value + 1, so RLE cannot shrink the frames below the first read.
      const file = framesWithValues({ rows, columns, values, encoding, alternate: true });
      for (const frameIndex of [0, 2, 4]) {
        const from = source(file);
        const frame = await readFrameForRendering(from, frameIndex);
        expect(frame.storedFrame, 'read on its own').toBeDefined();
        const image = await renderFrameAsync(frame.parsed, frameIndex, { storedFrame: frame.storedFrame! });
        expect([...new Set(image.data)].sort()).toEqual([values[frameIndex], values[frameIndex]! + 1]);
        // The header read (64 KB at most here) plus this one frame, never the others.
        const frameSize = encoding === 'native' ? rows * columns : file.length / values.length;
        expect(frame.bytesRead).toBeLessThan(64 * 1024 + 2 * frameSize);
        expect(frame.bytesRead).toBeLessThan(file.length);
      }
    },
  );

  it('a compressed file without an offset table is read whole and still renders the right frame', async () => {
    const file = framesWithValues({ rows: 16, columns: 16, values, encoding: 'rle-without-offset-table' });
    const frame = await readFrameForRendering(source(file), 3);
    expect(frame.storedFrame).toBeUndefined();
    expect(frame.bytesRead).toBe(file.length);
    expect([...new Set((await renderFrameAsync(frame.parsed, 3)).data)]).toEqual([values[3]]);
  });

  it('a header longer than the first read is read in growing steps', async () => {
    const longText = 'x'.repeat(150_000);
    const file = buildDicom([
      ...patientElements(),
      { tag: 0x00204000, vr: 'UT', value: longText },
      ...imageElements({ rows: 2, columns: 2, pixels: [0, 1, 2, 3], window: { center: 2, width: 4 } }),
    ]);
    const from = source(file);
    const frame = await readFrameForRendering(from, 0);
    expect(frame.storedFrame).toBeDefined();
    expect(from.ranges.length).toBeGreaterThan(1);
    expect(renderFrame(frame.parsed, 0, { storedFrame: frame.storedFrame! }).data).toEqual(
      renderFrame(parseDicom(file), 0).data,
    );
  });
});
