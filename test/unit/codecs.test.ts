// Codecs of the compressed transfer syntaxes: real encoders' output decoded back, the 12-bit DCT decoder against
// libjpeg and known answers, corrupt streams as 422s with a reason, lazy loading and photometric handling.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CODECS } from '../../lambdas/dicom/codecs/index.js';
import { charls } from '../../lambdas/dicom/codecs/charls.js';
import { endsWithEoi, j2kSize, jpegFrameHeader } from '../../lambdas/dicom/codecs/headers.js';
import { decodeDctJpeg } from '../../lambdas/dicom/codecs/jpeg-dct.js';
import { jpegLosslessModule } from '../../lambdas/dicom/codecs/jpeg-lossless.js';
import { libjpeg } from '../../lambdas/dicom/codecs/libjpeg-turbo.js';
import { openjpeg } from '../../lambdas/dicom/codecs/openjpeg.js';
import { openjph } from '../../lambdas/dicom/codecs/openjph.js';
import { clientError } from '../../lambdas/http/domain-errors.js';
import type { HttpError } from '../../lambdas/http/errors.js';
import { parseDicom } from '../../lambdas/dicom/parse.js';
import { canDecode, decodeFrame, decodeFrameAsync, type DecodedFrame } from '../../lambdas/dicom/pixels.js';
import { renderFrameAsync } from '../../lambdas/dicom/render.js';
import { buildEncapsulatedDicom, imageElements, type FixtureElement } from '../fixtures/dicom-builder.js';

const UID = {
  jpegBaseline: '1.2.840.10008.1.2.4.50',
  jpegExtended: '1.2.840.10008.1.2.4.51',
  jpegLossless: '1.2.840.10008.1.2.4.57',
  jpegLosslessSv1: '1.2.840.10008.1.2.4.70',
  jpegLs: '1.2.840.10008.1.2.4.80',
  jpegLsNear: '1.2.840.10008.1.2.4.81',
  j2kLossless: '1.2.840.10008.1.2.4.90',
  j2k: '1.2.840.10008.1.2.4.91',
  htj2kLossless: '1.2.840.10008.1.2.4.201',
  htj2kRpcl: '1.2.840.10008.1.2.4.202',
  htj2k: '1.2.840.10008.1.2.4.203',
} as const;

interface Image {
  rows: number;
  columns: number;
  bitsAllocated?: 8 | 16;
  bitsStored?: number;
  signed?: boolean;
  photometric?: string;
  samplesPerPixel?: 1 | 3;
  extra?: FixtureElement[];
}

/** A DICOM file whose single frame is `codestream` in transfer syntax `uid`. */
function dicom(uid: string, o: Image, codestream: Uint8Array): Uint8Array {
  const count = o.rows * o.columns * (o.samplesPerPixel ?? 1);
  const elements = imageElements({ ...o, pixels: new Array<number>(count).fill(0) });
  return buildEncapsulatedDicom(elements, [[codestream]], { transferSyntax: uid });
}

async function decode(uid: string, o: Image, codestream: Uint8Array): Promise<DecodedFrame> {
  return decodeFrameAsync(parseDicom(dicom(uid, o, codestream)));
}

async function decodeError(uid: string, o: Image, codestream: Uint8Array): Promise<HttpError> {
  try {
    await decode(uid, o, codestream);
  } catch (error) {
    const answer = clientError(error);
    if (answer) return answer;
    throw error;
  }
  throw new Error('decoded without an error');
}

/** Deterministic pseudo-random integers in [0, n). */
function random(seed: number): (n: number) => number {
  let state = seed;
  return (n) => {
    state = (Math.imul(state, 1103515245) + 12345) & 0x7fffffff;
    return state % n;
  };
}

// ---------------------------------------------------------------------------------------------
// Test-only JPEG writers: they code chosen values exactly, which no JPEG encoder package here can do in 12-bit.

class BitWriter {
  private bytes: number[] = [];
  private buffer = 0;
  private count = 0;
  put(value: number, length: number): void {
    for (let i = length - 1; i >= 0; i--) {
      this.buffer = (this.buffer << 1) | ((value >> i) & 1);
      if (++this.count === 8) this.emit();
    }
  }
  private emit(): void {
    this.bytes.push(this.buffer);
    if (this.buffer === 0xff) this.bytes.push(0); // byte stuffing
    this.buffer = 0;
    this.count = 0;
  }
  /** Pads the last byte with 1 bits (F.1.2.3) and returns the entropy-coded bytes so far. */
  flush(): number[] {
    while (this.count !== 0) this.put(1, 1);
    const out = this.bytes;
    this.bytes = [];
    return out;
  }
}

function segment(marker: number, body: number[]): number[] {
  const length = body.length + 2;
  return [0xff, marker, length >> 8, length & 0xff, ...body];
}

/** Canonical Huffman codes for `lengths[symbolIndex]` (symbols sorted by length first). */
function huffman(symbols: number[], lengths: number[]): { dht: number[]; codes: Map<number, [number, number]> } {
  const counts = new Array<number>(16).fill(0);
  for (const l of lengths) counts[l - 1]!++;
  const order = symbols.map((s, i) => [s, lengths[i]!] as const).sort((a, b) => a[1] - b[1]);
  const codes = new Map<number, [number, number]>();
  let code = 0;
  let length = 1;
  for (const [symbol, l] of order) {
    while (length < l) {
      code <<= 1;
      length++;
    }
    codes.set(symbol, [code++, l]);
  }
  return { dht: [...counts, ...order.map(([s]) => s)], codes };
}

