// The render pipeline on synthetic files: what a user sees in the PNG for each kind of pixel data.
import { describe, expect, it } from 'vitest';
import { decode } from 'fast-png';
import { clientError } from '../../lambdas/http/domain-errors.js';
import type { HttpError } from '../../lambdas/http/errors.js';
import { parseDicom } from '../../lambdas/dicom/parse.js';
import { registerCodec } from '../../lambdas/dicom/pixels.js';
import { encodePng } from '../../lambdas/dicom/png.js';
import { hasImage, renderFrame, renderFrameAsync, type RenderedImage } from '../../lambdas/dicom/render.js';
import {
  TS,
  buildDicom,
  buildEncapsulatedDicom,
  encodeRleFrame,
  imageElements,
  patientElements,
  sampleCt,
  type FixtureElement,
  type ImageOptions,
} from '../fixtures/dicom-builder.js';

function render(bytes: Uint8Array, frame = 0): RenderedImage {
  return renderFrame(parseDicom(bytes), frame);
}

function image(o: ImageOptions, transferSyntax: string = TS.explicitLE): Uint8Array {
  return buildDicom(imageElements(o, transferSyntax !== TS.explicitBE), { transferSyntax });
}

function renderError(bytes: Uint8Array, frame = 0): HttpError {
  try {
    render(bytes, frame);
  } catch (error) {
    const answer = clientError(error);
    if (answer) return answer;
    throw error;
  }
  throw new Error('expected the render to fail');
}

const us = (tag: number, value: number | number[]): FixtureElement => ({ tag, vr: 'US', value });
const ds = (tag: number, value: string): FixtureElement => ({ tag, vr: 'DS', value });
const cs = (tag: number, value: string): FixtureElement => ({ tag, vr: 'CS', value });
const seq = (tag: number, ...items: FixtureElement[][]): FixtureElement => ({ tag, vr: 'SQ', value: { items } });

/** Image Pixel module written by hand, for layouts imageElements does not cover. */
function pixelModule(o: {
  rows: number;
  columns: number;
  bitsAllocated: number;
  bitsStored?: number;
  signed?: boolean;
  photometric?: string;
  samplesPerPixel?: number;
  frames?: number;
  pixelTag?: number;
  vr: string;
  bytes: Uint8Array;
}): FixtureElement[] {
  const els: FixtureElement[] = [
    us(0x00280002, o.samplesPerPixel ?? 1),
    cs(0x00280004, o.photometric ?? 'MONOCHROME2'),
    us(0x00280010, o.rows),
    us(0x00280011, o.columns),
    us(0x00280100, o.bitsAllocated),
    { tag: o.pixelTag ?? 0x7fe00010, vr: o.vr, value: o.bytes },
  ];
  if ((o.pixelTag ?? 0x7fe00010) === 0x7fe00010) {
    els.push(us(0x00280101, o.bitsStored ?? o.bitsAllocated));
    els.push(us(0x00280102, (o.bitsStored ?? o.bitsAllocated) - 1));
    els.push(us(0x00280103, o.signed ? 1 : 0));
  }
  if (o.frames) els.push({ tag: 0x00280008, vr: 'IS', value: String(o.frames) });
  if ((o.samplesPerPixel ?? 1) === 3) els.push(us(0x00280006, 0));
  return els;
}

/** Stored values that land at -160, 0, 40, 100 and 240 HU with intercept -1024. */
const CT_STORED = [864, 1024, 1064, 1124, 1264];
/** PS3.3 C.11.2.1.2.1 with center 40, width 400, rounded: -160 HU is the bottom, above 239 HU is white. */
const CT_WINDOWED = [0, 102, 128, 166, 255];

