// WADO-RS frames: as stored (native, big endian, bit-packed, encapsulated), decoded to native LE, 406/404, ranged reads.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ByteSource } from '../../lambdas/dicom/frame-source.js';
import { frameMediaType, parseFrameList, retrieveFrames, type FrameSyntaxRequest } from '../../lambdas/dicom/frames.js';
import { parseDicom, type ParsedDicom } from '../../lambdas/dicom/parse.js';
import { decodeFrame, decodeFrameAsync, isNativeTransferSyntax } from '../../lambdas/dicom/pixels.js';
import { clientError } from '../../lambdas/http/domain-errors.js';
import type { HttpError } from '../../lambdas/http/errors.js';
import {
  TS,
  buildDeflatedDicom,
  buildDicom,
  buildEncapsulatedDicom,
  encodeRleFrame,
  multiFrameMono8,
  patientElements,
  type FixtureElement,
} from '../fixtures/dicom-builder.js';

const EXPLICIT_LE = '1.2.840.10008.1.2.1';
const OCTET_LE = `application/octet-stream; transfer-syntax=${EXPLICIT_LE}`;

/** The file in memory behind the ByteSource interface, counting the bytes handed out. */
function source(bytes: Uint8Array): ByteSource & { bytesRead: number; reads: number } {
  const counted = {
    bytesRead: 0,
    reads: 0,
    read: async (start: number, end: number) => {
      const slice = bytes.subarray(start, Math.min(end, bytes.length));
      counted.bytesRead += slice.length;
      counted.reads++;
      return { bytes: slice, size: bytes.length };
    },
  };
  return counted;
}

/** The error answer the client would get. */
async function failure(run: () => Promise<unknown>): Promise<HttpError> {
  try {
    await run();
  } catch (error) {
    const answer = clientError(error);
    if (answer) return answer;
    throw error;
  }
  throw new Error('expected an error answer');
}

function imagePixelModule(o: {
  rows: number;
  columns: number;
  frames: number;
  bitsAllocated: number;
  bitsStored?: number;
  signed?: boolean;
  samplesPerPixel?: number;
  photometric?: string;
}): FixtureElement[] {
  const spp = o.samplesPerPixel ?? 1;
  const elements: FixtureElement[] = [
    ...patientElements({ modality: 'OT', description: 'SYNTHETIC FRAMES' }),
    { tag: 0x00280002, vr: 'US', value: spp },
    { tag: 0x00280004, vr: 'CS', value: o.photometric ?? (spp === 3 ? 'RGB' : 'MONOCHROME2') },
    { tag: 0x00280008, vr: 'IS', value: String(o.frames) },
    { tag: 0x00280010, vr: 'US', value: o.rows },
    { tag: 0x00280011, vr: 'US', value: o.columns },
    { tag: 0x00280100, vr: 'US', value: o.bitsAllocated },
    { tag: 0x00280101, vr: 'US', value: o.bitsStored ?? o.bitsAllocated },
    { tag: 0x00280102, vr: 'US', value: (o.bitsStored ?? o.bitsAllocated) - 1 },
    { tag: 0x00280103, vr: 'US', value: o.signed ? 1 : 0 },
  ];
  if (spp === 3) elements.push({ tag: 0x00280006, vr: 'US', value: 0 });
  return elements;
}

/** Signed 16-bit samples for `frames` frames: frame f, pixel p holds (p * 37 + f * 1000) - 3000. */
function signedSamples(rows: number, columns: number, frames: number): number[][] {
  return Array.from({ length: frames }, (_, f) =>
    Array.from({ length: rows * columns }, (_, p) => ((p * 37 + f * 1000) % 7000) - 3000),
  );
}

function int16Bytes(values: readonly number[], littleEndian: boolean): Uint8Array {
  const out = new Uint8Array(values.length * 2);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setInt16(i * 2, v, littleEndian));
  return out;
}