function category(v: number): number {
  let s = 0;
  for (let a = Math.abs(v); a > 0; a >>= 1) s++;
  return s;
}

function putValue(w: BitWriter, v: number, s: number): void {
  if (s > 0 && s < 16) w.put(v >= 0 ? v : v + (1 << s) - 1, s);
}

interface DctSpec {
  precision: 8 | 12;
  width: number;
  height: number;
  /** Sampling factors per component (one entry: greyscale). */
  sampling: [number, number][];
  /** Quantization table in zig-zag order (values up to 255). */
  quant: number[];
  /** The quantized coefficients of a block, in zig-zag order. */
  block: (component: number, row: number, col: number) => number[];
  restartInterval?: number;
}

/** A sequential Huffman DCT JPEG with the given quantized coefficients, interleaved when it has several components. */
function writeDctJpeg(spec: DctSpec): Uint8Array {
  const dc = huffman(
    Array.from({ length: 16 }, (_, i) => i),
    new Array<number>(16).fill(5),
  );
  const acSymbols = [0x00, 0xf0];
  for (let run = 0; run < 16; run++) for (let size = 1; size <= 14; size++) acSymbols.push((run << 4) | size);
  // 100 codes of 8 bits and the rest of 12: decoding needs both the lookahead table and the long-code path.
  const ac = huffman(
    acSymbols,
    acSymbols.map((_, i) => (i < 100 ? 8 : 12)),
  );
  const hMax = Math.max(...spec.sampling.map(([h]) => h));
  const vMax = Math.max(...spec.sampling.map(([, v]) => v));
  const out: number[] = [0xff, 0xd8];
  out.push(...segment(0xdb, [0, ...spec.quant]));
  out.push(...segment(0xc4, [0x00, ...dc.dht]));
  out.push(...segment(0xc4, [0x10, ...ac.dht]));
  const sof = [spec.precision, spec.height >> 8, spec.height & 255, spec.width >> 8, spec.width & 255];
  sof.push(spec.sampling.length);
  spec.sampling.forEach(([h, v], i) => sof.push(i + 1, (h << 4) | v, 0));
  out.push(...segment(spec.precision === 8 ? 0xc0 : 0xc1, sof));
  if (spec.restartInterval) out.push(...segment(0xdd, [spec.restartInterval >> 8, spec.restartInterval & 255]));
  const sos = [spec.sampling.length];
  spec.sampling.forEach((_, i) => sos.push(i + 1, 0x00));
  out.push(...segment(0xda, [...sos, 0, 63, 0]));

  const w = new BitWriter();
  const predictions = spec.sampling.map(() => 0);
  const writeBlock = (component: number, row: number, col: number): void => {
    const coefficients = spec.block(component, row, col);
    const diff = coefficients[0]! - predictions[component]!;
    predictions[component] = coefficients[0]!;
    const s = category(diff);
    w.put(...dc.codes.get(s)!);
    putValue(w, diff, s);
    let run = 0;
    for (let k = 1; k < 64; k++) {
      const v = coefficients[k]!;
      if (v === 0) {
        run++;
        continue;
      }
      for (; run > 15; run -= 16) w.put(...ac.codes.get(0xf0)!);
      const size = category(v);
      w.put(...ac.codes.get((run << 4) | size)!);
      putValue(w, v, size);
      run = 0;
    }
    if (run > 0) w.put(...ac.codes.get(0x00)!);
  };
  const single = spec.sampling.length === 1;
  const mcusPerLine = single ? Math.ceil(spec.width / 8) : Math.ceil(spec.width / (8 * hMax));
  const mcusPerColumn = single ? Math.ceil(spec.height / 8) : Math.ceil(spec.height / (8 * vMax));
  let restarts = 0;
  for (let mcu = 0; mcu < mcusPerLine * mcusPerColumn; mcu++) {
    if (spec.restartInterval && mcu > 0 && mcu % spec.restartInterval === 0) {
      out.push(...w.flush(), 0xff, 0xd0 + (restarts++ % 8));
      predictions.fill(0);
    }
    const row = Math.floor(mcu / mcusPerLine);
    const col = mcu % mcusPerLine;
    if (single) writeBlock(0, row, col);
    else {
      spec.sampling.forEach(([h, v], c) => {
        for (let y = 0; y < v; y++) for (let x = 0; x < h; x++) writeBlock(c, row * v + y, col * h + x);
      });
    }
  }
  out.push(...w.flush(), 0xff, 0xd9);
  return new Uint8Array(out);
}

/** Random sparse coefficients whose reconstruction stays mostly inside the sample range. */
function randomBlocks(seed: number, precision: 8 | 12): (component: number, row: number, col: number) => number[] {
  const next = random(seed);
  const centreScale = precision === 8 ? 8 : 128;
  return () => {
    const block = new Array<number>(64).fill(0);
    block[0] = (next(201) - 100) * (centreScale / 8);
    for (let k = 1; k < 64; k++) if (next(4) === 0) block[k] = (next(41) - 20) * (k < 10 ? centreScale / 8 : 1);
    return block;
  };
}