describe('grey images', () => {
  it('maps a known CT window to exact 8-bit values (rescale first, then window)', () => {
    const out = render(
      image({
        rows: 1,
        columns: 5,
        pixels: CT_STORED,
        signed: true,
        rescale: { slope: 1, intercept: -1024 },
        window: { center: 40, width: 400 },
      }),
    );
    expect(out).toMatchObject({ width: 5, height: 1, channels: 1 });
    expect([...out.data]).toEqual(CT_WINDOWED);
  });

  it('without the rescale the same stored values are all above the window (rescale is applied before it)', () => {
    const out = render(
      image({ rows: 1, columns: 5, pixels: CT_STORED, signed: true, window: { center: 40, width: 400 } }),
    );
    expect([...out.data]).toEqual([255, 255, 255, 255, 255]);
  });

  it('inverts MONOCHROME1 after the window', () => {
    const out = render(
      image({
        rows: 1,
        columns: 5,
        pixels: CT_STORED,
        signed: true,
        photometric: 'MONOCHROME1',
        rescale: { slope: 1, intercept: -1024 },
        window: { center: 40, width: 400 },
      }),
    );
    expect([...out.data]).toEqual(CT_WINDOWED.map((v) => 255 - v));
  });

  it('reads signed 16-bit values, masking BitsStored 12 and sign-extending past garbage high bits', () => {
    // 0xA800 = garbage nibble + 0x800 (-2048); 0xBFFF -> 0xFFF (-1); 0xF000 -> 0; 0x07FF -> 2047.
    const out = render(
      image({ rows: 1, columns: 4, pixels: [0xa800, 0xbfff, 0xf000, 0x07ff], signed: true, bitsStored: 12 }),
    );
    // No window: min-max over [-2048, 2047].
    expect([...out.data]).toEqual([0, 127, 128, 255]);
  });

  it('renders negative signed values through a window', () => {
    const out = render(
      image({ rows: 1, columns: 3, pixels: [-1000, -500, 0], signed: true, window: { center: -500, width: 1001 } }),
    );
    expect([...out.data]).toEqual([0, 128, 255]);
  });

  it('gives the same picture for Explicit VR Big Endian as for Little Endian', () => {
    const little = render(sampleCt({ transferSyntax: TS.explicitLE }));
    const big = render(sampleCt({ transferSyntax: TS.explicitBE }));
    const implicit = render(sampleCt({ transferSyntax: TS.implicitLE }));
    expect(big.data).toEqual(little.data);
    expect(implicit.data).toEqual(little.data);
    expect(new Set(little.data).size).toBeGreaterThan(10);
  });

  it('scales min-max when there is no window or VOI LUT', () => {
    const out = render(image({ rows: 2, columns: 2, pixels: [100, 200, 300, 400], bitsAllocated: 16 }));
    expect([...out.data]).toEqual([0, 85, 170, 255]);
  });

  it('renders a constant image black rather than dividing by zero', () => {
    const out = render(image({ rows: 2, columns: 2, pixels: [7, 7, 7, 7], bitsAllocated: 8 }));
    expect([...out.data]).toEqual([0, 0, 0, 0]);
  });

  it('applies the Modality LUT Sequence instead of the rescale', () => {
    const lut = seq(0x00283000, [us(0x00283002, [3, 10, 16]), us(0x00283006, [100, 200, 400])]);
    const out = render(
      image({ rows: 1, columns: 5, pixels: [9, 10, 11, 12, 20], rescale: { slope: 5, intercept: 7 }, extra: [lut] }),
    );
    // Below the first mapped value -> first entry, above the table -> last entry; then min-max over 100..400.
    expect([...out.data]).toEqual([0, 0, 85, 255, 255]);
  });

  it('prefers the VOI LUT Sequence over a window, indexing it with the modality value', () => {
    const voi = seq(0x00283010, [us(0x00283002, [4, 0, 8]), us(0x00283006, [0, 50, 100, 255])]);
    const out = render(
      image({
        rows: 1,
        columns: 5,
        pixels: [5, 6, 7, 8, 15],
        rescale: { slope: 1, intercept: -5 },
        window: { center: 1, width: 2 },
        extra: [voi],
      }),
    );
    expect([...out.data]).toEqual([0, 50, 100, 255, 255]);
  });

  it('honours VOI LUT Function SIGMOID and LINEAR_EXACT', () => {
    const base = { rows: 1, columns: 3, pixels: [0, 100, 200], window: { center: 100, width: 100 } };
    const sigmoid = render(image({ ...base, extra: [cs(0x00281056, 'SIGMOID')] }));
    // 255 / (1 + exp(-4 (x - c) / w)): 4.6, 127.5 -> 128 (half to even), 250.4
    expect([...sigmoid.data]).toEqual([5, 128, 250]);
    const exact = render(image({ ...base, pixels: [50, 75, 150], extra: [cs(0x00281056, 'LINEAR_EXACT')] }));
    expect([...exact.data]).toEqual([0, 64, 255]);
  });

  it('reads 1-bit frames packed across byte boundaries', () => {
    // Two 3x3 frames (9 bits each): frame 2 starts at bit 9, in the middle of the second byte.
    const frame1 = [1, 0, 0, 0, 1, 0, 0, 0, 1];
    const frame2 = [0, 1, 1, 1, 0, 1, 1, 1, 0];
    const bits = [...frame1, ...frame2];
    const bytes = new Uint8Array(4);
    bits.forEach((b, i) => (bytes[i >> 3]! |= b << (i & 7)));
    const file = buildDicom(pixelModule({ rows: 3, columns: 3, bitsAllocated: 1, frames: 2, vr: 'OB', bytes }));
    expect([...render(file, 0).data]).toEqual(frame1.map((b) => b * 255));
    expect([...render(file, 1).data]).toEqual(frame2.map((b) => b * 255));
  });

  it('picks the requested frame of a multi-frame image', () => {
    const pixels = [0, 0, 20, 20, 40, 40];
    const els = imageElements({ rows: 1, columns: 2, pixels: [0, 0], window: { center: 20, width: 21 } });
    const frames = imageElements({ rows: 3, columns: 2, pixels }).find((e) => e.tag === 0x7fe00010)!;
    const file = buildDicom([
      ...els.filter((e) => e.tag !== 0x7fe00010),
      frames,
      { tag: 0x00280008, vr: 'IS', value: '3' },
    ]);
    // Window 20/21: 0 is below it, 20 is its middle ((20 - 19.5) / 20 + 0.5) * 255 = 133.9, 40 above it.
    expect([...render(file, 0).data]).toEqual([0, 0]);
    expect([...render(file, 1).data]).toEqual([134, 134]);
    expect([...render(file, 2).data]).toEqual([255, 255]);
    expect(renderError(file, 3)).toMatchObject({ status: 404, code: 'FRAME_NOT_FOUND' });
  });

  it('takes rescale and window from the functional groups of an enhanced multi-frame image', () => {
    const pixels = new Uint8Array(new Uint16Array([50, 60, 50, 60]).buffer);
    const frameVoi = (center: string, width: string): FixtureElement[] => [
      seq(0x00289132, [ds(0x00281050, center), ds(0x00281051, width)]),
    ];
    const file = buildDicom([
      ...pixelModule({ rows: 1, columns: 2, bitsAllocated: 16, frames: 2, vr: 'OW', bytes: pixels }),
      seq(0x52009229, [seq(0x00289145, [ds(0x00281052, '0'), ds(0x00281053, '2')])]),
      seq(0x52009230, frameVoi('100', '21'), frameVoi('120', '21')),
    ]);
    // Stored 50 and 60 rescale (shared group, slope 2) to 100 and 120; frame 1's window is 100/21, frame 2's 120/21.
    expect([...render(file, 0).data]).toEqual([134, 255]);
    expect([...render(file, 1).data]).toEqual([0, 134]);
  });

  it('renders Float Pixel Data and Double Float Pixel Data, showing NaN as black', () => {
    const floats = new Uint8Array(new Float32Array([0, 0.25, Number.NaN, 1]).buffer);
    const f32 = buildDicom(
      pixelModule({ rows: 2, columns: 2, bitsAllocated: 32, pixelTag: 0x7fe00008, vr: 'OF', bytes: floats }),
    );
    expect([...render(f32).data]).toEqual([0, 64, 0, 255]);
    const doubles = new Uint8Array(new Float64Array([-1, 0, 0.5, 1]).buffer);
    const f64 = buildDicom(
      pixelModule({ rows: 2, columns: 2, bitsAllocated: 64, pixelTag: 0x7fe00009, vr: 'OD', bytes: doubles }),
    );
    expect([...render(f64).data]).toEqual([0, 128, 191, 255]);
  });

  it('renders 32-bit integers spread too wide for a lookup table', () => {
    const bytes = new Uint8Array(new Uint32Array([0, 2 ** 31, 2 ** 32 - 1]).buffer);
    const file = buildDicom(pixelModule({ rows: 1, columns: 3, bitsAllocated: 32, vr: 'OB', bytes }));
    expect([...render(file).data]).toEqual([0, 128, 255]);
  });
});