/** A native multi-frame signed 16-bit image in `transferSyntax`; returns the file and each frame's samples. */
function native16(transferSyntax: string, rows = 6, columns = 5, frames = 4) {
  const samples = signedSamples(rows, columns, frames);
  const littleEndian = transferSyntax !== TS.explicitBE;
  const pixelBytes = int16Bytes(samples.flat(), littleEndian);
  const elements = [
    ...imagePixelModule({ rows, columns, frames, bitsAllocated: 16, signed: true }),
    { tag: 0x7fe00010, vr: 'OW', value: pixelBytes },
  ];
  const file =
    transferSyntax === TS.deflatedLE ? buildDeflatedDicom(elements) : buildDicom(elements, { transferSyntax });
  return { file, samples };
}

describe('frameMediaType and parseFrameList', () => {
  it.each([
    ['1.2.840.10008.1.2.4.50', 'image/jpeg'],
    ['1.2.840.10008.1.2.4.51', 'image/jpeg'],
    ['1.2.840.10008.1.2.4.57', 'image/jpeg'],
    ['1.2.840.10008.1.2.4.70', 'image/jpeg'],
    ['1.2.840.10008.1.2.4.80', 'image/jls'],
    ['1.2.840.10008.1.2.4.81', 'image/jls'],
    ['1.2.840.10008.1.2.4.90', 'image/jp2'],
    ['1.2.840.10008.1.2.4.91', 'image/jp2'],
    ['1.2.840.10008.1.2.4.92', 'image/jpx'],
    ['1.2.840.10008.1.2.4.93', 'image/jpx'],
    ['1.2.840.10008.1.2.4.201', 'image/jphc'],
    ['1.2.840.10008.1.2.4.202', 'image/jphc'],
    ['1.2.840.10008.1.2.4.203', 'image/jphc'],
    ['1.2.840.10008.1.2.1', 'application/octet-stream'],
    ['1.2.840.10008.1.2.5', 'application/octet-stream'],
    ['1.2.840.10008.1.2.1.98', 'application/octet-stream'],
    ['1.2.840.10008.1.2.1.99', 'application/octet-stream'],
  ])('%s is %s', (uid, type) => {
    expect(frameMediaType(uid)).toBe(`${type}; transfer-syntax=${uid}`);
  });

  it('parses frame lists, keeping order and duplicates', () => {
    expect(parseFrameList('1')).toEqual([1]);
    expect(parseFrameList('1,3,5')).toEqual([1, 3, 5]);
    expect(parseFrameList('3,1,3')).toEqual([3, 1, 3]);
    expect(parseFrameList(Array.from({ length: 10_000 }, (_, i) => i + 1).join(','))).toHaveLength(10_000);
  });

  it.each(['', ',', '1,', ',1', '1,,2', '0', '1,0', '-1', '+1', '1.5', 'a', '1, 2', ' 1', '1e3', '99999999999999999'])(
    'refuses %j',
    (text) => {
      expect(parseFrameList(text)).toBeUndefined();
    },
  );

  it('refuses more than 10,000 entries', () => {
    expect(parseFrameList(Array.from({ length: 10_001 }, () => '1').join(','))).toBeUndefined();
  });
});