/** The true 2-D inverse DCT of one block (A.3.3), level-shifted and clamped: what islow approximates to 1 level. */
function referenceIdct(coefficients: number[], quant: number[], precision: number): number[] {
  const zigzag = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21,
    28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54,
    47, 55, 62, 63,
  ];
  const F = new Array<number>(64).fill(0);
  for (let k = 0; k < 64; k++) F[zigzag[k]!] = coefficients[k]! * quant[k]!;
  const out: number[] = [];
  const c = (u: number): number => (u === 0 ? Math.SQRT1_2 : 1);
  for (let y = 0; y < 8; y++) {
    for (let x = 0; x < 8; x++) {
      let sum = 0;
      for (let v = 0; v < 8; v++) {
        for (let u = 0; u < 8; u++) {
          sum +=
            c(u) *
            c(v) *
            F[v * 8 + u]! *
            Math.cos(((2 * x + 1) * u * Math.PI) / 16) *
            Math.cos(((2 * y + 1) * v * Math.PI) / 16);
        }
      }
      const value = Math.round(sum / 4) + (1 << (precision - 1));
      out.push(Math.min(Math.max(value, 0), (1 << precision) - 1));
    }
  }
  return out;
}

/** A lossless JPEG (process 14) of `samples`, one component or three interleaved, with predictor `predictor`. */
function writeLosslessJpeg(
  samples: ArrayLike<number>,
  o: { width: number; height: number; precision: number; components: 1 | 3; predictor: number },
): Uint8Array {
  const table = huffman(
    Array.from({ length: 17 }, (_, i) => i),
    new Array<number>(17).fill(5),
  );
  const { width, height, precision, components: nc, predictor } = o;
  const out: number[] = [0xff, 0xd8];
  out.push(...segment(0xc4, [0x00, ...table.dht]));
  const sof = [precision, height >> 8, height & 255, width >> 8, width & 255, nc];
  for (let c = 0; c < nc; c++) sof.push(c + 1, 0x11, 0);
  out.push(...segment(0xc3, sof));
  const sos: number[] = [nc];
  for (let c = 0; c < nc; c++) sos.push(c + 1, 0x00);
  out.push(...segment(0xda, [...sos, predictor, 0, 0]));
  const w = new BitWriter();
  const modulus = 2 ** 16;
  const at = (x: number, y: number, c: number): number => samples[(y * width + x) * nc + c]!;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < nc; c++) {
        let prediction: number;
        if (x === 0 && y === 0) prediction = 1 << (precision - 1);
        else if (y === 0) prediction = at(x - 1, y, c);
        else if (x === 0) prediction = at(x, y - 1, c);
        else {
          const ra = at(x - 1, y, c);
          const rb = at(x, y - 1, c);
          const rc = at(x - 1, y - 1, c);
          prediction = [0, ra, rb, rc, ra + rb - rc, ra + ((rb - rc) >> 1), rb + ((ra - rc) >> 1), (ra + rb) >> 1][
            predictor
          ]!;
        }
        // H.1.2.1: the difference is taken modulo 2^16 and read as a signed 16-bit value.
        let diff = (at(x, y, c) - prediction) % modulus;
        if (diff < -32768) diff += modulus;
        if (diff >= 32768) diff -= modulus;
        const s = diff === -32768 ? 16 : category(diff);
        w.put(...table.codes.get(s)!);
        putValue(w, diff, s);
      }
    }
  }
  out.push(...w.flush(), 0xff, 0xd9);
  return new Uint8Array(out);
}

// ---------------------------------------------------------------------------------------------
// The packages' own encoders (their full builds), to make real codestreams.

interface EncoderInfo {
  width: number;
  height: number;
  bitsPerSample: number;
  componentCount: number;
  isSigned: boolean;
  isUsingColorTransform?: boolean;
}

/** Writes samples into an encoder's input buffer: bytes up to 8 bits, little-endian 16-bit words above. */
function fill(buffer: Uint8Array, samples: ArrayLike<number>, bits: number): void {
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  for (let i = 0; i < samples.length; i++) {
    if (bits <= 8) buffer[i] = samples[i]! & 0xff;
    else view.setUint16(i * 2, samples[i]! & 0xffff, true);
  }
}

async function encodeJpegLs(samples: ArrayLike<number>, info: EncoderInfo, near = 0, interleave = 0) {
  const module = await (await import('@cornerstonejs/codec-charls/wasmjs')).default();
  const encoder = new module.JpegLSEncoder();
  try {
    fill(encoder.getDecodedBuffer(info), samples, info.bitsPerSample);
    encoder.setNearLossless(near);
    encoder.setInterleaveMode(interleave);
    encoder.encode();
    return encoder.getEncodedBuffer().slice();
  } finally {
    encoder.delete();
  }
}

async function encodeJ2k(samples: ArrayLike<number>, info: EncoderInfo): Promise<Uint8Array> {
  const module = await (await import('@cornerstonejs/codec-openjpeg/wasmjs')).default();
  const encoder = new module.J2KEncoder();
  try {
    fill(encoder.getDecodedBuffer(info), samples, info.bitsPerSample);
    encoder.setDecompositions(2);
    encoder.setQuality(true, 0);
    encoder.encode();
    return encoder.getEncodedBuffer().slice();
  } finally {
    encoder.delete();
  }
}

async function encodeHtj2k(samples: ArrayLike<number>, info: EncoderInfo): Promise<Uint8Array> {
  const module = await (await import('@cornerstonejs/codec-openjph/wasmjs')).default();
  const encoder = new module.HTJ2KEncoder();
  try {
    fill(encoder.getDecodedBuffer(info), samples, info.bitsPerSample);
    encoder.setDecompositions(2);
    encoder.setQuality(true, 0);
    encoder.encode();
    return encoder.getEncodedBuffer().slice();
  } finally {
    encoder.delete();
  }
}

function ramp(count: number, f: (i: number) => number): number[] {
  return Array.from({ length: count }, (_, i) => f(i));
}

