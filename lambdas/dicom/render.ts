// Renders one frame to 8-bit grey or RGB: modality LUT, VOI window or LUT, MONOCHROME1 inversion, colour conversion.
import type { DataSet } from 'dicom-parser';
import { NoImage, UndecodablePixels, WindowNotApplicable } from './errors.js';
import type { ParsedDicom } from './parse.js';
import {
  decodeFrame,
  decodeFrameAsync,
  hasPixelData,
  type DecodedFrame,
  type SampleArray,
  type StoredFrame,
} from './pixels.js';
import { TAGS } from './tags.js';
import { TRANSFER_SYNTAX } from './uids.js';
import './codecs/index.js'; // registers the decoders of the compressed transfer syntaxes (each loads on first use)

export interface RenderedImage {
  width: number;
  height: number;
  channels: 1 | 3;
  /** 8-bit samples, row by row, RGB interleaved when channels is 3. */
  data: Uint8Array;
}

/** A window chosen by the caller: center and width in the modality LUT's output units (e.g. HU). */
export interface WindowOverride {
  readonly center: number;
  readonly width: number;
}

/** What a caller may change about how a frame renders (GET /png parameters), and where its bytes come from. */
export interface RenderOptions {
  /** Replaces the file's VOI (window or VOI LUT); greyscale images only. */
  readonly window?: WindowOverride;
  /** The frame's bytes read on their own (ranged GETs) instead of from the dataset's Pixel Data. */
  readonly storedFrame?: StoredFrame;
}

/** Integer frames whose value range fits this are mapped through a table instead of per-pixel arithmetic. */
const MAX_TABLE_SIZE = 1 << 22;

/** Does the object carry an image (pixel data at the top level, even if cut short)? */
export function hasImage(parsed: ParsedDicom): boolean {
  return hasPixelData(parsed);
}

/** Renders frame `frameIndex` (0-based); throws NoImage or UndecodablePixels with a reason. */
export function renderFrame(parsed: ParsedDicom, frameIndex = 0, options: RenderOptions = {}): RenderedImage {
  if (!hasImage(parsed)) throw new NoImage();
  return renderDecodedFrame(parsed, decodeFrame(parsed, frameIndex, options.storedFrame), frameIndex, options);
}

/** As renderFrame, for transfer syntaxes whose codec loads or decodes asynchronously. */
export async function renderFrameAsync(
  parsed: ParsedDicom,
  frameIndex = 0,
  options: RenderOptions = {},
): Promise<RenderedImage> {
  if (!hasImage(parsed)) throw new NoImage();
  const frame = await decodeFrameAsync(parsed, frameIndex, options.storedFrame);
  return renderDecodedFrame(parsed, frame, frameIndex, options);
}

/** The rendering half on its own, for frames already decoded. */
export function renderDecodedFrame(
  parsed: ParsedDicom,
  frame: DecodedFrame,
  frameIndex = 0,
  options: RenderOptions = {},
): RenderedImage {
  const { layout } = frame;
  const base = { width: layout.columns, height: layout.rows };
  const colour = layout.samplesPerPixel === 3 || frame.photometric === 'PALETTE COLOR';
  if (colour && options.window) {
    throw new WindowNotApplicable(`window applies to greyscale images; this image is ${layout.photometric}`);
  }
  if (layout.samplesPerPixel === 3) return { ...base, channels: 3, data: renderColour(frame) };
  if (frame.photometric === 'PALETTE COLOR') return { ...base, channels: 3, data: renderPalette(parsed, frame) };
  return { ...base, channels: 1, data: renderGrey(parsed, frame, frameIndex, options.window) };
}

// ---------------------------------------------------------------------------------------------
// Shared helpers