describe('retrieveFrames: native syntaxes', () => {
  it('returns frame 2 of a 16-bit multi-frame file byte for byte', async () => {
    const { file, samples } = native16(TS.explicitLE);
    const [frame, ...rest] = await retrieveFrames(source(file), [2], '*');
    expect(rest).toEqual([]);
    expect(frame!.contentType).toBe(OCTET_LE);
    expect(frame!.transferSyntaxUid).toBe(EXPLICIT_LE);
    expect([...frame!.bytes]).toEqual([...int16Bytes(samples[1]!, true)]);
  });

  it.each([
    ['explicit VR big endian', TS.explicitBE],
    ['deflated explicit VR little endian', TS.deflatedLE],
    ['implicit VR little endian', TS.implicitLE],
  ])('%s frames come back as explicit VR little endian', async (_name, transferSyntax) => {
    const { file, samples } = native16(transferSyntax);
    for (const accept of ['*', [EXPLICIT_LE]] as FrameSyntaxRequest[]) {
      const frames = await retrieveFrames(source(file), [1, 4], accept);
      expect(frames.map((f) => f.contentType)).toEqual([OCTET_LE, OCTET_LE]);
      expect([...frames[0]!.bytes]).toEqual([...int16Bytes(samples[0]!, true)]);
      expect([...frames[1]!.bytes]).toEqual([...int16Bytes(samples[3]!, true)]);
    }
  });

  it('8-bit big endian OW (words swapped) frames starting mid-word come back in pixel order', async () => {
    const rows = 3;
    const columns = 3;
    const pixels = Uint8Array.from({ length: 18 }, (_, i) => i + 1);
    const swapped = Buffer.from(pixels).swap16();
    const file = buildDicom(
      [
        ...imagePixelModule({ rows, columns, frames: 2, bitsAllocated: 8 }),
        { tag: 0x7fe00010, vr: 'OW', value: swapped },
      ],
      { transferSyntax: TS.explicitBE },
    );
    const frames = await retrieveFrames(source(file), [2, 1], '*');
    expect([...frames[0]!.bytes]).toEqual([...pixels.subarray(9, 18)]);
    expect([...frames[1]!.bytes]).toEqual([...pixels.subarray(0, 9)]);
  });

  it('bit-packed frames that start mid-byte are realigned to bit 0 with nothing after the frame', async () => {
    const rows = 3;
    const columns = 5; // 15 bits a frame: frames 2-4 start inside a byte
    const frameCount = 4;
    const bits = Array.from({ length: rows * columns * frameCount }, (_, i) => ((i * 7) % 5 < 2 ? 1 : 0));
    const packed = new Uint8Array(8);
    bits.forEach((bit, i) => {
      if (bit) packed[i >>> 3]! |= 1 << (i & 7);
    });
    const file = buildDicom([
      ...imagePixelModule({ rows, columns, frames: frameCount, bitsAllocated: 1 }),
      { tag: 0x7fe00010, vr: 'OB', value: packed },
    ]);
    const parsed = parseDicom(file);
    for (let frame = 1; frame <= frameCount; frame++) {
      const [retrieved] = await retrieveFrames(source(file), [frame], '*');
      expect(retrieved!.bytes).toHaveLength(2); // ceil(15 / 8)
      const expected = new Uint8Array(2);
      bits.slice((frame - 1) * 15, frame * 15).forEach((bit, i) => {
        if (bit) expected[i >>> 3]! |= 1 << (i & 7);
      });
      expect([...retrieved!.bytes], `frame ${frame}`).toEqual([...expected]);
      // The same pixels the renderer decodes.
      const unpacked = Array.from({ length: 15 }, (_, i) => (retrieved!.bytes[i >>> 3]! >>> (i & 7)) & 1);
      expect(unpacked).toEqual([...decodeFrame(parsed, frame - 1).samples]);
    }
  });

  it('returns several frames in the order asked, duplicates included', async () => {
    const { file, samples } = native16(TS.explicitLE);
    const frames = await retrieveFrames(source(file), [3, 1, 3], '*');
    expect(frames.map((f) => [...f.bytes])).toEqual(
      [samples[2]!, samples[0]!, samples[2]!].map((s) => [...int16Bytes(s, true)]),
    );
  });

  it('reads the header and one frame of a 500-frame file, not the file', async () => {
    const rows = 256;
    const columns = 256;
    const file = multiFrameMono8({ rows, columns, frames: 500 });
    const from = source(file);
    const [frame] = await retrieveFrames(from, [250], '*');
    expect(frame!.bytes).toHaveLength(rows * columns);
    expect(frame!.bytes.subarray(0, columns).every((v) => v === 249)).toBe(true);
    expect(frame!.bytes[columns * 10 + 3]).toBe(13); // the gradient below the first row
    expect(from.bytesRead).toBeLessThanOrEqual(64 * 1024 + rows * columns);
    expect(from.bytesRead * 100).toBeLessThan(file.length);

    const three = source(file);
    await retrieveFrames(three, [1, 250, 500], '*');
    expect(three.bytesRead).toBeLessThanOrEqual(64 * 1024 + 3 * rows * columns);
  });

  it('a frame past Number of Frames is FrameOutOfRange (404) naming the count', async () => {
    const { file } = native16(TS.explicitLE);
    for (const frames of [[5], [1, 5], [0]]) {
      const error = await failure(() => retrieveFrames(source(file), frames, '*'));
      expect(error.code).toBe('FRAME_NOT_FOUND');
      expect(error.status).toBe(404);
      expect(error.message).toContain('4 frame');
    }
  });

  it('a native file asked for only in a compressed syntax is FrameNotAcceptable (406) naming the stored syntax', async () => {
    const { file } = native16(TS.explicitBE);
    const error = await failure(() => retrieveFrames(source(file), [1], ['1.2.840.10008.1.2.4.50']));
    expect(error.status).toBe(406);
    expect(error.code).toBe('NOT_ACCEPTABLE');
    expect(error.message).toContain('Explicit VR Big Endian (1.2.840.10008.1.2.2)');
  });
});