// ---------------------------------------------------------------------------------------------

/** A 2 x 2, 8-bit, one-component JPEG lossless codestream (predictor 1) of the samples 1, 2, 3, 4. */
function twoByTwoLossless(): Uint8Array {
  return writeLosslessJpeg([1, 2, 3, 4], { width: 2, height: 2, precision: 8, components: 1, predictor: 1 });
}
describe('registration and loading', () => {
  it('starts no codec until a frame needs one, and then only that one', async () => {
    const modules = [libjpeg, charls, openjpeg, openjph, jpegLosslessModule];
    expect(modules.map((m) => m.started)).toEqual([false, false, false, false, false]);
    const samples = ramp(8 * 8, (i) => i * 100);
    const codestream = await encodeJpegLs(samples, {
      width: 8,
      height: 8,
      bitsPerSample: 16,
      componentCount: 1,
      isSigned: false,
    });
    await decode(UID.jpegLs, { rows: 8, columns: 8 }, codestream);
    expect(modules.map((m) => m.started)).toEqual([false, true, false, false, false]);
  });

  it('registers a decoder for every compressed syntax of the corpus, and none for the video ones', () => {
    expect(Object.keys(CODECS).sort()).toEqual(Object.values(UID).sort());
    for (const uid of Object.values(UID)) expect(canDecode(uid)).toBe(true);
    expect(canDecode('1.2.840.10008.1.2.4.100')).toBe(false); // MPEG2
  });

  it('answers the synchronous path for a WASM codec with a 422, not a crash', () => {
    const parsed = parseDicom(dicom(UID.j2k, { rows: 2, columns: 2 }, new Uint8Array([0xff, 0x4f, 0xff, 0x51])));
    let refused: unknown;
    try {
      decodeFrame(parsed);
    } catch (error) {
      refused = error;
    }
    expect(clientError(refused)).toMatchObject({ status: 422, message: expect.stringMatching(/synchronously/) });
  });
});

describe('JPEG Baseline and Extended (8-bit, libjpeg-turbo)', () => {
  const quant = ramp(64, (k) => 1 + (k % 7));

  it('decodes exactly as the 12-bit-capable decoder does in 8 bits: same Huffman, dequantization and IDCT', async () => {
    const spec: DctSpec = {
      precision: 8,
      width: 21,
      height: 13,
      sampling: [[1, 1]],
      quant,
      block: randomBlocks(7, 8),
      restartInterval: 2,
    };
    const codestream = writeDctJpeg(spec);
    const frame = await decode(UID.jpegBaseline, { rows: 13, columns: 21, bitsAllocated: 8 }, codestream);
    expect(frame.samples).toBeInstanceOf(Uint8Array);
    expect([...frame.samples]).toEqual([...decodeDctJpeg(codestream).samples]);
    // JPEG Extended with 8-bit samples goes to libjpeg-turbo too.
    const extended = await decode(UID.jpegExtended, { rows: 13, columns: 21, bitsAllocated: 8 }, codestream);
    expect([...extended.samples]).toEqual([...frame.samples]);
  });

  it('returns YBR_FULL_422 colour as RGB and says so, so it is not converted twice', async () => {
    const [y, cb, cr] = [150, 100, 180];
    const codestream = writeDctJpeg({
      precision: 8,
      width: 16,
      height: 8,
      sampling: [
        [2, 1],
        [1, 1],
        [1, 1],
      ],
      quant: new Array<number>(64).fill(1),
      // DC only: every sample of a component is its level; DC = (level - 128) x 8 with quantizer 1.
      block: (c) => [([y, cb, cr][c]! - 128) * 8, ...new Array<number>(63).fill(0)],
    });
    const file = dicom(
      UID.jpegBaseline,
      { rows: 8, columns: 16, bitsAllocated: 8, samplesPerPixel: 3, photometric: 'YBR_FULL_422' },
      codestream,
    );
    const frame = await decodeFrameAsync(parseDicom(file));
    expect(frame.photometric).toBe('RGB');
    const expected = [
      y + 1.402 * (cr - 128),
      y - 0.344136 * (cb - 128) - 0.714136 * (cr - 128),
      y + 1.772 * (cb - 128),
    ];
    const rendered = await renderFrameAsync(parseDicom(file));
    expect(rendered.channels).toBe(3);
    for (let p = 0; p < 16 * 8; p++) {
      for (let c = 0; c < 3; c++) expect(Math.abs(rendered.data[p * 3 + c]! - expected[c]!)).toBeLessThanOrEqual(1);
    }
  });
});