describe('colour images', () => {
  const rgb = [255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30];

  it('gives the same RGB for Planar Configuration 0 and 1', () => {
    const planar0 = render(image({ rows: 2, columns: 2, pixels: rgb, bitsAllocated: 8, samplesPerPixel: 3 }));
    const byPlane = [0, 1, 2].flatMap((c) => [0, 1, 2, 3].map((p) => rgb[p * 3 + c]!));
    const planar1 = render(
      image({ rows: 2, columns: 2, pixels: byPlane, bitsAllocated: 8, samplesPerPixel: 3, planarConfiguration: 1 }),
    );
    expect(planar0).toMatchObject({ width: 2, height: 2, channels: 3 });
    expect([...planar0.data]).toEqual(rgb);
    expect([...planar1.data]).toEqual(rgb);
  });

  it('converts YBR_FULL to RGB with the PS3.3 C.7.6.3.1.2 equations', () => {
    // Grey stays grey; (76, 85, 255) is pure red, (150, 44, 21) pure green in JPEG's YCbCr.
    const ybr = [128, 128, 128, 76, 85, 255, 150, 44, 21, 0, 128, 128];
    const out = render(
      image({ rows: 2, columns: 2, pixels: ybr, bitsAllocated: 8, samplesPerPixel: 3, photometric: 'YBR_FULL' }),
    );
    expect([...out.data]).toEqual([128, 128, 128, 254, 0, 0, 0, 255, 1, 0, 0, 0]);
  });

  it('expands uncompressed YBR_FULL_422 (Y Y Cb Cr per pixel pair) before converting', () => {
    const stored = new Uint8Array([76, 128, 85, 255, 200, 100, 128, 128]);
    const file = buildDicom(
      pixelModule({
        rows: 2,
        columns: 2,
        bitsAllocated: 8,
        samplesPerPixel: 3,
        photometric: 'YBR_FULL_422',
        vr: 'OB',
        bytes: stored,
      }),
    );
    const out = render(file);
    expect([...out.data]).toEqual([254, 0, 0, 255, 52, 52, 200, 200, 200, 100, 100, 100]);
  });

  it('maps PALETTE COLOR through 16-bit palettes, clamping below the first mapped value and above the table', () => {
    const palette = (tag: number, values: number[]): FixtureElement[] => [
      us(0x00281100 + tag, [4, 10, 16]),
      { tag: 0x00281200 + tag, vr: 'OW', value: values },
    ];
    const file = image({
      rows: 1,
      columns: 5,
      pixels: [9, 10, 11, 12, 20],
      bitsAllocated: 8,
      photometric: 'PALETTE COLOR',
      extra: [
        ...palette(1, [0, 65535, 32768, 0]),
        ...palette(2, [0, 0, 65535, 65535]),
        ...palette(3, [65535, 0, 0, 257]),
      ],
    });
    const out = render(file);
    expect(out.channels).toBe(3);
    expect([...out.data]).toEqual([0, 0, 255, 0, 0, 255, 255, 0, 0, 128, 255, 0, 0, 255, 1]);
  });

  it('reads 8-bit palette entries packed two per word, with a signed first mapped value', () => {
    const palette = (tag: number, values: number[]): FixtureElement[] => [
      { tag: 0x00281100 + tag, vr: 'SS', value: [3, -1, 8] },
      { tag: 0x00281200 + tag, vr: 'OW', value: new Uint8Array(values) },
    ];
    const file = image({
      rows: 1,
      columns: 3,
      pixels: [-1, 0, 1],
      signed: true,
      photometric: 'PALETTE COLOR',
      extra: [...palette(1, [10, 20, 30]), ...palette(2, [40, 50, 60]), ...palette(3, [70, 80, 90])],
    });
    expect([...render(file).data]).toEqual([10, 40, 70, 20, 50, 80, 30, 60, 90]);
  });
});

