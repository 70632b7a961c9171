// JPEG colour (issue #22): is a three-component DCT stream YCbCr, to be converted, or RGB stored as it is? The
// stream's JFIF / Adobe APP14 markers decide; without them the file's Photometric Interpretation does, except that a
// subsampled stream with component ids 1, 2, 3 is YCbCr whatever its label (lambdas/dicom/codecs/jpeg-colour.ts).
// Found by `npm run test:corpus` on pydicom's files: SC_jpeg_no_color_transform.dcm (RGB, ids 0,1,2, no marker) came
// out magenta, while SC_rgb_jpeg_lossy_gdcm.dcm (labelled RGB, YCbCr 4:2:0 with ids 1,2,3) must stay converted.
import jpeg from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import '../../lambdas/dicom/codecs/index.js';
import {
  adobeSegment,
  jpegColourSpace,
  readJpegColourInfo,
  type JpegColourInfo,
} from '../../lambdas/dicom/codecs/jpeg-colour.js';
import { parseDicom } from '../../lambdas/dicom/parse.js';
import { decodeFrameAsync } from '../../lambdas/dicom/pixels.js';
import { renderFrameAsync } from '../../lambdas/dicom/render.js';
import {
  TS,
  buildEncapsulatedDicom,
  encodeFlatBlockJpeg,
  patientElements,
  type FixtureElement,
  pixelModuleElements,
} from '../fixtures/dicom-builder.js';

const JPEG_EXTENDED = '1.2.840.10008.1.2.4.51';
const IDS_012 = [0, 1, 2] as const;
const SUBSAMPLED_420 = [0x22, 0x11, 0x11] as const;

/** Four colours, one per block (or MCU): they differ enough that YCbCr read as RGB, or the reverse, shows. */
const COLOURS = [
  [
    [245, 240, 235],
    [20, 200, 60],
  ],
  [
    [200, 40, 40],
    [40, 60, 210],
  ],
];

/** RGB -> JPEG YCbCr (JFIF, full range), rounded. */
function toYcbcr([r, g, b]: number[]): number[] {
  const y = 0.299 * r! + 0.587 * g! + 0.114 * b!;
  const cb = 128 - 0.168736 * r! - 0.331264 * g! + 0.5 * b!;
  const cr = 128 + 0.5 * r! - 0.418688 * g! - 0.081312 * b!;
  return [y, cb, cr].map((v) => Math.max(0, Math.min(255, Math.round(v))));
}

const AS_STORED = COLOURS;
const AS_YCBCR = COLOURS.map((row) => row.map(toYcbcr));

interface StreamOptions {
  adobeTransform?: 0 | 1;
  jfif?: boolean;
  componentIds?: readonly number[];
  sampling?: readonly number[];
}

/** A colour JPEG file of 2 x 2 flat blocks (MCUs when subsampled) holding `blocks`, labelled `photometric`. */
function colourJpegFile(blocks: number[][][], photometric: string, stream: StreamOptions, precision: 8 | 12 = 8) {
  const scaled = blocks.map((row) => row.map((block) => block.map((v) => (precision === 8 ? v : v * 16))));
  const codestream = encodeFlatBlockJpeg(scaled, { ...stream, precision });
  const mcu = stream.sampling ? 16 : 8;
  return buildEncapsulatedDicom(pixelModule(photometric, 2 * mcu, precision), [[codestream]], {
    transferSyntax: precision === 8 ? TS.jpegBaseline : JPEG_EXTENDED,
  });
}

function pixelModule(photometric: string, size: number, precision: 8 | 12): FixtureElement[] {
  return [
    ...patientElements({ modality: 'OT', description: 'JPEG COLOUR' }),
    ...pixelModuleElements({
      rows: size,
      columns: size,
      samplesPerPixel: 3,
      photometric,
      bitsAllocated: precision === 8 ? 8 : 16,
      bitsStored: precision,
    }),
  ];
}

/** The rendered RGB of the middle pixel of each block (away from chroma upsampling's blending at block edges). */
async function renderedColours(file: Uint8Array): Promise<number[][][]> {
  const image = await renderFrameAsync(parseDicom(file), 0);
  expect(image.channels).toBe(3);
  const block = image.width / 2;
  return [0, 1].map((row) =>
    [0, 1].map((column) => {
      const at = ((row * block + block / 2) * image.width + column * block + block / 2) * 3;
      return [...image.data.subarray(at, at + 3)];
    }),
  );
}