describe('JPEG Extended 12-bit (jpeg-dct.ts)', () => {
  it('reconstructs flat blocks exactly, with restart intervals and partial blocks', async () => {
    const levels = [0, 4095, 2048, 1, 3000, 77];
    const blocksPerLine = 3;
    const codestream = writeDctJpeg({
      precision: 12,
      width: 20,
      height: 11,
      sampling: [[1, 1]],
      quant: new Array<number>(64).fill(1),
      block: (_c, row, col) => [(levels[row * blocksPerLine + col]! - 2048) * 8, ...new Array<number>(63).fill(0)],
      restartInterval: 4,
    });
    const frame = await decode(UID.jpegExtended, { rows: 11, columns: 20, bitsStored: 12 }, codestream);
    for (let y = 0; y < 11; y++) {
      for (let x = 0; x < 20; x++) {
        expect(frame.samples[y * 20 + x]).toBe(levels[Math.floor(y / 8) * blocksPerLine + Math.floor(x / 8)]);
      }
    }
  });

  it('matches IJG libjpeg 12-bit sample for sample (GDCM, which made the reference PNGs)', () => {
    // Large coefficients, where IJG's 12-bit column pass (one fewer fraction bit than in 8-bit) changes results.
    const next = random(2024);
    const codestream = writeDctJpeg({
      precision: 12,
      width: 8,
      height: 8,
      sampling: [[1, 1]],
      quant: ramp(64, (k) => 1 + (k % 9) * 3),
      block: () => {
        const block = new Array<number>(64).fill(0);
        block[0] = next(400) - 200;
        for (let k = 1; k < 64; k++) if (next(2) === 0) block[k] = next(161) - 80;
        return block;
      },
    });
    // Made by wrapping this codestream in a .51 file and running GDCM 3.0.21 `gdcmconv --raw` (Debian libgdcm-tools).
    const ijg = [
      1586, 2672, 1506, 2469, 1849, 2125, 1969, 2454, 2015, 1873, 1102, 2162, 634, 1939, 1820, 3280, 2595, 2068, 2163,
      2453, 2316, 1305, 2727, 2106, 2259, 1683, 1557, 931, 1920, 1262, 1494, 2079, 2852, 2351, 3027, 2089, 2088, 2143,
      1441, 3191, 1217, 2890, 3282, 1039, 1588, 889, 696, 2749, 1244, 2867, 2848, 1836, 2652, 2864, 1758, 2676, 1514,
      3324, 1825, 1629, 2457, 2415, 2519, 1579,
    ];
    expect([...decodeDctJpeg(codestream).samples]).toEqual(ijg);
  });

  it('stays within one level of the exact inverse DCT, through the long-code Huffman path', () => {
    const quant = ramp(64, (k) => 1 + (k % 5));
    const block = randomBlocks(11, 12);
    const blocks: number[][] = [];
    const codestream = writeDctJpeg({
      precision: 12,
      width: 32,
      height: 16,
      sampling: [[1, 1]],
      quant,
      block: (c, row, col) => {
        const b = block(c, row, col);
        blocks[row * 4 + col] = b;
        return b;
      },
    });
    const image = decodeDctJpeg(codestream);
    expect(image).toMatchObject({ width: 32, height: 16, precision: 12, components: 1 });
    let worst = 0;
    blocks.forEach((coefficients, index) => {
      const expected = referenceIdct(coefficients, quant, 12);
      const [row, col] = [Math.floor(index / 4), index % 4];
      for (let i = 0; i < 64; i++) {
        const got = image.samples[(row * 8 + Math.floor(i / 8)) * 32 + col * 8 + (i % 8)]!;
        worst = Math.max(worst, Math.abs(got - expected[i]!));
      }
    });
    expect(worst).toBeLessThanOrEqual(1);
  });

  it('restores signed samples from the 12-bit patterns (Pixel Representation 1)', async () => {
    const values = [-2048, -1, 0, 2047];
    const codestream = writeDctJpeg({
      precision: 12,
      width: 32,
      height: 8,
      sampling: [[1, 1]],
      quant: new Array<number>(64).fill(1),
      block: (_c, _row, col) => [((values[col]! & 0xfff) - 2048) * 8, ...new Array<number>(63).fill(0)],
    });
    const frame = await decode(UID.jpegExtended, { rows: 8, columns: 32, bitsStored: 12, signed: true }, codestream);
    expect([0, 8, 16, 24].map((x) => frame.samples[x])).toEqual(values);
  });

  it('refuses cut-short data, other processes and missing headers with a reason', async () => {
    const image = { rows: 16, columns: 16, bitsStored: 12 };
    const whole = writeDctJpeg({
      precision: 12,
      width: 16,
      height: 16,
      sampling: [[1, 1]],
      quant: new Array<number>(64).fill(1),
      block: randomBlocks(3, 12),
    });
    const cut = whole.subarray(0, whole.length - 40);
    expect(await decodeError(UID.jpegExtended, image, cut)).toMatchObject({
      status: 422,
      message: expect.stringMatching(/ends before the image is complete/),
    });
    const progressive = whole.slice();
    const sof = whole.findIndex((b, i) => b === 0xff && whole[i + 1] === 0xc1);
    progressive[sof + 1] = 0xc2;
    expect((await decodeError(UID.jpegExtended, image, progressive)).message).toMatch(/JPEG Extended|progressive/);
    expect((await decodeError(UID.jpegExtended, image, new Uint8Array([0xff, 0xd8, 0xff, 0xd9]))).message).toMatch(
      /no JPEG frame header/,
    );
  });
});

