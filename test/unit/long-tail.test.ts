// Real-world files from issue 22's long tail: JPEG colour decided by the stream's own markers, fragments whose bytes
// look like delimiters, private sequences of undefined length in implicit VR, and refusals in our own words.
import { describe, expect, it } from 'vitest';
import { buildAttributes } from '../../lambdas/dicom/attributes.js';
import '../../lambdas/dicom/codecs/index.js';
import { statedColourSpace } from '../../lambdas/dicom/codecs/jpeg-colour.js';
import { NotDicom } from '../../lambdas/dicom/errors.js';
import { StoredFrameReader, type ByteSource } from '../../lambdas/dicom/frame-source.js';
import { parseDicom } from '../../lambdas/dicom/parse.js';
import { decodeFrameAsync } from '../../lambdas/dicom/pixels.js';
import { processDicom } from '../../lambdas/dicom/process.js';
import { renderFrameAsync } from '../../lambdas/dicom/render.js';
import { TAGS } from '../../lambdas/dicom/tags.js';
import {
  TS,
  buildDicom,
  buildEncapsulatedDicom,
  encodeFlatBlockJpeg,
  encodeLiteralRleFrame,
  imageElements,
  patientElements,
  type FixtureElement,
  pixelModuleElements,
} from '../fixtures/dicom-builder.js';

const JPEG_EXTENDED = '1.2.840.10008.1.2.4.51';
const J2K_LOSSLESS = '1.2.840.10008.1.2.4.90';

function pixelModule(o: {
  rows: number;
  columns: number;
  samplesPerPixel: 1 | 3;
  photometric: string;
  bitsAllocated: 8 | 16;
  bitsStored: number;
  frames?: number;
}): FixtureElement[] {
  return [
    ...patientElements({ modality: 'OT', description: 'LONG TAIL' }),
    ...pixelModuleElements({ ...o, frames: o.frames || undefined }),
  ];
}

/** The file in memory behind the ByteSource interface (what S3 ranged GETs give the renderer). */
function memorySource(bytes: Uint8Array): ByteSource {
  return {
    read: async (start, end) => ({ bytes: bytes.subarray(start, Math.min(end, bytes.length)), size: bytes.length }),
  };
}

function containsBytes(haystack: Uint8Array, needle: number[]): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let k = 0; k < needle.length; k++) if (haystack[i + k] !== needle[k]) continue outer;
    return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// 1. JPEG colour: the stream says whether its components are YCbCr or stored as they are.