function expectColours(actual: number[][][], expected: number[][][], tolerance = 2): void {
  actual.flat().forEach((pixel, i) => {
    const want = expected.flat()[i]!;
    pixel.forEach((v, c) => expect(Math.abs(v - want[c]!), `${pixel} vs ${want}`).toBeLessThanOrEqual(tolerance));
  });
}

describe('JPEG colour: the markers; else subsampled ids 1,2,3 are YCbCr; else Photometric Interpretation', () => {
  // SC_jpeg_no_color_transform.dcm's case. Before the fix the 8-bit path answered magenta for the near-white block
  // (libjpeg-turbo guessed YCbCr and converted); the 12-bit path converted too (libjpeg's guess, copied).
  it.each([8, 12] as const)(
    'leaves a %i-bit stream that states nothing (ids 0,1,2) labelled RGB unconverted',
    async (precision) => {
      const file = colourJpegFile(AS_STORED, 'RGB', { componentIds: IDS_012 }, precision);
      expectColours(await renderedColours(file), COLOURS);
    },
  );

  it.each([8, 12] as const)(
    'converts a %i-bit stream that states nothing (ids 0,1,2) labelled YBR_FULL_422',
    async (precision) => {
      const file = colourJpegFile(AS_YCBCR, 'YBR_FULL_422', { componentIds: IDS_012 }, precision);
      expectColours(await renderedColours(file), COLOURS);
    },
  );

  it.each([8, 12] as const)('converts a %i-bit JFIF stream even when labelled RGB', async (precision) => {
    const file = colourJpegFile(AS_YCBCR, 'RGB', { jfif: true, componentIds: IDS_012 }, precision);
    expectColours(await renderedColours(file), COLOURS);
  });

  it.each([
    [8, 'RGB'],
    [8, 'YBR_FULL_422'],
    [12, 'RGB'],
    [12, 'YBR_FULL_422'],
  ] as const)('leaves a %i-bit stream with APP14 transform 0 labelled %s unconverted', async (precision, label) => {
    const file = colourJpegFile(AS_STORED, label, { adobeTransform: 0 }, precision);
    expectColours(await renderedColours(file), COLOURS);
  });

  it.each([8, 12] as const)('converts a %i-bit stream with APP14 transform 1 labelled RGB', async (precision) => {
    const file = colourJpegFile(AS_YCBCR, 'RGB', { adobeTransform: 1, componentIds: IDS_012 }, precision);
    expectColours(await renderedColours(file), COLOURS);
  });

  // SC_rgb_jpeg_lossy_gdcm.dcm's case: a JFIF-style 4:2:0 stream without the JFIF segment, labelled RGB.
  it('converts a subsampled stream with ids 1,2,3 that states nothing, whatever the label', async () => {
    for (const label of ['RGB', 'YBR_FULL_422']) {
      const file = colourJpegFile(AS_YCBCR, label, { sampling: SUBSAMPLED_420 });
      expectColours(await renderedColours(file), COLOURS);
    }
  });

  it('leaves subsampled streams unconverted when their markers or (ids other than 1,2,3) their label say RGB', async () => {
    // libjpeg is told through an Adobe segment written before the stream's own: it still upsamples the chroma.
    const byLabel = colourJpegFile(AS_STORED, 'RGB', { sampling: SUBSAMPLED_420, componentIds: IDS_012 });
    expectColours(await renderedColours(byLabel), COLOURS);
    const byMarker = colourJpegFile(AS_STORED, 'YBR_FULL_422', { sampling: SUBSAMPLED_420, adobeTransform: 0 });
    expectColours(await renderedColours(byMarker), COLOURS);
  });

  it('says RGB after decoding (libjpeg converted or not) so nothing converts twice', async () => {
    const file = colourJpegFile(AS_STORED, 'YBR_FULL_422', { adobeTransform: 0 });
    expect((await decodeFrameAsync(parseDicom(file), 0)).photometric).toBe('RGB');
    const twelve = colourJpegFile(AS_YCBCR, 'YBR_FULL_422', { componentIds: IDS_012 }, 12);
    expect((await decodeFrameAsync(parseDicom(twelve), 0)).photometric).toBe('YBR_FULL');
  });

  it('converts a real encoder stream (jpeg-js: JFIF, ids 1,2,3) labelled RGB back to its colours', async () => {
    const size = 16;
    const rgba = new Uint8Array(size * size * 4);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const colour = COLOURS[y < 8 ? 0 : 1]![x < 8 ? 0 : 1]!;
        rgba.set([...colour, 255], (y * size + x) * 4);
      }
    }
    const codestream = new Uint8Array(jpeg.encode({ width: size, height: size, data: rgba }, 100).data);
    expect(readJpegColourInfo(codestream)).toMatchObject({ jfif: true, componentIds: [1, 2, 3] });
    const file = buildEncapsulatedDicom(pixelModule('RGB', size, 8), [[codestream]], {
      transferSyntax: TS.jpegBaseline,
    });
    expectColours(await renderedColours(file), COLOURS, 4);
  });
});