describe('JPEG Lossless (DCMTK/IJG via dcmjs-codecs)', () => {
  it('decodes signed 16-bit CT with the SV1 predictor exactly', async () => {
    const values = ramp(24 * 10, (i) => ((i * 2971) % 6000) - 3000);
    const codestream = writeLosslessJpeg(
      values.map((v) => v & 0xffff),
      { width: 24, height: 10, precision: 16, components: 1, predictor: 1 },
    );
    const frame = await decode(UID.jpegLosslessSv1, { rows: 10, columns: 24, signed: true }, codestream);
    expect(frame.samples).toBeInstanceOf(Int16Array);
    expect([...frame.samples]).toEqual(values);
  });

  it('decodes 12-bit samples with predictor 7 (process 14, .57) exactly', async () => {
    const values = ramp(17 * 9, (i) => (i * 1237) % 4096);
    const codestream = writeLosslessJpeg(values, { width: 17, height: 9, precision: 12, components: 1, predictor: 7 });
    const frame = await decode(UID.jpegLossless, { rows: 9, columns: 17, bitsStored: 12 }, codestream);
    expect([...frame.samples]).toEqual(values);
  });

  it('decodes 8-bit RGB', async () => {
    const values = ramp(5 * 4 * 3, (i) => (i * 37) % 256);
    const codestream = writeLosslessJpeg(values, { width: 5, height: 4, precision: 8, components: 3, predictor: 4 });
    const frame = await decode(
      UID.jpegLosslessSv1,
      { rows: 4, columns: 5, bitsAllocated: 8, samplesPerPixel: 3 },
      codestream,
    );
    expect([...frame.samples]).toEqual(values);
  });

  it('refuses a stream that ends early instead of inventing the rest', async () => {
    const values = ramp(64 * 32, (i) => (i * 7919) % 65536);
    const codestream = writeLosslessJpeg(values, { width: 64, height: 32, precision: 16, components: 1, predictor: 1 });
    const error = await decodeError(UID.jpegLosslessSv1, { rows: 32, columns: 64 }, codestream.subarray(0, 600));
    expect(error).toMatchObject({ status: 422, message: expect.stringMatching(/JPEG Lossless.*cut short/) });
  });

  it('refuses a stream whose data stops early but still ends with EOI (IJG would fill the rest with zeros)', async () => {
    const values = ramp(64 * 32, (i) => (i * 7919) % 65536);
    const codestream = writeLosslessJpeg(values, { width: 64, height: 32, precision: 16, components: 1, predictor: 1 });
    const gutted = new Uint8Array([...codestream.subarray(0, 600), 0xff, 0xd9]);
    const error = await decodeError(UID.jpegLosslessSv1, { rows: 32, columns: 64 }, gutted);
    expect(error).toMatchObject({
      status: 422,
      message: expect.stringMatching(/JPEG Lossless.*premature end of data/),
    });
    // The next good frame still decodes exactly.
    const frame = await decode(UID.jpegLosslessSv1, { rows: 32, columns: 64 }, codestream);
    expect([...frame.samples]).toEqual(values);
  });

  it('decodes every predictor (1-7) at 8, 12 and 16 bits exactly', async () => {
    const next = random(57);
    for (const precision of [8, 12, 16] as const) {
      for (let predictor = 1; predictor <= 7; predictor++) {
        const values = ramp(19 * 11, () => next(2 ** precision));
        const codestream = writeLosslessJpeg(values, { width: 19, height: 11, precision, components: 1, predictor });
        const image = { rows: 11, columns: 19, bitsAllocated: precision > 8 ? 16 : 8, bitsStored: precision } as const;
        const frame = await decode(UID.jpegLossless, image, codestream);
        expect([...frame.samples], `${precision}-bit, predictor ${predictor}`).toEqual(values);
      }
    }
  });

  it('decodes every precision from 2 to 16 bits, and a precision other than Bits Stored', async () => {
    const next = random(70);
    for (let precision = 2; precision <= 16; precision++) {
      const values = ramp(13 * 5, () => next(2 ** precision));
      const codestream = writeLosslessJpeg(values, { width: 13, height: 5, precision, components: 1, predictor: 1 });
      const image = { rows: 5, columns: 13, bitsAllocated: precision > 8 ? 16 : 8, bitsStored: precision } as const;
      expect([...(await decode(UID.jpegLosslessSv1, image, codestream)).samples], `${precision}-bit`).toEqual(values);
    }
    // A 12-bit stream in a file that says Bits Stored 16, and an 8-bit one in 16-bit words.
    const values = ramp(13 * 5, () => next(4096));
    const twelve = writeLosslessJpeg(values, { width: 13, height: 5, precision: 12, components: 1, predictor: 1 });
    expect([...(await decode(UID.jpegLosslessSv1, { rows: 5, columns: 13 }, twelve)).samples]).toEqual(values);
    const bytes = values.map((v) => v & 255);
    const eight = writeLosslessJpeg(bytes, { width: 13, height: 5, precision: 8, components: 1, predictor: 1 });
    const wide = await decode(UID.jpegLosslessSv1, { rows: 5, columns: 13, bitsStored: 8 }, eight);
    expect(wide.samples).toBeInstanceOf(Uint16Array);
    expect([...wide.samples]).toEqual(bytes);
  });

  it('decodes 12- and 16-bit RGB exactly and renders it', async () => {
    for (const precision of [12, 16]) {
      const values = ramp(6 * 4 * 3, (i) => (i * 2741) % 2 ** precision);
      const codestream = writeLosslessJpeg(values, { width: 6, height: 4, precision, components: 3, predictor: 1 });
      const image: Image = { rows: 4, columns: 6, bitsStored: precision, samplesPerPixel: 3, photometric: 'RGB' };
      const frame = await decode(UID.jpegLossless, image, codestream);
      expect([...frame.samples], `${precision}-bit`).toEqual(values);
      const rendered = await renderFrameAsync(parseDicom(dicom(UID.jpegLossless, image, codestream)));
      expect(rendered).toMatchObject({ width: 6, height: 4, channels: 3 });
    }
  });

  it('refuses a lossy JPEG under a lossless transfer syntax, and a size the attributes disagree with', async () => {
    const codestream = twoByTwoLossless();
    const baseline = codestream.slice();
    baseline[baseline.indexOf(0xc3, 2)] = 0xc0; // the SOF3 marker's second byte
    const lossy = await decodeError(UID.jpegLossless, { rows: 2, columns: 2, bitsAllocated: 8 }, baseline);
    expect(lossy).toMatchObject({ status: 422, message: expect.stringMatching(/JPEG Lossless.*not lossless/) });
    const wrongSize = await decodeError(UID.jpegLossless, { rows: 2, columns: 3, bitsAllocated: 8 }, codestream);
    expect(wrongSize).toMatchObject({ status: 422, message: expect.stringMatching(/2 x 2 pixels.*3 x 2/) });
  });
});