/** numpy.rint: round half to even, so results match the reference renderer on exact halves. */
function rint(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function to8(x: number): number {
  if (!(x > 0)) return 0; // also NaN
  if (x >= 255) return 255;
  return rint(x);
}

function firstNumber(dataSet: DataSet, tag: string): number | undefined {
  if (!dataSet.elements[tag]) return undefined;
  const value = dataSet.floatString(tag, 0);
  return value !== undefined && Number.isFinite(value) ? value : undefined;
}

function firstItem(dataSet: DataSet | undefined, tag: string, index = 0): DataSet | undefined {
  return dataSet?.elements[tag]?.items?.[index]?.dataSet;
}

/**
 * Where an attribute for this frame lives: the top level, else the frame's Per-frame Functional Groups item,
 * else the Shared Functional Groups (enhanced multi-frame objects, PS3.3 C.7.6.16).
 */
function frameSource(dataSet: DataSet, frameIndex: number, macroTag: string, tags: string[]): DataSet | undefined {
  if (tags.some((t) => dataSet.elements[t])) return dataSet;
  const perFrame = firstItem(dataSet, TAGS.PerFrameFunctionalGroupsSequence, frameIndex);
  const shared = firstItem(dataSet, TAGS.SharedFunctionalGroupsSequence);
  for (const group of [perFrame, shared]) {
    const macro = firstItem(group, macroTag);
    if (macro && tags.some((t) => macro.elements[t])) return macro;
  }
  return undefined;
}

function isBigEndian(parsed: ParsedDicom): boolean {
  return parsed.transferSyntaxUid === TRANSFER_SYNTAX.ExplicitVRBigEndian;
}

interface Lut {
  /** First stored value mapped; values below map to entry 0, values above the last entry to the last. */
  firstMapped: number;
  /** Bits per entry: the output range is [0, 2^bits - 1]. */
  bits: number;
  data: Uint16Array;
}

function bitLength(value: number): number {
  return value <= 0 ? 1 : Math.floor(Math.log2(value)) + 1;
}

/**
 * Reads a LUT descriptor + data pair (PS3.3 C.11.1.1.1 / C.7.6.3.1.5). The descriptor's VR may be US or SS:
 * the entry count is always unsigned (0 means 65536); the first mapped value is signed when the VR or the
 * Pixel Representation says so. Entries are one per 16-bit word, or two 8-bit entries per word when the data
 * is exactly that short.
 */
function readLut(
  dataSet: DataSet,
  descriptorTag: string,
  dataTag: string,
  signedPixels: boolean,
  bigEndian: boolean,
): Lut | undefined {
  const descriptor = dataSet.elements[descriptorTag];
  const dataElement = dataSet.elements[dataTag];
  if (!descriptor || !dataElement || descriptor.length < 6) return undefined;
  const entries = dataSet.uint16(descriptorTag, 0) || 65536;
  const rawFirst = dataSet.uint16(descriptorTag, 1) ?? 0;
  const signedFirst = descriptor.vr === 'SS' || signedPixels;
  const firstMapped = signedFirst && rawFirst >= 0x8000 ? rawFirst - 0x10000 : rawFirst;
  let bits = dataSet.uint16(descriptorTag, 2) ?? 16;
  const bytes = dataSet.byteArray.subarray(dataElement.dataOffset, dataElement.dataOffset + dataElement.length);
  const data = new Uint16Array(entries);
  if (bytes.length >= entries * 2) {
    for (let i = 0; i < entries; i++) {
      data[i] = bigEndian ? (bytes[2 * i]! << 8) | bytes[2 * i + 1]! : bytes[2 * i]! | (bytes[2 * i + 1]! << 8);
    }
  } else if (bits <= 8 && bytes.length >= entries) {
    // Big endian OW swaps each word, so packed 8-bit entries come in swapped pairs.
    for (let i = 0; i < entries; i++) data[i] = bytes[bigEndian && dataElement.vr === 'OW' ? i ^ 1 : i]!;
  } else {
    throw new UndecodablePixels(
      `the LUT data ${tagLabel(dataTag)} is shorter than its descriptor's ${entries} entries`,
    );
  }
  let max = 0;
  for (let i = 0; i < entries; i++) if (data[i]! > max) max = data[i]!;
  // Descriptors that understate the entry size exist; trust the data over a range it exceeds.
  if (bitLength(max) > bits) bits = bitLength(max);
  return { firstMapped, bits, data };
}

function tagLabel(tag: string): string {
  return `(${tag.slice(1, 5).toUpperCase()},${tag.slice(5).toUpperCase()})`;
}

function lookup(lut: Lut, x: number): number {
  let index = Math.floor(x) - lut.firstMapped;
  if (!(index > 0))
    index = 0; // also NaN
  else if (index >= lut.data.length) index = lut.data.length - 1;
  return lut.data[index]!;
}

// ---------------------------------------------------------------------------------------------
// Grey: modality LUT -> VOI -> presentation

type ModalityTransform = { kind: 'lut'; lut: Lut } | { kind: 'linear'; slope: number; intercept: number };

type VoiTransform =
  | { kind: 'lut'; lut: Lut }
  | { kind: 'window'; center: number; width: number; fn: 'LINEAR' | 'LINEAR_EXACT' | 'SIGMOID' }
  | { kind: 'minmax' };

function modalityTransform(parsed: ParsedDicom, frame: DecodedFrame, frameIndex: number): ModalityTransform {
  const { dataSet } = parsed;
  const lutItem = firstItem(dataSet, TAGS.ModalityLUTSequence);
  if (lutItem) {
    const lut = readLut(lutItem, TAGS.LUTDescriptor, TAGS.LUTData, frame.layout.signed, isBigEndian(parsed));
    if (lut) return { kind: 'lut', lut };
  }
  const source = frameSource(dataSet, frameIndex, TAGS.PixelValueTransformationSequence, [
    TAGS.RescaleSlope,
    TAGS.RescaleIntercept,
  ]);
  const slope = source ? firstNumber(source, TAGS.RescaleSlope) : undefined;
  const intercept = source ? firstNumber(source, TAGS.RescaleIntercept) : undefined;
  return { kind: 'linear', slope: slope ?? 1, intercept: intercept ?? 0 };
}

/** The file's VOI LUT Function for this frame (LINEAR when it names none or one we do not know). */
function voiLutFunctionOf(source: DataSet | undefined, dataSet: DataSet): 'LINEAR' | 'LINEAR_EXACT' | 'SIGMOID' {
  const named = (source?.string(TAGS.VOILUTFunction) ?? dataSet.string(TAGS.VOILUTFunction) ?? 'LINEAR')
    .trim()
    .toUpperCase();
  return named === 'SIGMOID' || named === 'LINEAR_EXACT' ? named : 'LINEAR';
}

/**
 * A caller's window replaces whatever VOI the file has (window or VOI LUT) and keeps its VOI LUT
 * Function. LINEAR's integer form needs width >= 1 and integer input; otherwise the exact form applies.
 */
function overriddenVoi(
  parsed: ParsedDicom,
  frame: DecodedFrame,
  frameIndex: number,
  window: WindowOverride,
): VoiTransform {
  const source = frameSource(parsed.dataSet, frameIndex, TAGS.FrameVOILUTSequence, [TAGS.VOILUTFunction]);
  let fn = voiLutFunctionOf(source, parsed.dataSet);
  if (fn === 'LINEAR' && (window.width < 1 || frame.layout.sampleFormat !== 'integer')) fn = 'LINEAR_EXACT';
  return { kind: 'window', center: window.center, width: window.width, fn };
}

function voiTransform(
  parsed: ParsedDicom,
  frame: DecodedFrame,
  frameIndex: number,
  modality: ModalityTransform,
  window?: WindowOverride,
): VoiTransform {
  if (window) return overriddenVoi(parsed, frame, frameIndex, window);
  const { dataSet } = parsed;
  // The VOI LUT Sequence wins over a window when both are present, as in the reference renderer.
  const lutItem =
    firstItem(dataSet, TAGS.VOILUTSequence) ??
    firstItem(frameSource(dataSet, frameIndex, TAGS.FrameVOILUTSequence, [TAGS.VOILUTSequence]), TAGS.VOILUTSequence);
  if (lutItem) {
    // The VOI LUT input is the modality output: read its first mapped value as signed when that can be negative.
    const negativeInput = frame.layout.signed || (modality.kind === 'linear' && modality.intercept < 0);
    const lut = readLut(lutItem, TAGS.LUTDescriptor, TAGS.LUTData, negativeInput, isBigEndian(parsed));
    if (lut) return { kind: 'lut', lut };
  }
  const source = frameSource(dataSet, frameIndex, TAGS.FrameVOILUTSequence, [TAGS.WindowCenter, TAGS.WindowWidth]);
  const center = source ? firstNumber(source, TAGS.WindowCenter) : undefined;
  const width = source ? firstNumber(source, TAGS.WindowWidth) : undefined;
  if (source && center !== undefined && width !== undefined) {
    let fn = voiLutFunctionOf(source, dataSet);
    // LINEAR's -0.5 and (w - 1) terms assume integer input; on float pixel data they turn a [0, 1] window
    // (width 1) into a threshold, so continuous values use the exact form.
    if (fn === 'LINEAR' && frame.layout.sampleFormat !== 'integer') fn = 'LINEAR_EXACT';
    const valid = fn === 'LINEAR' ? width >= 1 : width > 0;
    if (valid) return { kind: 'window', center, width, fn };
  }
  return { kind: 'minmax' };
}

function modalityFunction(t: ModalityTransform): (x: number) => number {
  if (t.kind === 'lut') return (x) => lookup(t.lut, x);
  const { slope, intercept } = t;
  return (x) => x * slope + intercept;
}

/** The VOI output already on [0, 255] (PS3.3 C.11.2.1.2 with y_min 0 and y_max 255), unrounded. */
function voiFunction(t: VoiTransform, low: number, high: number): (x: number) => number {
  if (t.kind === 'lut') {
    const { lut } = t;
    const scale = 255 / (2 ** lut.bits - 1);
    return (x) => lookup(lut, x) * scale;
  }
  if (t.kind === 'minmax') {
    if (!(high > low)) return () => 0; // a constant image renders black, as in the reference
    const scale = 255 / (high - low);
    return (x) => (x - low) * scale;
  }
  const { center: c, width: w, fn } = t;
  if (fn === 'SIGMOID') return (x) => 255 / (1 + Math.exp((-4 * (x - c)) / w));
  if (fn === 'LINEAR_EXACT') {
    return (x) => (x <= c - w / 2 ? 0 : x > c + w / 2 ? 255 : ((x - c) / w + 0.5) * 255);
  }
  const bottom = c - 0.5 - (w - 1) / 2;
  const top = c - 0.5 + (w - 1) / 2;
  return (x) => (x <= bottom ? 0 : x > top ? 255 : ((x - (c - 0.5)) / (w - 1) + 0.5) * 255);
}

function isFloatArray(samples: SampleArray): samples is Float32Array | Float64Array {
  return samples instanceof Float32Array || samples instanceof Float64Array;
}

/** Smallest and largest finite sample. */
function sampleRange(samples: SampleArray): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < samples.length; i++) {
    const v = samples[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (isFloatArray(samples) && (!Number.isFinite(min) || !Number.isFinite(max))) {
    min = Infinity;
    max = -Infinity;
    for (let i = 0; i < samples.length; i++) {
      const v = samples[i]!;
      if (!Number.isFinite(v)) continue;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  return { min, max };
}

function renderGrey(parsed: ParsedDicom, frame: DecodedFrame, frameIndex: number, window?: WindowOverride): Uint8Array {
  const { samples } = frame;
  const modality = modalityTransform(parsed, frame, frameIndex);
  const voi = voiTransform(parsed, frame, frameIndex, modality, window);
  const invert = frame.photometric === 'MONOCHROME1';
  const toModality = modalityFunction(modality);
  const out = new Uint8Array(samples.length);
  const { min, max } = sampleRange(samples);
  if (!Number.isFinite(min)) return out; // nothing finite to show

  if (!isFloatArray(samples) && max - min < MAX_TABLE_SIZE) {
    // One table entry per stored value in the frame's range: the per-pixel work is a single lookup.
    const size = max - min + 1;
    const modalityValues = new Float64Array(size);
    for (let i = 0; i < size; i++) modalityValues[i] = toModality(min + i);
    let low = 0;
    let high = 0;
    if (voi.kind === 'minmax') {
      if (modality.kind === 'linear') {
        low = Math.min(modalityValues[0]!, modalityValues[size - 1]!);
        high = Math.max(modalityValues[0]!, modalityValues[size - 1]!);
      } else {
        // A modality LUT need not be monotonic: take the range of the values this frame actually uses.
        low = Infinity;
        high = -Infinity;
        for (let p = 0; p < samples.length; p++) {
          const m = modalityValues[samples[p]! - min]!;
          if (m < low) low = m;
          if (m > high) high = m;
        }
      }
    }
    const toVoi = voiFunction(voi, low, high);
    const table = new Uint8Array(size);
    for (let i = 0; i < size; i++) {
      const v = to8(toVoi(modalityValues[i]!));
      table[i] = invert ? 255 - v : v;
    }
    for (let p = 0; p < samples.length; p++) out[p] = table[samples[p]! - min]!;
    return out;
  }

  // Float pixel data, or integers too widely spread for a table: compute each pixel.
  let low = 0;
  let high = 0;
  if (voi.kind === 'minmax') {
    low = Infinity;
    high = -Infinity;
    for (let p = 0; p < samples.length; p++) {
      const m = toModality(samples[p]!);
      if (!Number.isFinite(m)) continue;
      if (m < low) low = m;
      if (m > high) high = m;
    }
  }
  const toVoi = voiFunction(voi, low, high);
  for (let p = 0; p < samples.length; p++) {
    const x = samples[p]!;
    const v = Number.isNaN(x) ? 0 : to8(toVoi(toModality(x)));
    out[p] = invert ? 255 - v : v;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Colour

/** YBR_FULL to RGB, PS3.3 C.7.6.3.1.2 (inverse of the JFIF equations), rounded as floor(v + 0.5). */
function ybrFullToRgb(samples: SampleArray, maxValue: number, out: Uint8Array): void {
  const half = (maxValue + 1) / 2;
  const scale = 255 / maxValue;
  const eightBit = maxValue === 255;
  for (let p = 0; p < samples.length; p += 3) {
    const y = samples[p]!;
    const cb = samples[p + 1]! - half;
    const cr = samples[p + 2]! - half;
    const rgb = [y + 1.402 * cr, y - 0.344136 * cb - 0.714136 * cr, y + 1.772 * cb];
    for (let c = 0; c < 3; c++) {
      let v = Math.floor(rgb[c]! + 0.5);
      v = v < 0 ? 0 : v > maxValue ? maxValue : v;
      out[p + c] = eightBit ? v : rint(v * scale);
    }
  }
}

/** The same for 8-bit samples through per-channel tables (a 640x480 frame in ~2 ms). */
function ybrFull8ToRgb(samples: Uint8Array, out: Uint8Array): void {
  const crR = new Float64Array(256);
  const cbG = new Float64Array(256);
  const crG = new Float64Array(256);
  const cbB = new Float64Array(256);
  for (let i = 0; i < 256; i++) {
    const d = i - 128;
    crR[i] = 1.402 * d + 0.5;
    cbG[i] = -0.344136 * d;
    crG[i] = -0.714136 * d + 0.5;
    cbB[i] = 1.772 * d + 0.5;
  }
  for (let p = 0; p < samples.length; p += 3) {
    const y = samples[p]!;
    const cb = samples[p + 1]!;
    const cr = samples[p + 2]!;
    const r = Math.floor(y + crR[cr]!);
    const g = Math.floor(y + cbG[cb]! + crG[cr]!);
    const b = Math.floor(y + cbB[cb]!);
    out[p] = r < 0 ? 0 : r > 255 ? 255 : r;
    out[p + 1] = g < 0 ? 0 : g > 255 ? 255 : g;
    out[p + 2] = b < 0 ? 0 : b > 255 ? 255 : b;
  }
}

function renderColour(frame: DecodedFrame): Uint8Array {
  const { samples, layout } = frame;
  const photometric = frame.photometric;
  const maxValue = 2 ** Math.min(layout.bitsStored, 32) - 1;
  const out = new Uint8Array(samples.length);
  if (photometric === 'YBR_FULL' || photometric === 'YBR_FULL_422') {
    if (samples instanceof Uint8Array && maxValue === 255) ybrFull8ToRgb(samples, out);
    else ybrFullToRgb(samples, maxValue, out);
    return out;
  }
  if (photometric !== 'RGB') {
    throw new UndecodablePixels(`cannot render colour images with Photometric Interpretation ${photometric}`);
  }
  if (samples instanceof Uint8Array && maxValue === 255) return samples;
  // Wider samples: scale [0, 2^BitsStored - 1] to [0, 255].
  const scale = 255 / maxValue;
  for (let i = 0; i < samples.length; i++) out[i] = to8(samples[i]! * scale);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Palette colour

const PALETTE = [
  {
    descriptor: TAGS.RedPaletteColorLookupTableDescriptor,
    data: TAGS.RedPaletteColorLookupTableData,
    segmented: TAGS.SegmentedRedPaletteColorLookupTableData,
  },
  {
    descriptor: TAGS.GreenPaletteColorLookupTableDescriptor,
    data: TAGS.GreenPaletteColorLookupTableData,
    segmented: TAGS.SegmentedGreenPaletteColorLookupTableData,
  },
  {
    descriptor: TAGS.BluePaletteColorLookupTableDescriptor,
    data: TAGS.BluePaletteColorLookupTableData,
    segmented: TAGS.SegmentedBluePaletteColorLookupTableData,
  },
] as const;

const MAX_SEGMENT_DEPTH = 8;

/** Expands Segmented Palette Color LUT Data (PS3.3 C.7.9.2): discrete, linear and indirect segments. */
function expandSegmented(words: Uint16Array, entries: number): Uint16Array {
  const out: number[] = [];
  const run = (start: number, segmentLimit: number, depth: number): void => {
    if (depth > MAX_SEGMENT_DEPTH) throw new UndecodablePixels('segmented palette nests indirect segments too deeply');
    let i = start;
    let segments = 0;
    while (i < words.length && segments < segmentLimit && out.length < entries) {
      const opcode = words[i]!;
      const length = words[i + 1] ?? 0;
      if (opcode === 0) {
        for (let k = 0; k < length && i + 2 + k < words.length; k++) out.push(words[i + 2 + k]!);
        i += 2 + length;
      } else if (opcode === 1) {
        const y0 = out.length > 0 ? out[out.length - 1]! : 0;
        const y1 = words[i + 2] ?? y0;
        for (let k = 1; k <= length; k++) out.push(Math.round(y0 + ((y1 - y0) * k) / length));
        i += 3;
      } else if (opcode === 2) {
        const offset = ((words[i + 3] ?? 0) * 65536 + (words[i + 2] ?? 0)) / 2; // byte offset of the first segment
        run(offset, length, depth + 1);
        i += 4;
      } else {
        throw new UndecodablePixels(`segmented palette has an unknown segment type ${opcode}`);
      }
      segments++;
    }
  };
  run(0, Infinity, 0);
  const lut = new Uint16Array(entries);
  for (let k = 0; k < entries; k++) lut[k] = out[Math.min(k, out.length - 1)] ?? 0;
  return lut;
}

function readPaletteChannel(parsed: ParsedDicom, channel: (typeof PALETTE)[number], signedPixels: boolean): Lut {
  const { dataSet } = parsed;
  const segmented = dataSet.elements[channel.segmented];
  if (segmented && !dataSet.elements[channel.data]) {
    const descriptor = dataSet.elements[channel.descriptor];
    if (!descriptor) throw new UndecodablePixels(`the palette has no descriptor ${tagLabel(channel.descriptor)}`);
    const entries = dataSet.uint16(channel.descriptor, 0) || 65536;
    const rawFirst = dataSet.uint16(channel.descriptor, 1) ?? 0;
    const firstMapped = (descriptor.vr === 'SS' || signedPixels) && rawFirst >= 0x8000 ? rawFirst - 0x10000 : rawFirst;
    const words = new Uint16Array(segmented.length >> 1);
    for (let i = 0; i < words.length; i++) words[i] = dataSet.uint16(channel.segmented, i) ?? 0;
    const data = expandSegmented(words, entries);
    return { firstMapped, bits: dataSet.uint16(channel.descriptor, 2) ?? 16, data };
  }
  const lut = readLut(dataSet, channel.descriptor, channel.data, signedPixels, isBigEndian(parsed));
  if (!lut) throw new UndecodablePixels(`PALETTE COLOR image without palette ${tagLabel(channel.data)}`);
  return lut;
}

function renderPalette(parsed: ParsedDicom, frame: DecodedFrame): Uint8Array {
  const { samples, layout } = frame;
  const luts = PALETTE.map((channel) => readPaletteChannel(parsed, channel, layout.signed));
  // Some writers declare 16-bit entries but store 8-bit values: judge all three channels together.
  const maxEntry = Math.max(...luts.map((l) => l.data.reduce((m, v) => (v > m ? v : m), 0)));
  const tables = luts.map((lut) => {
    const bits = lut.bits > 8 && maxEntry <= 255 ? 8 : lut.bits;
    const scale = 255 / (2 ** bits - 1);
    const table = new Uint8Array(lut.data.length);
    for (let i = 0; i < table.length; i++) table[i] = to8(lut.data[i]! * scale);
    return { table, firstMapped: lut.firstMapped };
  });
  const out = new Uint8Array(samples.length * 3);
  for (let c = 0; c < 3; c++) {
    const { table, firstMapped } = tables[c]!;
    const last = table.length - 1;
    for (let p = 0; p < samples.length; p++) {
      let index = samples[p]! - firstMapped;
      if (index < 0) index = 0;
      else if (index > last) index = last;
      out[p * 3 + c] = table[index]!;
    }
  }
  return out;
}