describe('RLE Lossless', () => {
  const ct = { rows: 4, columns: 5, signed: true, rescale: { slope: 1, intercept: -1024 } } as const;
  const ctPixels = Array.from({ length: 20 }, (_, i) => (i < 8 ? -2000 : i * 150 - 1000));
  const unsigned16 = ctPixels.map((v) => v & 0xffff);

  function rleFile(frames: Uint8Array[][], extra: FixtureElement[] = [], offsetTable = true): Uint8Array {
    const els = imageElements({ ...ct, pixels: ctPixels }).filter((e) => e.tag !== 0x7fe00010);
    return buildEncapsulatedDicom([...els, ...extra], frames, { transferSyntax: TS.rle, offsetTable });
  }

  it('decodes a 16-bit signed frame to the same picture as the uncompressed file', () => {
    const native = render(image({ ...ct, pixels: ctPixels }));
    const rle = render(rleFile([[encodeRleFrame(unsigned16, { rows: 4, columns: 5, bitsAllocated: 16 })]]));
    expect(rle.data).toEqual(native.data);
  });

  it('joins a frame split over several fragments', () => {
    const encoded = encodeRleFrame(unsigned16, { rows: 4, columns: 5, bitsAllocated: 16 });
    const split = [encoded.subarray(0, 40), encoded.subarray(40, 70), encoded.subarray(70)];
    expect(render(rleFile([split])).data).toEqual(render(image({ ...ct, pixels: ctPixels })).data);
  });

  it('finds each frame with or without a basic offset table', () => {
    const frames = [0, 1, 2].map((f) => ctPixels.map((v) => (v + f * 300) & 0xffff));
    const encoded = frames.map((f) => encodeRleFrame(f, { rows: 4, columns: 5, bitsAllocated: 16 }));
    const nframes = { tag: 0x00280008, vr: 'IS', value: '3' } as const;
    const withTable = rleFile(
      encoded.map((e) => [e.subarray(0, 64), e.subarray(64)]), // two fragments per frame
      [nframes],
      true,
    );
    const withoutTable = rleFile(
      encoded.map((e) => [e.subarray(0, 64), e.subarray(64)]),
      [nframes],
      false,
    );
    for (const f of [0, 1, 2]) {
      const native = render(image({ ...ct, pixels: frames[f]!.map((v) => (v << 16) >> 16) }));
      expect(render(withTable, f).data).toEqual(native.data);
      expect(render(withoutTable, f).data).toEqual(native.data);
    }
  });

  it('decodes 8-bit RGB segments into interleaved pixels', () => {
    const rgb = Array.from({ length: 12 * 3 }, (_, i) => (i * 37) % 256);
    const els = imageElements({ rows: 3, columns: 4, pixels: rgb, bitsAllocated: 8, samplesPerPixel: 3 });
    const file = buildEncapsulatedDicom(
      els.filter((e) => e.tag !== 0x7fe00010),
      [[encodeRleFrame(rgb, { rows: 3, columns: 4, samplesPerPixel: 3, bitsAllocated: 8 })]],
      { transferSyntax: TS.rle },
    );
    expect([...render(file).data]).toEqual(rgb);
  });

  it('refuses a frame whose segment count does not match the image', () => {
    const encoded = encodeRleFrame(
      ctPixels.map((v) => v & 0xff),
      { rows: 4, columns: 5, bitsAllocated: 8 },
    );
    expect(renderError(rleFile([[encoded]]))).toMatchObject({
      status: 422,
      message: expect.stringMatching(/segments/),
    });
  });
});