const samplesDir = resolve(process.env.DICOM_SAMPLES ?? join(import.meta.dirname, '../../../shared/dicom-samples'));

describe.skipIf(!existsSync(join(samplesDir, 'MANIFEST.tsv')))('JPEG Lossless on the sample corpus', () => {
  // SHA-256 of frame 1's samples as jpeg-lossless-decoder-js 2.1.2 (the decoder before this one) returned them
  // through decodeFrameAsync; the two decoders were compared sample by sample and agree on all five files.
  const reference: [string, string, number, string][] = [
    [
      'mr-jpeg-lossless-57.dcm',
      'Uint16Array',
      1048576,
      '7d1a676f3c012d0ca9d4fb9069c5dcca2b0bac014173dba48f0e32b9b49198b3',
    ],
    [
      'ct-jpeg-lossless-70.dcm',
      'Int16Array',
      204800,
      'dc6e77a2e30ef699fa4f5c55ec58514fa7dbb4658fbec2d0708d77b0003846f4',
    ],
    [
      'cr-modality-lut-sequence.dcm',
      'Uint16Array',
      3114176,
      'cbb20687fdc832cc8aa01f7832f83812df2d41e83d7804d74e0c78b67871285b',
    ],
    [
      'mg-voi-lut-sequence.dcm',
      'Uint16Array',
      7330428,
      'cc9e4d5b757bb6ae2c466a58c5f165cedd92586a3b44317d34039c420a5ffa80',
    ],
    ['pt-private-tags.dcm', 'Int16Array', 16384, 'e7855e7dc4921c57f115bd38c8e887218089cd728f078d8652044239a6a99eb0'],
  ];

  it.each(reference)('%s: the reference samples', async (file, type, length, sha256) => {
    const path = join(samplesDir, file);
    if (!existsSync(path)) return;
    const { samples } = await decodeFrameAsync(parseDicom(new Uint8Array(readFileSync(path))));
    expect(samples.constructor.name).toBe(type);
    expect(samples.length).toBe(length);
    const bytes = new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(sha256);
  });
});

describe('JPEG-LS (CharLS)', () => {
  const info = (o: Partial<EncoderInfo>): EncoderInfo => ({
    width: 13,
    height: 7,
    bitsPerSample: 16,
    componentCount: 1,
    isSigned: false,
    ...o,
  });

  it('decodes signed 16-bit lossless exactly', async () => {
    const values = ramp(13 * 7, (i) => ((i * 9973) % 60000) - 30000);
    const codestream = await encodeJpegLs(values, info({}));
    const frame = await decode(UID.jpegLs, { rows: 7, columns: 13, signed: true }, codestream);
    expect(frame.samples).toBeInstanceOf(Int16Array);
    expect([...frame.samples]).toEqual(values);
  });

  it('sign-extends 12 stored bits of 16 allocated', async () => {
    const values = ramp(13 * 7, (i) => ((i * 331) % 4096) - 2048);
    const codestream = await encodeJpegLs(
      values.map((v) => v & 0xfff),
      info({ bitsPerSample: 12 }),
    );
    const frame = await decode(UID.jpegLs, { rows: 7, columns: 13, bitsStored: 12, signed: true }, codestream);
    expect([...frame.samples]).toEqual(values);
  });

  it('keeps near-lossless within its NEAR bound', async () => {
    const values = ramp(13 * 7, (i) => (i * 97) % 4096);
    const codestream = await encodeJpegLs(values, info({ bitsPerSample: 12 }), 3);
    const frame = await decode(UID.jpegLsNear, { rows: 7, columns: 13, bitsStored: 12 }, codestream);
    const worst = Math.max(...values.map((v, i) => Math.abs(v - frame.samples[i]!)));
    expect(worst).toBeGreaterThan(0);
    expect(worst).toBeLessThanOrEqual(3);
  });

  it.each([0, 1, 2])('returns colour pixel by pixel whatever the interleave mode (%i)', async (mode) => {
    const values = ramp(13 * 7 * 3, (i) => (i * 53) % 256);
    // Mode 0 codes each component as its own plane, so CharLS takes (and gives back) planes one after another.
    const pixels = 13 * 7;
    const input = mode === 0 ? ramp(pixels * 3, (i) => values[(i % pixels) * 3 + Math.floor(i / pixels)]!) : values;
    const codestream = await encodeJpegLs(input, info({ bitsPerSample: 8, componentCount: 3 }), 0, mode);
    const frame = await decode(UID.jpegLs, { rows: 7, columns: 13, bitsAllocated: 8, samplesPerPixel: 3 }, codestream);
    expect([...frame.samples]).toEqual(values);
  });
});