describe('retrieveFrames: encapsulated syntaxes', () => {
  /** Frame f: two fragments, a JPEG-like start (FFD8) then a tail, each `size` bytes of f-dependent content. */
  function jpegLikeFrames(count: number, size: number): Uint8Array[][] {
    return Array.from({ length: count }, (_, f) => {
      const head = Uint8Array.from({ length: size }, (_, i) => (i * 13 + f) & 0xff);
      head[0] = 0xff;
      head[1] = 0xd8;
      const tail = Uint8Array.from({ length: size }, (_, i) => (i * 7 + f * 3 + 1) & 0x7f);
      return [head, tail];
    });
  }

  function jpegFile(frames: Uint8Array[][], offsetTable: boolean): Uint8Array {
    return buildEncapsulatedDicom(
      imagePixelModule({ rows: 8, columns: 8, frames: frames.length, bitsAllocated: 8 }),
      frames,
      { transferSyntax: TS.jpegBaseline, offsetTable },
    );
  }

  it.each([true, false])('with an offset table %s: a frame is its fragments, concatenated', async (offsetTable) => {
    const fragments = jpegLikeFrames(3, 40_000);
    const file = jpegFile(fragments, offsetTable);
    const from = source(file);
    const frames = await retrieveFrames(from, [2, 3, 1], '*');
    expect(frames.map((f) => f.contentType)).toEqual(
      Array(3).fill('image/jpeg; transfer-syntax=1.2.840.10008.1.2.4.50'),
    );
    [2, 3, 1].forEach((number, i) => {
      expect(Buffer.from(frames[i]!.bytes).equals(Buffer.concat(fragments[number - 1]!)), `frame ${number}`).toBe(true);
    });
    // Each byte is read once at most; without an offset table the frames can only be found by reading every
    // fragment: once for all frames asked for, not once a frame.
    if (offsetTable) expect(from.bytesRead).toBeLessThanOrEqual(file.length);
    else expect(from.bytesRead).toBe(file.length);
  });

  it('with an offset table, one frame of many reads little more than that frame', async () => {
    const fragments = jpegLikeFrames(20, 30_000);
    const file = jpegFile(fragments, true);
    const from = source(file);
    const [frame] = await retrieveFrames(from, [11], '*');
    expect(frame!.bytes).toHaveLength(60_000);
    expect(from.bytesRead).toBeLessThan(64 * 1024 + 2 * 60_000 + 100);
  });

  /** An RLE multi-frame signed 16-bit image; returns the file, each frame's samples and RLE bytes. */
  function rle16(offsetTable = true) {
    const rows = 8;
    const columns = 9;
    const samples = signedSamples(rows, columns, 3);
    const encoded = samples.map((s) =>
      encodeRleFrame(
        s.map((v) => v & 0xffff),
        { rows, columns, bitsAllocated: 16 },
      ),
    );
    const file = buildEncapsulatedDicom(
      imagePixelModule({ rows, columns, frames: 3, bitsAllocated: 16, signed: true }),
      encoded.map((frame) => [frame]),
      { transferSyntax: TS.rle, offsetTable },
    );
    return { file, samples, encoded };
  }

  it('RLE asked for as explicit VR LE is decoded to the source samples, little endian', async () => {
    for (const offsetTable of [true, false]) {
      const { file, samples } = rle16(offsetTable);
      const frames = await retrieveFrames(source(file), [1, 3], [EXPLICIT_LE]);
      expect(frames.map((f) => f.contentType)).toEqual([OCTET_LE, OCTET_LE]);
      expect(frames.map((f) => f.transferSyntaxUid)).toEqual([EXPLICIT_LE, EXPLICIT_LE]);
      expect([...frames[0]!.bytes]).toEqual([...int16Bytes(samples[0]!, true)]);
      expect([...frames[1]!.bytes]).toEqual([...int16Bytes(samples[2]!, true)]);
    }
  });

  it('8-bit colour RLE decodes to interleaved RGB bytes', async () => {
    const rows = 4;
    const columns = 5;
    const rgb = Array.from({ length: rows * columns * 3 }, (_, i) => (i * 11) & 0xff);
    const file = buildEncapsulatedDicom(
      imagePixelModule({ rows, columns, frames: 1, bitsAllocated: 8, samplesPerPixel: 3 }),
      [[encodeRleFrame(rgb, { rows, columns, samplesPerPixel: 3, bitsAllocated: 8 })]],
      { transferSyntax: TS.rle },
    );
    const [frame] = await retrieveFrames(source(file), [1], ['1.2.840.10008.1.2.4.90', EXPLICIT_LE]);
    expect([...frame!.bytes]).toEqual(rgb);
  });

  it("RLE asked for as '*' is the stored RLE bytes, as application/octet-stream", async () => {
    const { file, encoded } = rle16();
    for (const accept of ['*', ['1.2.840.10008.1.2.5'], ['1.2.840.10008.1.2.5', EXPLICIT_LE]] as FrameSyntaxRequest[]) {
      const [frame] = await retrieveFrames(source(file), [2], accept);
      expect(frame!.contentType).toBe('application/octet-stream; transfer-syntax=1.2.840.10008.1.2.5');
      expect(frame!.transferSyntaxUid).toBe('1.2.840.10008.1.2.5');
      expect(Buffer.from(frame!.bytes).equals(encoded[1]!)).toBe(true);
    }
  });

  it('a syntax neither stored nor decodable to is FrameNotAcceptable (406) naming the stored syntax', async () => {
    const { file } = rle16();
    const error = await failure(() =>
      retrieveFrames(source(file), [1], ['1.2.840.10008.1.2.4.90', '1.2.840.10008.1.2']),
    );
    expect(error.code).toBe('NOT_ACCEPTABLE');
    expect(error.status).toBe(406);
    expect(error.message).toContain('RLE Lossless (1.2.840.10008.1.2.5)');
  });

  it('a frame past Number of Frames is FrameOutOfRange (404)', async () => {
    const { file } = rle16();
    const error = await failure(() => retrieveFrames(source(file), [1, 4], '*'));
    expect(error.code).toBe('FRAME_NOT_FOUND');
    expect(error.message).toContain('3 frame');
  });
});