describe('what cannot be rendered', () => {
  it('says there is no image for an object without pixel data', () => {
    const file = buildDicom(patientElements(), { sopClassUid: '1.2.840.10008.5.1.4.1.1.88.22' });
    expect(hasImage(parseDicom(file))).toBe(false);
    expect(renderError(file)).toMatchObject({ status: 404, code: 'NO_IMAGE' });
  });

  it('names the transfer syntax it cannot decode yet', () => {
    const els = imageElements({ rows: 2, columns: 2, pixels: [0, 0, 0, 0], bitsAllocated: 8 });
    // JPEG XL has no codec here yet: the reason must name it.
    const jxl = new Uint8Array([0xff, 0x0a, 0, 0]);
    const file = buildEncapsulatedDicom(els, [[jxl]], { transferSyntax: '1.2.840.10008.1.2.4.110' });
    expect(hasImage(parseDicom(file))).toBe(true);
    const error = renderError(file);
    expect(error.status).toBe(422);
    expect(error.message).toBe(
      'cannot decode pixel data in transfer syntax JPEG XL Lossless (1.2.840.10008.1.2.4.110) yet',
    );
  });

  it('says the pixel data is truncated when the file stops inside it', () => {
    const whole = sampleCt({ rows: 32, columns: 32 });
    const cut = whole.subarray(0, whole.length - 500);
    expect(hasImage(parseDicom(cut))).toBe(true);
    expect(renderError(cut)).toMatchObject({ status: 422, message: 'pixel data is truncated' });
  });

  it('refuses pixel data shorter than Rows x Columns needs', () => {
    const file = buildDicom(
      pixelModule({ rows: 4, columns: 4, bitsAllocated: 16, vr: 'OW', bytes: new Uint8Array(16) }),
    );
    expect(renderError(file)).toMatchObject({
      status: 422,
      message: expect.stringMatching(/shorter than the image needs/),
    });
  });

  it('refuses absurd dimensions before allocating anything', () => {
    const file = buildDicom(
      pixelModule({ rows: 65535, columns: 65535, bitsAllocated: 16, vr: 'OW', bytes: new Uint8Array(16) }),
    );
    expect(renderError(file)).toMatchObject({ status: 422, message: expect.stringMatching(/too large/) });
  });
});