describe('JPEG colour follows the stream markers, as libjpeg does', () => {
  // A near-white scan, a green and a blue block, mid grey: read as YCbCr, the near-white block turns magenta.
  const rgbBlocks = [
    [
      [245, 240, 235],
      [20, 200, 60],
    ],
    [
      [0, 0, 255],
      [128, 128, 128],
    ],
  ];
  const MAGENTA = [255, 130, 255];

  /** A 16 x 16 colour JPEG file, labelled YBR_FULL_422 as most writers label any lossy colour JPEG. */
  function colourJpegFile(
    precision: 8 | 12,
    markers: { adobeTransform?: 0 | 1; jfif?: boolean; componentIds?: readonly number[] },
    photometric = 'YBR_FULL_422',
  ): Uint8Array {
    // 12-bit samples carry the same colours scaled by 16, so both precisions render alike.
    const blocks = rgbBlocks.map((row) => row.map((block) => block.map((v) => (precision === 8 ? v : v * 16))));
    return buildEncapsulatedDicom(
      pixelModule({
        rows: 16,
        columns: 16,
        samplesPerPixel: 3,
        photometric,
        bitsAllocated: precision === 8 ? 8 : 16,
        bitsStored: precision,
      }),
      [[encodeFlatBlockJpeg(blocks, { ...markers, precision })]],
      { transferSyntax: precision === 8 ? TS.jpegBaseline : JPEG_EXTENDED },
    );
  }

  async function renderedPixels(file: Uint8Array): Promise<{ white: number[]; green: number[] }> {
    const image = await renderFrameAsync(parseDicom(file), 0);
    expect(image.channels).toBe(3);
    return { white: [...image.data.subarray(0, 3)], green: [...image.data.subarray(8 * 3, 8 * 3 + 3)] };
  }

  function expectClose(actual: number[], expected: number[]): void {
    actual.forEach((v, i) => expect(Math.abs(v - expected[i]!), `${actual} vs ${expected}`).toBeLessThanOrEqual(1));
  }

  // Before the fix the 12-bit cases answered [255, 130, 255] (magenta): jpeg-dct.ts returned the samples unconverted
  // and render.ts converted them from YCbCr because Photometric Interpretation said YBR_FULL_422. The 8-bit cases
  // already passed (libjpeg-turbo reads the markers itself); they stay here so both paths keep agreeing.
  it.each([
    [8, 'APP14 transform 0', { adobeTransform: 0 as const }],
    [8, "component ids 'R','G','B'", { componentIds: [0x52, 0x47, 0x42] }],
    [12, 'APP14 transform 0', { adobeTransform: 0 as const }],
    [12, "component ids 'R','G','B'", { componentIds: [0x52, 0x47, 0x42] }],
  ] as const)(
    'renders a %i-bit RGB-coded stream (%s) labelled YBR_FULL_422 as RGB',
    async (precision, _name, markers) => {
      const { white, green } = await renderedPixels(colourJpegFile(precision, markers));
      expectClose(white, [245, 240, 235]);
      expectClose(green, [20, 200, 60]);
    },
  );

  // The other way round: a YCbCr stream is converted even when the file says RGB (libjpeg's choice, and what the
  // 8-bit path always did). Before the fix the 12-bit path left such a stream unconverted. (A stream that states
  // nothing follows the label: jpeg-colour.test.ts.)
  it.each([
    [8, 'JFIF', { jfif: true }],
    [8, 'APP14 transform 1', { adobeTransform: 1 as const }],
    [12, 'JFIF', { jfif: true }],
    [12, 'APP14 transform 1', { adobeTransform: 1 as const }],
  ] as const)('converts a %i-bit YCbCr-coded stream (%s) even when labelled RGB', async (precision, _name, markers) => {
    const { white } = await renderedPixels(colourJpegFile(precision, markers, 'RGB'));
    expectClose(white, MAGENTA);
  });

  it('reads the stream as libjpeg: JFIF first, then the Adobe transform, then the component ids', () => {
    const stated = (jfif: boolean, adobeTransform: number | undefined, componentIds: number[]) =>
      statedColourSpace({ jfif, adobeTransform, componentIds, subsampled: false });
    expect(stated(true, 0, [0x52, 0x47, 0x42])).toBe('YCbCr');
    expect(stated(false, 0, [1, 2, 3])).toBe('RGB');
    expect(stated(false, 1, [0x52, 0x47, 0x42])).toBe('YCbCr');
    expect(stated(false, 2, [1, 2, 3])).toBe('YCbCr');
    expect(stated(false, undefined, [0x52, 0x47, 0x42])).toBe('RGB');
    // Nothing stated: libjpeg guesses YCbCr; jpeg-colour.ts asks Photometric Interpretation (jpeg-colour.test.ts).
    expect(stated(false, undefined, [1, 2, 3])).toBeUndefined();
    expect(stated(false, undefined, [0, 1, 2])).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------
// 2. Fragments are found by their item lengths, whatever bytes they hold.

describe('encapsulated fragments that hold the bytes of delimiters', () => {
  const SEQUENCE_DELIMITER = [0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0];
  const ITEM = [0xfe, 0xff, 0x00, 0xe0, 0x10, 0, 0, 0];

  /** A 4 x 4 8-bit frame whose RLE fragment carries a whole sequence delimiter and an item header verbatim. */
  function delimiterFrame(seed: number): { pixels: Uint8Array; fragment: Uint8Array } {
    const pixels = new Uint8Array([...SEQUENCE_DELIMITER, ...ITEM]);
    pixels[15] = seed;
    return { pixels, fragment: encodeLiteralRleFrame(pixels, { rows: 4, columns: 4 }) };
  }

  it.each([true, false])(
    'parses, decodes, renders and reads frames exactly by item lengths (offset table: %s)',
    async (offsetTable) => {
      const frames = [delimiterFrame(1), delimiterFrame(2), delimiterFrame(3)];
      for (const { fragment } of frames) expect(containsBytes(fragment, SEQUENCE_DELIMITER)).toBe(true);
      const file = buildEncapsulatedDicom(
        pixelModule({
          rows: 4,
          columns: 4,
          samplesPerPixel: 1,
          photometric: 'MONOCHROME2',
          bitsAllocated: 8,
          bitsStored: 8,
          frames: 3,
        }),
        frames.map(({ fragment }) => [fragment]),
        { transferSyntax: TS.rle, offsetTable },
      );
      const parsed = parseDicom(file);
      expect(parsed.dataSet.elements[TAGS.PixelData]!.fragments).toHaveLength(3);
      for (const [index, { pixels }] of frames.entries()) {
        expect([...(await decodeFrameAsync(parsed, index)).samples]).toEqual([...pixels]);
      }
      const image = await renderFrameAsync(parsed, 2);
      expect(image.width * image.height).toBe(16);
      // The attributes JSON marks Pixel Data binary with its full length: three items and the offset table.
      const pixelData = buildAttributes(parsed).attributes['7FE0,0010']!;
      expect(pixelData.length).toBe(8 + (offsetTable ? 12 : 0) + frames.reduce((n, f) => n + 8 + f.fragment.length, 0));
      // The renderer's ranged reads (S3) find the same frames, byte for byte.
      const reader = await StoredFrameReader.open(memorySource(file));
      for (const [index, { fragment }] of frames.entries()) {
        const frame = await reader.frame(index);
        const bytes = frame.storedFrame?.bytes;
        if (bytes) expect([...bytes]).toEqual([...fragment]);
        expect([...(await decodeFrameAsync(frame.parsed, index, frame.storedFrame)).samples]).toEqual([
          ...frames[index]!.pixels,
        ]);
      }
    },
  );

  it('decodes a JPEG 2000 codestream whose comment segment holds a sequence delimiter', async () => {
    const samples = Array.from({ length: 64 }, (_, i) => (i * 37) & 0xff);
    const module = await (await import('@cornerstonejs/codec-openjpeg/wasmjs')).default();
    const encoder = new module.J2KEncoder();
    let encoded: Uint8Array;
    try {
      encoder
        .getDecodedBuffer({ width: 8, height: 8, bitsPerSample: 8, componentCount: 1, isSigned: false })
        .set(samples);
      encoder.setDecompositions(2);
      encoder.setQuality(true, 0);
      encoder.encode();
      encoded = encoder.getEncodedBuffer().slice();
    } finally {
      encoder.delete();
    }
    // A COM segment (FF64, Rcom 0: binary) right after SIZ, holding the delimiter and an item header verbatim.
    const sizEnd = 4 + ((encoded[4]! << 8) | encoded[5]!);
    const payload = [...SEQUENCE_DELIMITER, ...ITEM];
    const comment = [0xff, 0x64, 0, 4 + payload.length, 0, 0, ...payload];
    const codestream = new Uint8Array([...encoded.subarray(0, sizEnd), ...comment, ...encoded.subarray(sizEnd)]);
    const file = buildEncapsulatedDicom(
      pixelModule({
        rows: 8,
        columns: 8,
        samplesPerPixel: 1,
        photometric: 'MONOCHROME2',
        bitsAllocated: 8,
        bitsStored: 8,
      }),
      [[codestream]],
      { transferSyntax: J2K_LOSSLESS },
    );
    const parsed = parseDicom(file);
    expect([...(await decodeFrameAsync(parsed, 0)).samples]).toEqual(samples);
    const reader = await StoredFrameReader.open(memorySource(file));
    const frame = await reader.frame(0);
    const stored = frame.storedFrame!.bytes;
    expect([...stored.subarray(0, codestream.length)]).toEqual([...codestream]);
    expect((await renderFrameAsync(parsed, 0)).width).toBe(8);
  });
});

// ---------------------------------------------------------------------------------------------
// 3. Private sequences of undefined length in implicit VR (PS3.5 6.2.2 and CP-246), and refusals in our words.

describe('private sequences of undefined length in implicit VR little endian', () => {
  const privateSequenceFile = (): Uint8Array =>
    buildDicom(
      [
        ...patientElements({ modality: 'MR' }),
        ...imageElements({ rows: 2, columns: 2, pixels: [0, 100, 200, 300] }),
        { tag: 0x00290010, vr: 'LO', value: 'ACME MR 1.0' },
        {
          tag: 0x00291010,
          vr: 'SQ',
          value: {
            undefinedLength: true,
            items: [
              [{ tag: 0x00291001, vr: 'LO', value: 'FIRST' }],
              [
                {
                  tag: 0x00291020,
                  vr: 'SQ',
                  value: { undefinedLength: true, items: [[{ tag: 0x00100020, vr: 'LO', value: 'NESTED' }]] },
                },
              ],
            ],
          },
        },
        { tag: 0x00291030, vr: 'LO', value: 'AFTER' },
      ],
      { transferSyntax: TS.implicitLE },
    );

  it('accepts the file; its attributes show the sequence with its items and everything after it', async () => {
    const parsed = parseDicom(privateSequenceFile());
    const { attributes } = buildAttributes(parsed);
    expect(attributes['0029,1010']).toMatchObject({ vr: 'SQ' });
    const items = attributes['0029,1010']!.value as Array<Record<string, { vr: string; value: unknown }>>;
    expect(items).toHaveLength(2);
    expect(items[0]!['0029,1001']).toMatchObject({ length: 6 });
    const nested = items[1]!['0029,1020']!.value as Array<Record<string, { value: unknown }>>;
    expect(nested[0]!['0010,0020']!.value).toBe('NESTED');
    expect(attributes['0029,1030']).toMatchObject({ length: 6 });
    expect(attributes['0010,0010']!.value).toBe('DOE^JOHN');
    const outcome = await processDicom(privateSequenceFile());
    expect(outcome.result.image).toMatchObject({ state: 'RENDERED' });
  });

  // Before the fix these answered dicom-parser's own words, e.g. "parameter 'position' cannot be greater than or
  // equal to 'byteArray' length" (nothing after the meta header) and "littleEndianByteArrayParser.readUint32:
  // attempt to read past end of buffer" (cut inside the private sequence).
  const LIBRARY_WORDS = /dicomParser|byteArray|ByteStream|readUint|readFixedString|parameter|position|buffer/i;

  it('refuses a file with nothing after its meta header in our own words', () => {
    const full = buildDicom([], { transferSyntax: TS.implicitLE });
    const metaEnd = 144 + new DataView(full.buffer).getUint32(140, true);
    const metaOnly = full.subarray(0, metaEnd);
    expect(() => parseDicom(metaOnly)).toThrow(NotDicom);
    expect(() => parseDicom(metaOnly)).toThrow(/no dataset/);
  });

  it('refuses cut-short copies of the file only in our own words', () => {
    const file = privateSequenceFile();
    const reasons = new Set<string>();
    // Every cut after "DICM". (Many implicit VR cuts are still accepted: dicom-parser reads past the end without
    // complaint there. That is a separate defect; here only the wording of refusals is checked.)
    for (let cut = 132; cut < file.length; cut++) {
      try {
        parseDicom(file.subarray(0, cut));
      } catch (error) {
        expect(error).toBeInstanceOf(NotDicom);
        reasons.add((error as Error).message);
      }
    }
    expect(reasons.size).toBeGreaterThan(0);
    for (const reason of reasons) expect(reason).not.toMatch(LIBRARY_WORDS);
  });
});