const samplesDir = resolve(process.env.DICOM_SAMPLES ?? join(import.meta.dirname, '../../../shared/dicom-samples'));
const manifestPath = join(samplesDir, 'MANIFEST.tsv');

describe.skipIf(!existsSync(manifestPath))('retrieveFrames on the sample corpus', () => {
  const rows = existsSync(manifestPath) ? readFileSync(manifestPath, 'utf8').trim().split('\n') : [];
  const columnsOf = (rows[0] ?? '').split('\t');
  const entries = rows
    .slice(1)
    .map((line) => Object.fromEntries(line.split('\t').map((v, i) => [columnsOf[i], v])) as Record<string, string>)
    .filter((e) => e.rows && e.file && existsSync(join(samplesDir, e.file)));

  it.each(entries.map((e) => [e.file!, e] as const))('%s: frame 1 as stored, and decoded', async (_file, entry) => {
    const file = new Uint8Array(readFileSync(join(samplesDir, entry.file!)));
    let parsed: ParsedDicom;
    try {
      parsed = parseDicom(file);
      await decodeFrameAsync(parsed, 0);
    } catch {
      return; // pixel data pixels.ts cannot decode: out of scope here
    }
    const [frame] = await retrieveFrames(source(file), [1], '*');
    expect(frame!.bytes.length).toBeGreaterThan(0);
    if (!isNativeTransferSyntax(parsed.transferSyntaxUid)) {
      const [decoded] = await retrieveFrames(source(file), [1], [EXPLICIT_LE]);
      const spp = parsed.dataSet.uint16('x00280002') ?? 1;
      expect(decoded!.bytes).toHaveLength(
        Number(entry.rows) * Number(entry.columns) * spp * (Number(entry.bits_allocated) / 8),
      );
      expect(decoded!.contentType).toBe(OCTET_LE);
    }
  });
});