describe('jpeg-colour.ts', () => {
  const info = (o: Partial<JpegColourInfo>): JpegColourInfo => ({
    jfif: false,
    componentIds: [1, 2, 3],
    subsampled: false,
    ...o,
  });

  it('reads JFIF, the Adobe transform, component ids and subsampling before the first scan', () => {
    const blocks = [[[1, 2, 3]]];
    expect(readJpegColourInfo(encodeFlatBlockJpeg(blocks))).toEqual({
      jfif: false,
      adobeTransform: undefined,
      componentIds: [1, 2, 3],
      subsampled: false,
    });
    expect(
      readJpegColourInfo(
        encodeFlatBlockJpeg(blocks, {
          jfif: true,
          adobeTransform: 0,
          componentIds: [0, 1, 2],
          sampling: [0x21, 0x11, 0x11],
        }),
      ),
    ).toEqual({ jfif: true, adobeTransform: 0, componentIds: [0, 1, 2], subsampled: true });
    // The segment libjpeg-turbo.ts writes into streams it must not convert reads back as transform 0.
    const withAdobe = encodeFlatBlockJpeg(blocks, { componentIds: [0, 1, 2] });
    const patched = new Uint8Array([...withAdobe.subarray(0, 2), ...adobeSegment(0), ...withAdobe.subarray(2)]);
    expect(readJpegColourInfo(patched)?.adobeTransform).toBe(0);
    expect(readJpegColourInfo(new Uint8Array([0x89, 0x50, 0x4e, 0x47]))).toBeUndefined();
  });

  it('decides: stated markers, then subsampled ids 1,2,3, then Photometric Interpretation', () => {
    // 1. The markers win over the label.
    expect(jpegColourSpace(info({ jfif: true }), 'RGB')).toBe('YCbCr');
    expect(jpegColourSpace(info({ adobeTransform: 0 }), 'YBR_FULL_422')).toBe('RGB');
    expect(jpegColourSpace(info({ adobeTransform: 1 }), 'RGB')).toBe('YCbCr');
    expect(jpegColourSpace(info({ componentIds: [0x52, 0x47, 0x42] }), 'YBR_FULL_422')).toBe('RGB');
    // 2. Without them, the label.
    expect(jpegColourSpace(info({ componentIds: [0, 1, 2] }), 'RGB')).toBe('RGB');
    expect(jpegColourSpace(info({}), 'RGB')).toBe('RGB');
    expect(jpegColourSpace(info({ componentIds: [0, 1, 2] }), 'YBR_FULL_422')).toBe('YCbCr');
    expect(jpegColourSpace(info({}), 'YBR_FULL')).toBe('YCbCr');
    // 3. Except subsampled ids 1,2,3: YCbCr whatever the label.
    expect(jpegColourSpace(info({ subsampled: true }), 'RGB')).toBe('YCbCr');
    expect(jpegColourSpace(info({ subsampled: true, componentIds: [0, 1, 2] }), 'RGB')).toBe('RGB');
    expect(jpegColourSpace(info({ subsampled: true, adobeTransform: 0 }), 'RGB')).toBe('RGB');
  });
});