describe('codec plug-in point', () => {
  const els = imageElements({ rows: 1, columns: 3, pixels: [0, 0, 0], bitsAllocated: 8 });
  const file = buildEncapsulatedDicom(els, [[new Uint8Array([0xff, 0xd8, 0xff, 0xd9])]], {
    transferSyntax: TS.jpegBaseline,
  });

  it('renders through a codec registered for the transfer syntax, loaded on first use', () => {
    let loads = 0;
    const restore = registerCodec(TS.jpegBaseline, {
      name: 'test JPEG',
      load: () => {
        loads++;
        return () => ({ samples: new Uint8Array([0, 128, 255]) });
      },
    });
    try {
      expect([...render(file).data]).toEqual([0, 128, 255]);
      render(file);
      expect(loads).toBe(1);
    } finally {
      restore();
    }
    expect(renderError(file).status).toBe(422);
  });

  it('awaits asynchronous codecs in renderFrameAsync and checks their output size', async () => {
    const restore = registerCodec(TS.jpegBaseline, {
      name: 'async test JPEG',
      load: async () => async () => ({ samples: new Uint8Array([0, 255]) }),
    });
    try {
      await expect(renderFrameAsync(parseDicom(file)).catch(clientError)).resolves.toMatchObject({
        status: 422,
        message: expect.stringMatching(/returned 2 samples; the image needs 3/),
      });
    } finally {
      restore();
    }
  });
});

describe('PNG', () => {
  it('decodes back to the same grey pixels', () => {
    const rendered = render(sampleCt({ rows: 16, columns: 24 }));
    const png = decode(encodePng(rendered));
    expect(png).toMatchObject({ width: 24, height: 16, channels: 1, depth: 8 });
    expect(Buffer.from(png.data as Uint8Array)).toEqual(Buffer.from(rendered.data));
  });

  it('decodes back to the same RGB pixels', () => {
    const rgb = Array.from({ length: 5 * 7 * 3 }, (_, i) => (i * 53) % 256);
    const rendered = render(image({ rows: 5, columns: 7, pixels: rgb, bitsAllocated: 8, samplesPerPixel: 3 }));
    const png = decode(encodePng(rendered));
    expect(png).toMatchObject({ width: 7, height: 5, channels: 3, depth: 8 });
    expect([...(png.data as Uint8Array)]).toEqual(rgb);
  });
});