describe('JPEG 2000 (OpenJPEG) and HTJ2K (OpenJPH)', () => {
  const grey = ramp(33 * 17, (i) => ((i * 7919) % 50000) - 25000);
  const rgb = ramp(33 * 17 * 3, (i) => (i * 37 + (i % 3) * 60) % 256);
  const greyInfo: EncoderInfo = {
    width: 33,
    height: 17,
    bitsPerSample: 16,
    componentCount: 1,
    isSigned: true,
    isUsingColorTransform: false,
  };
  const rgbInfo: EncoderInfo = {
    width: 33,
    height: 17,
    bitsPerSample: 8,
    componentCount: 3,
    isSigned: false,
    isUsingColorTransform: true,
  };
  const colour: Image = { rows: 17, columns: 33, bitsAllocated: 8, samplesPerPixel: 3, photometric: 'YBR_RCT' };

  it('decodes signed 16-bit lossless JPEG 2000 exactly', async () => {
    const frame = await decode(
      UID.j2kLossless,
      { rows: 17, columns: 33, signed: true },
      await encodeJ2k(grey, greyInfo),
    );
    expect([...frame.samples]).toEqual(grey);
  });

  it('returns YBR_RCT colour as RGB (the decoder inverts the component transform)', async () => {
    const codestream = await encodeJ2k(rgb, rgbInfo);
    const frame = await decode(UID.j2kLossless, colour, codestream);
    expect(frame.photometric).toBe('RGB');
    expect([...frame.samples]).toEqual(rgb);
  });

  it('decodes HTJ2K exactly, signed and colour', async () => {
    const frame = await decode(
      UID.htj2kLossless,
      { rows: 17, columns: 33, signed: true },
      await encodeHtj2k(grey, greyInfo),
    );
    expect([...frame.samples]).toEqual(grey);
    const colourFrame = await decode(UID.htj2kRpcl, colour, await encodeHtj2k(rgb, rgbInfo));
    expect(colourFrame.photometric).toBe('RGB');
    expect([...colourFrame.samples]).toEqual(rgb);
  });

  it('falls back to OpenJPEG for a plain JPEG 2000 codestream under an HTJ2K syntax (OpenJPH returns nothing)', async () => {
    const frame = await decode(UID.htj2k, { rows: 17, columns: 33, signed: true }, await encodeJ2k(grey, greyInfo));
    expect([...frame.samples]).toEqual(grey);
  });

  it('refuses a codestream whose size disagrees with Rows and Columns before decoding it', async () => {
    const codestream = await encodeJ2k(grey, greyInfo);
    expect(j2kSize(codestream)).toEqual({ width: 33, height: 17, components: 1 });
    const error = await decodeError(UID.j2kLossless, { rows: 16, columns: 33, signed: true }, codestream);
    expect(error.message).toMatch(/holds 33 x 17 pixels of 1 component\(s\); the DICOM attributes say 33 x 16 of 1/);
  });
});

describe('corrupt codestreams', () => {
  const garbage = Uint8Array.from(ramp(3000, (i) => (i * 7919 + 13) % 256));
  const cases: [string, Image, Uint8Array, RegExp][] = [
    [UID.jpegBaseline, { rows: 8, columns: 8, bitsAllocated: 8 }, new Uint8Array([0xff, 0xd8, 0xff, 0xd9]), /libjpeg/],
    [UID.jpegBaseline, { rows: 8, columns: 8, bitsAllocated: 8 }, garbage, /libjpeg/],
    [UID.jpegExtended, { rows: 8, columns: 8, bitsStored: 12 }, garbage, /JPEG Extended/],
    [UID.jpegLosslessSv1, { rows: 8, columns: 8 }, garbage, /JPEG Lossless/],
    [UID.jpegLs, { rows: 8, columns: 8 }, garbage, /CharLS/],
    [
      UID.jpegLs,
      { rows: 8, columns: 8 },
      new Uint8Array([0xff, 0xd8, 0xff, 0xf7, 0, 11, 16, 0, 8, 0, 8, 1, 1, 0x11, 0, 0xff, 0xd9]),
      /CharLS/,
    ],
    [UID.j2k, { rows: 8, columns: 8 }, garbage, /OpenJPEG/],
    [UID.htj2k, { rows: 8, columns: 8 }, garbage, /OpenJPH.*OpenJPEG/],
  ];

  it.each(cases)('%s: 422 with the codec and its reason', async (uid, image, bytes, codec) => {
    const exitCode = process.exitCode;
    const error = await decodeError(uid, image, bytes);
    expect(error.status).toBe(422);
    expect(error.message).toMatch(codec);
    expect(error.message).toMatch(/cannot decode the frame: \S/);
    // Emscripten's exit() sets process.exitCode; a bad image must not fail the process.
    expect(process.exitCode).toBe(exitCode);
  });

  it('keeps decoding good frames after a WASM codec failed (a failed instance is replaced)', async () => {
    const values = ramp(8 * 8, (i) => i * 1000);
    const good = await encodeJpegLs(values, {
      width: 8,
      height: 8,
      bitsPerSample: 16,
      componentCount: 1,
      isSigned: false,
    });
    const bad = good.slice();
    bad.fill(0x55, 40, good.length - 2);
    expect((await decodeError(UID.jpegLs, { rows: 8, columns: 8 }, bad)).status).toBe(422);
    expect([...(await decode(UID.jpegLs, { rows: 8, columns: 8 }, good)).samples]).toEqual(values);
  });

  it('reads frame headers and end markers without a codec', () => {
    const codestream = twoByTwoLossless();
    expect(jpegFrameHeader(codestream)).toEqual({ marker: 0xc3, precision: 8, width: 2, height: 2, components: 1 });
    expect(endsWithEoi(codestream)).toBe(true);
    expect(endsWithEoi(new Uint8Array([...codestream, 0, 0xff]))).toBe(true);
    expect(endsWithEoi(codestream.subarray(0, codestream.length - 1))).toBe(false);
  });
});
