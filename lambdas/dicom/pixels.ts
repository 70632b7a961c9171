// Decodes one frame of Pixel Data into typed samples: native syntaxes and RLE here, other codecs plugged in per syntax.
import dicomParser from 'dicom-parser';
import type { DataSet, Element } from 'dicom-parser';
import { FrameOutOfRange, UndecodablePixels } from './errors.js';
import type { ParsedDicom } from './parse.js';
import { TAGS } from './tags.js';
import { TRANSFER_SYNTAX, TRANSFER_SYNTAXES } from './uids.js';

/** Larger frames would need gigabytes once widened to floats: refuse them before allocating. */
export const MAX_SAMPLES_PER_FRAME = 2 ** 28;

export type SampleArray =
  Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array | Float64Array;

/** The Image Pixel module attributes that decide how the bytes become samples. */
export interface PixelLayout {
  readonly rows: number;
  readonly columns: number;
  readonly samplesPerPixel: 1 | 3;
  readonly bitsAllocated: number;
  readonly bitsStored: number;
  readonly highBit: number;
  /** Pixel Representation 1: two's complement samples. */
  readonly signed: boolean;
  readonly planarConfiguration: 0 | 1;
  readonly numberOfFrames: number;
  readonly photometric: string;
  /** Which element holds the pixels: Pixel Data, Float Pixel Data or Double Float Pixel Data. */
  readonly sampleFormat: 'integer' | 'float32' | 'float64';
}

export interface DecodedFrame {
  readonly layout: PixelLayout;
  /** One frame, pixel by pixel, colour samples interleaved; BitsStored already masked and sign-extended. */
  readonly samples: SampleArray;
  /** The colour space of `samples` (a codec may have converted it, e.g. JPEG YBR to RGB). */
  readonly photometric: string;
}

/** One compressed frame, as handed to a codec. */
export interface EncodedFrame {
  readonly bytes: Uint8Array;
  readonly layout: PixelLayout;
  readonly transferSyntaxUid: string;
  readonly frameIndex: number;
}

export interface CodecOutput {
  /** rows x columns x samplesPerPixel samples, interleaved. */
  readonly samples: SampleArray;
  /** Set when the codec changed the colour space (e.g. 'RGB' after a YBR JPEG). */
  readonly photometric?: string;
}

export type FrameDecoder = (frame: EncodedFrame) => CodecOutput | Promise<CodecOutput>;

/**
 * One frame's stored bytes, read on their own (lambdas/dicom/frame-source.ts reads just them with
 * ranged GETs) instead of from the dataset's Pixel Data: the bytes a codec decodes for an
 * encapsulated syntax; for a native one, the bytes spanning the frame, which starts at `startBit`.
 */
export interface StoredFrame {
  readonly bytes: Uint8Array;
  readonly startBit: number;
}

/** A decoder for one transfer syntax; `load` runs on first use so WASM start-up is paid only by files that need it. */
export interface PixelCodec {
  readonly name: string;
  readonly load: () => FrameDecoder | Promise<FrameDecoder>;
}

/** "JPEG Baseline (1.2.840.10008.1.2.4.50)", or the bare UID marked unknown. */
export function describeTransferSyntax(uid: string): string {
  const name = TRANSFER_SYNTAXES.get(uid)?.name;
  return name ? `${name} (${uid})` : `unknown ${uid || '(empty)'}`;
}

// ---------------------------------------------------------------------------------------------
// Codec registry

const codecs = new Map<string, PixelCodec>();
const loadedDecoders = new Map<string, FrameDecoder>();

/** Plugs in (or replaces) the decoder for a transfer syntax, loaded on first use; returns a function that undoes it. */
export function registerCodec(transferSyntaxUid: string, codec: PixelCodec): () => void {
  const previous = codecs.get(transferSyntaxUid);
  codecs.set(transferSyntaxUid, codec);
  loadedDecoders.delete(transferSyntaxUid);
  return () => {
    if (previous) codecs.set(transferSyntaxUid, previous);
    else codecs.delete(transferSyntaxUid);
    loadedDecoders.delete(transferSyntaxUid);
  };
}

/** Can this syntax be decoded at all (natively or by a registered codec)? */
export function canDecode(transferSyntaxUid: string): boolean {
  return isNativeTransferSyntax(transferSyntaxUid) || codecs.has(transferSyntaxUid);
}

function unsupportedSyntax(uid: string): UndecodablePixels {
  return new UndecodablePixels(
    `cannot decode pixel data in transfer syntax ${describeTransferSyntax(uid)} yet`,
    'UNSUPPORTED_TRANSFER_SYNTAX',
  );
}

/** The synchronous path has no decoder for a codec that loads or decodes asynchronously (WASM): undecodable here. */
function notSynchronous(uid: string, codec: PixelCodec): UndecodablePixels {
  return new UndecodablePixels(
    `cannot decode ${describeTransferSyntax(uid)} synchronously: the ${codec.name} decoder is asynchronous ` +
      '(use decodeFrameAsync)',
    'UNSUPPORTED_TRANSFER_SYNTAX',
  );
}

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

// ---------------------------------------------------------------------------------------------
// Layout

function pixelElement(dataSet: DataSet): { element: Element; format: PixelLayout['sampleFormat'] } | undefined {
  const integer = dataSet.elements[TAGS.PixelData];
  if (integer) return { element: integer, format: 'integer' };
  const float32 = dataSet.elements[TAGS.FloatPixelData];
  if (float32) return { element: float32, format: 'float32' };
  const float64 = dataSet.elements[TAGS.DoubleFloatPixelData];
  if (float64) return { element: float64, format: 'float64' };
  return undefined;
}

/** Does the dataset carry an image at all (top-level pixel data, possibly cut short)? */
export function hasPixelData(parsed: ParsedDicom): boolean {
  const found = pixelElement(parsed.dataSet);
  if (found) return found.element.length > 0 || found.element.encapsulatedPixelData === true;
  return parsed.truncatedPixelData;
}

function requiredUint16(dataSet: DataSet, tag: string, name: string): number {
  const value = dataSet.uint16(tag);
  if (value === undefined) throw new UndecodablePixels(`the image has no ${name} ${tagLabel(tag)}`);
  return value;
}

function tagLabel(tag: string): string {
  return `(${tag.slice(1, 5).toUpperCase()},${tag.slice(5).toUpperCase()})`;
}

/** Reads and checks the Image Pixel module; throws UndecodablePixels naming the attribute that is wrong. */
export function readPixelLayout(dataSet: DataSet): PixelLayout {
  const found = pixelElement(dataSet);
  const sampleFormat = found?.format ?? 'integer';
  const rows = requiredUint16(dataSet, TAGS.Rows, 'Rows');
  const columns = requiredUint16(dataSet, TAGS.Columns, 'Columns');
  if (rows === 0 || columns === 0) throw new UndecodablePixels(`the image is empty (Rows ${rows}, Columns ${columns})`);
  const spp = dataSet.uint16(TAGS.SamplesPerPixel) ?? 1;
  if (spp !== 1 && spp !== 3) throw new UndecodablePixels(`Samples per Pixel ${spp} is not supported (only 1 or 3)`);
  const defaultBits = sampleFormat === 'float64' ? 64 : sampleFormat === 'float32' ? 32 : undefined;
  const bitsAllocated = dataSet.uint16(TAGS.BitsAllocated) ?? defaultBits;
  if (bitsAllocated === undefined) throw new UndecodablePixels('the image has no Bits Allocated (0028,0100)');
  if (sampleFormat === 'integer' && ![1, 8, 16, 32].includes(bitsAllocated)) {
    throw new UndecodablePixels(`Bits Allocated ${bitsAllocated} is not supported (only 1, 8, 16 or 32)`);
  }
  if (sampleFormat !== 'integer' && bitsAllocated !== defaultBits) {
    throw new UndecodablePixels(`floating point pixel data with Bits Allocated ${bitsAllocated} is not supported`);
  }
  const bitsStored = sampleFormat === 'integer' ? (dataSet.uint16(TAGS.BitsStored) ?? bitsAllocated) : bitsAllocated;
  const highBit = sampleFormat === 'integer' ? (dataSet.uint16(TAGS.HighBit) ?? bitsStored - 1) : bitsAllocated - 1;
  if (bitsStored < 1 || bitsStored > bitsAllocated || highBit >= bitsAllocated || highBit + 1 < bitsStored) {
    throw new UndecodablePixels(
      `inconsistent bit layout: Bits Allocated ${bitsAllocated}, Bits Stored ${bitsStored}, High Bit ${highBit}`,
    );
  }
  const framesText = dataSet.intString(TAGS.NumberOfFrames);
  const numberOfFrames = framesText !== undefined && Number.isFinite(framesText) && framesText > 0 ? framesText : 1;
  const defaultPhotometric = spp === 3 ? 'RGB' : 'MONOCHROME2';
  const photometric =
    (dataSet.string(TAGS.PhotometricInterpretation) ?? defaultPhotometric).trim().toUpperCase() || defaultPhotometric;
  return {
    rows,
    columns,
    samplesPerPixel: spp,
    bitsAllocated,
    bitsStored,
    highBit,
    signed: sampleFormat === 'integer' && dataSet.uint16(TAGS.PixelRepresentation) === 1,
    planarConfiguration: spp === 3 && dataSet.uint16(TAGS.PlanarConfiguration) === 1 ? 1 : 0,
    numberOfFrames,
    photometric,
    sampleFormat,
  };
}

function samplesPerFrame(layout: PixelLayout): number {
  return layout.rows * layout.columns * layout.samplesPerPixel;
}

/** Uncompressed YBR_FULL_422 stores two samples per pixel: Y Y Cb Cr for each pair of pixels. */
function storedSamplesPerFrame(layout: PixelLayout): number {
  if (layout.photometric === 'YBR_FULL_422' && layout.samplesPerPixel === 3) return layout.rows * layout.columns * 2;
  return samplesPerFrame(layout);
}

/** Bits one native frame occupies in Pixel Data (frames follow each other without padding, PS3.5 8.1.1). */
export function nativeFrameBits(layout: PixelLayout): number {
  return storedSamplesPerFrame(layout) * layout.bitsAllocated;
}

/** Is this one of the uncompressed syntaxes whose frames lie at fixed offsets in Pixel Data? */
export function isNativeTransferSyntax(transferSyntaxUid: string): boolean {
  return TRANSFER_SYNTAXES.get(transferSyntaxUid)?.native === true;
}

/**
 * Memory one frame's sample costs while it is decoded and rendered, with the file's own bytes: measured about 3 bytes
 * per sample for the render of a 4096 x 4096 16-bit frame above its 2-byte input (RSS, Node 20); 12 leaves room for
 * codecs that hand back 32-bit samples and for the encoded PNG.
 */
const BYTES_PER_SAMPLE_IN_MEMORY = 12;
/** What a Lambda's runtime, modules and SDK clients take before any frame (measured cold RSS ~150 MB). */
const RUNTIME_BASELINE_MB = 160;

/** The most samples one frame may have in this function: its memory setting bounds it (refused, not a crash). */
export function maxSamplesPerFrame(env: NodeJS.ProcessEnv = process.env): number {
  const memoryMb = Number(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE);
  if (!Number.isFinite(memoryMb) || memoryMb <= 0) return MAX_SAMPLES_PER_FRAME;
  const bySize = Math.floor(((memoryMb - RUNTIME_BASELINE_MB) * 1024 * 1024) / BYTES_PER_SAMPLE_IN_MEMORY);
  return Math.max(1, Math.min(MAX_SAMPLES_PER_FRAME, bySize));
}

/** IMAGE_TOO_LARGE for a frame too large to render (before decoding it), FrameOutOfRange for one the image lacks. */
export function checkBounds(layout: PixelLayout, frameIndex: number): void {
  const limit = maxSamplesPerFrame();
  if (samplesPerFrame(layout) > limit) {
    throw new UndecodablePixels(
      `the image is too large to render here: ${layout.rows} x ${layout.columns} x ${layout.samplesPerPixel} samples per frame ` +
        `(this function renders at most ${limit}); its frames can still be retrieved as stored`,
      'IMAGE_TOO_LARGE',
    );
  }
  if (!Number.isInteger(frameIndex) || frameIndex < 0 || frameIndex >= layout.numberOfFrames) {
    throw new FrameOutOfRange(
      `frame ${frameIndex + 1} does not exist: this image has ${layout.numberOfFrames} frame(s)`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Native (uncompressed) pixel data

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Swaps each `unit`-byte group in place (unit 2, 4 or 8). */
function swapBytes(bytes: Uint8Array, unit: number): void {
  for (let i = 0; i + unit <= bytes.length; i += unit) {
    for (let a = i, b = i + unit - 1; a < b; a++, b--) {
      const t = bytes[a]!;
      bytes[a] = bytes[b]!;
      bytes[b] = t;
    }
  }
}

/** Copies `bytes` (so the view is aligned and owns its buffer) and views them as unsigned samples of `bits`. */
function toTypedSamples(bytes: Uint8Array, bits: 8 | 16 | 32 | 64, littleEndian: boolean, float: boolean): SampleArray {
  const copy = new Uint8Array(bytes); // the copy constructor copies; Buffer#slice would not
  if (bits > 8 && littleEndian !== HOST_LITTLE_ENDIAN) swapBytes(copy, bits / 8);
  if (bits === 8) return copy;
  if (bits === 16) return new Uint16Array(copy.buffer);
  if (bits === 32) return float ? new Float32Array(copy.buffer) : new Uint32Array(copy.buffer);
  return new Float64Array(copy.buffer);
}

function unpackBits(bytes: Uint8Array, startBit: number, count: number, swapPairs: boolean): Uint8Array {
  const out = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const bit = startBit + i;
    const byteIndex = swapPairs ? (bit >>> 3) ^ 1 : bit >>> 3;
    // PS3.5 8.1.1: the first pixel is the least significant bit of the first byte.
    out[i] = (bytes[byteIndex]! >>> (bit & 7)) & 1;
  }
  return out;
}

function elementBytes(parsed: ParsedDicom, element: Element): Uint8Array {
  const { byteArray } = parsed.dataSet;
  const end = element.dataOffset + element.length;
  if (parsed.truncatedPixelData || end > byteArray.length) throw truncated();
  return byteArray.subarray(element.dataOffset, end);
}

function truncated(): UndecodablePixels {
  return new UndecodablePixels('pixel data is truncated', 'PIXEL_DATA_TRUNCATED');
}

function readNativeFrame(
  parsed: ParsedDicom,
  element: Element,
  layout: PixelLayout,
  frameIndex: number,
  stored?: StoredFrame,
): SampleArray {
  if (element.encapsulatedPixelData) {
    throw new UndecodablePixels(
      `pixel data is encapsulated (compressed) but the transfer syntax ${describeTransferSyntax(parsed.transferSyntaxUid)} is not`,
    );
  }
  const bytes = stored ? stored.bytes : elementBytes(parsed, element);
  const count = storedSamplesPerFrame(layout);
  const bitsPerFrame = count * layout.bitsAllocated;
  const startBit = stored ? stored.startBit : frameIndex * bitsPerFrame;
  const endByte = Math.ceil((startBit + bitsPerFrame) / 8);
  if (endByte > bytes.length) {
    throw new UndecodablePixels(
      `pixel data is shorter than the image needs: frame ${frameIndex + 1} of ${layout.rows} x ${layout.columns} x ` +
        `${layout.samplesPerPixel} samples at ${layout.bitsAllocated} bits ends at byte ${endByte}, ` +
        `the element holds ${bytes.length}`,
      'PIXEL_DATA_TOO_SHORT',
    );
  }
  const bigEndian = parsed.transferSyntaxUid === TRANSFER_SYNTAX.ExplicitVRBigEndian;
  // Big endian OW swaps every 16-bit word, even when the samples inside are 8 or 1 bit wide.
  const swapPairs = bigEndian && element.vr === 'OW' && layout.bitsAllocated < 16;
  if (layout.bitsAllocated === 1) return unpackBits(bytes, startBit, count, swapPairs);
  const frameBytes = bytes.subarray(startBit / 8, endByte);
  if (layout.bitsAllocated === 8) {
    const copy = new Uint8Array(frameBytes);
    if (swapPairs) swapBytes(copy, 2);
    return copy;
  }
  const float = layout.sampleFormat !== 'integer';
  return toTypedSamples(frameBytes, layout.bitsAllocated as 16 | 32 | 64, !bigEndian, float);
}

/** Masks to BitsStored below HighBit and sign-extends (PS3.5 8.1.1); returns a signed array when Pixel Representation is 1. */
export function applyBitsStored(raw: SampleArray, layout: PixelLayout): SampleArray {
  if (layout.sampleFormat !== 'integer' || raw instanceof Float32Array || raw instanceof Float64Array) return raw;
  const { bitsStored, highBit, signed } = layout;
  const shift = highBit + 1 - bitsStored;
  const width = raw.BYTES_PER_ELEMENT * 8;
  const alreadySigned = raw instanceof Int8Array || raw instanceof Int16Array || raw instanceof Int32Array;
  if (shift === 0 && bitsStored === width) {
    if (signed === alreadySigned) return raw;
    return reinterpret(raw, signed);
  }
  const out = signed ? signedArray(width, raw.length) : unsignedArray(width, raw.length);
  const mask = bitsStored >= 32 ? 0xffffffff : 2 ** bitsStored - 1;
  const signBit = 2 ** (bitsStored - 1);
  const range = 2 ** bitsStored;
  const unsignedOffset = alreadySigned ? 2 ** width : 0;
  for (let i = 0; i < raw.length; i++) {
    let v = raw[i]!;
    if (v < 0) v += unsignedOffset;
    v = (v >>> shift) & mask;
    if (mask === 0xffffffff) v >>>= 0;
    out[i] = signed && v >= signBit ? v - range : v;
  }
  return out;
}

function signedArray(width: number, length: number): Int8Array | Int16Array | Int32Array {
  return width === 8 ? new Int8Array(length) : width === 16 ? new Int16Array(length) : new Int32Array(length);
}

function unsignedArray(width: number, length: number): Uint8Array | Uint16Array | Uint32Array {
  return width === 8 ? new Uint8Array(length) : width === 16 ? new Uint16Array(length) : new Uint32Array(length);
}

function reinterpret(raw: SampleArray, signed: boolean): SampleArray {
  const { buffer, byteOffset, length } = raw;
  const width = raw.BYTES_PER_ELEMENT * 8;
  if (signed) {
    if (width === 8) return new Int8Array(buffer, byteOffset, length);
    if (width === 16) return new Int16Array(buffer, byteOffset, length);
    return new Int32Array(buffer, byteOffset, length);
  }
  if (width === 8) return new Uint8Array(buffer, byteOffset, length);
  if (width === 16) return new Uint16Array(buffer, byteOffset, length);
  return new Uint32Array(buffer, byteOffset, length);
}

/** Colour-by-plane (Planar Configuration 1) to colour-by-pixel. */
function interleavePlanes(planar: SampleArray, pixels: number): SampleArray {
  const out = planar.slice();
  for (let c = 0; c < 3; c++) {
    const plane = c * pixels;
    for (let p = 0; p < pixels; p++) out[p * 3 + c] = planar[plane + p]!;
  }
  return out;
}

/** Uncompressed YBR_FULL_422 (Y1 Y2 Cb Cr per pixel pair, PS3.3 C.7.6.3.1.2) to one Y Cb Cr triple per pixel. */
function expandYbr422(stored: SampleArray, pixels: number): SampleArray {
  const Ctor = stored.constructor as new (length: number) => SampleArray;
  const out = new Ctor(pixels * 3);
  for (let pair = 0, p = 0; p < pixels; pair++, p += 2) {
    const s = pair * 4;
    const cb = stored[s + 2]!;
    const cr = stored[s + 3]!;
    out[p * 3] = stored[s]!;
    out[p * 3 + 1] = cb;
    out[p * 3 + 2] = cr;
    if (p + 1 < pixels) {
      out[p * 3 + 3] = stored[s + 1]!;
      out[p * 3 + 4] = cb;
      out[p * 3 + 5] = cr;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Encapsulated pixel data

function describeError(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/^dicomParser\.\w+: /, '');
}

/** The Extended Offset Table (7FE0,0001), 64-bit offsets, when present and usable. */
export function extendedOffsets(dataSet: DataSet): number[] | undefined {
  const element = dataSet.elements[TAGS.ExtendedOffsetTable];
  if (!element || element.length < 8) return undefined;
  const view = new DataView(
    dataSet.byteArray.buffer,
    dataSet.byteArray.byteOffset + element.dataOffset,
    element.length,
  );
  const offsets: number[] = [];
  for (let i = 0; i + 8 <= element.length; i += 8) offsets.push(Number(view.getBigUint64(i, true)));
  return offsets;
}

/** Does this fragment look like the start of a frame in the given syntax? Used only when no offset table says so. */
function startsFrame(transferSyntaxUid: string, bytes: Uint8Array): boolean {
  if (transferSyntaxUid === TRANSFER_SYNTAX.RLELossless) {
    if (bytes.length < 64) return false;
    const view = new DataView(bytes.buffer, bytes.byteOffset, 64);
    const segments = view.getUint32(0, true);
    return segments >= 1 && segments <= 15 && view.getUint32(4, true) === 64;
  }
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return true; // JPEG, JPEG-LS SOI
  if (bytes[0] === 0xff && bytes[1] === 0x4f && bytes[2] === 0xff && bytes[3] === 0x51) return true; // J2K SOC+SIZ
  return bytes.length >= 12 && bytes[4] === 0x6a && bytes[5] === 0x50; // JP2 box 'jP  '
}

/** The bytes of one encapsulated frame: by the offset tables when present, else by fragment count or frame signatures. */
export function encapsulatedFrameBytes(
  parsed: ParsedDicom,
  element: Element,
  layout: PixelLayout,
  frameIndex: number,
): Uint8Array {
  const { dataSet } = parsed;
  const fragments = element.fragments ?? [];
  if (!element.encapsulatedPixelData || fragments.length === 0) {
    throw new UndecodablePixels(
      `pixel data is not encapsulated as transfer syntax ${describeTransferSyntax(parsed.transferSyntaxUid)} requires`,
    );
  }
  try {
    if (layout.numberOfFrames === 1) {
      return dicomParser.readEncapsulatedPixelDataFromFragments(dataSet, element, 0, fragments.length);
    }
    if ((element.basicOffsetTable ?? []).length > 0) {
      return dicomParser.readEncapsulatedImageFrame(dataSet, element, frameIndex);
    }
    const extended = extendedOffsets(dataSet);
    if (extended && extended.length === layout.numberOfFrames) {
      return dicomParser.readEncapsulatedImageFrame(dataSet, element, frameIndex, extended);
    }
    if (fragments.length === layout.numberOfFrames) {
      return dicomParser.readEncapsulatedPixelDataFromFragments(dataSet, element, frameIndex, 1);
    }
  } catch (error) {
    throw new UndecodablePixels(
      `cannot find frame ${frameIndex + 1} in the encapsulated pixel data: ${describeError(error)}`,
    );
  }
  const starts: number[] = [];
  fragments.forEach((fragment, index) => {
    const head = dataSet.byteArray.subarray(fragment.position, fragment.position + Math.min(fragment.length, 64));
    if (startsFrame(parsed.transferSyntaxUid, head)) starts.push(index);
  });
  const start = starts[frameIndex];
  if (starts.length !== layout.numberOfFrames || start === undefined) {
    throw new UndecodablePixels(
      `cannot tell where frame ${frameIndex + 1} starts: ${fragments.length} fragments for ${layout.numberOfFrames} frames ` +
        'and no offset table',
    );
  }
  const end = starts[frameIndex + 1] ?? fragments.length;
  return dicomParser.readEncapsulatedPixelDataFromFragments(dataSet, element, start, end - start);
}

// ---------------------------------------------------------------------------------------------
// RLE Lossless (PS3.5 Annex G)

/** PackBits (PS3.5 G.3.1) from src[start, end) into dst at dstStart with a stride; returns the bytes written. */
function unpackBitsSegment(
  src: Uint8Array,
  start: number,
  end: number,
  dst: Uint8Array,
  dstStart: number,
  stride: number,
  count: number,
): number {
  let written = 0;
  let out = dstStart;
  let i = start;
  while (i < end && written < count) {
    const header = src[i++]!;
    if (header < 0x80) {
      // literal run of header + 1 bytes
      const n = Math.min(header + 1, end - i, count - written);
      for (let k = 0; k < n; k++, out += stride) dst[out] = src[i + k]!;
      i += header + 1;
      written += n;
    } else if (header > 0x80) {
      // replicate the next byte 257 - header times (i.e. 1 - n for the signed header n)
      if (i >= end) break;
      const value = src[i++]!;
      const n = Math.min(257 - header, count - written);
      for (let k = 0; k < n; k++, out += stride) dst[out] = value;
      written += n;
    }
    // header 0x80 (-128) is a no-op
  }
  return written;
}

/** Decodes one RLE frame: one segment per byte of each sample, most significant byte first (PS3.5 G.2). */
export function decodeRleFrame(frame: EncodedFrame): CodecOutput {
  const { bytes, layout } = frame;
  if (![8, 16, 32].includes(layout.bitsAllocated)) {
    throw new UndecodablePixels(`RLE Lossless with Bits Allocated ${layout.bitsAllocated} is not supported`);
  }
  const bytesPerSample = layout.bitsAllocated / 8;
  const spp = layout.samplesPerPixel;
  const pixels = layout.rows * layout.columns;
  const expectedSegments = spp * bytesPerSample;
  if (bytes.length < 64) throw new UndecodablePixels('RLE frame is shorter than its 64-byte header');
  const header = new DataView(bytes.buffer, bytes.byteOffset, 64);
  const segments = header.getUint32(0, true);
  if (segments !== expectedSegments) {
    throw new UndecodablePixels(
      `RLE frame has ${segments} segments; ${expectedSegments} expected for ${spp} sample(s) of ${layout.bitsAllocated} bits`,
    );
  }
  const offsets: number[] = [];
  for (let s = 0; s < segments; s++) offsets.push(header.getUint32(4 + s * 4, true));
  const out = new Uint8Array(pixels * expectedSegments);
  const stride = expectedSegments;
  for (let s = 0; s < segments; s++) {
    const start = offsets[s]!;
    const end = s + 1 < segments ? offsets[s + 1]! : bytes.length;
    if (start < 64 || end > bytes.length || end < start) {
      throw new UndecodablePixels(`RLE segment ${s + 1} has an invalid offset (${start})`);
    }
    const sample = Math.floor(s / bytesPerSample);
    const byteOfSample = s % bytesPerSample; // 0 = most significant
    // Write little-endian sample bytes so the output can be viewed as 16/32-bit on a little-endian host.
    const position = sample * bytesPerSample + (bytesPerSample - 1 - byteOfSample);
    const written = unpackBitsSegment(bytes, start, end, out, position, stride, pixels);
    if (written < pixels) {
      throw new UndecodablePixels(`RLE segment ${s + 1} decodes to ${written} bytes; the image needs ${pixels}`);
    }
  }
  if (bytesPerSample === 1) return { samples: out };
  return { samples: toTypedSamples(out, layout.bitsAllocated as 16 | 32, true, false) };
}

/** Encapsulated Uncompressed Explicit VR Little Endian: each frame is one fragment of native little-endian samples. */
function decodeEncapsulatedUncompressed(frame: EncodedFrame): CodecOutput {
  const { bytes, layout } = frame;
  const count = storedSamplesPerFrame(layout);
  const needed = Math.ceil((count * layout.bitsAllocated) / 8);
  if (bytes.length < needed)
    throw new UndecodablePixels(`frame ${frame.frameIndex + 1} is shorter than the image needs`);
  if (layout.bitsAllocated === 1) return { samples: unpackBits(bytes, 0, count, false) };
  const frameBytes = bytes.subarray(0, needed);
  if (layout.bitsAllocated === 8) return { samples: new Uint8Array(frameBytes) };
  return { samples: toTypedSamples(frameBytes, layout.bitsAllocated as 16 | 32, true, false) };
}

registerCodec(TRANSFER_SYNTAX.RLELossless, { name: 'RLE Lossless', load: () => decodeRleFrame });
registerCodec(TRANSFER_SYNTAX.EncapsulatedUncompressedExplicitVRLittleEndian, {
  name: 'Encapsulated Uncompressed',
  load: () => decodeEncapsulatedUncompressed,
});

// ---------------------------------------------------------------------------------------------
// Entry points

interface FramePlan {
  layout: PixelLayout;
  element: Element;
}

function plan(parsed: ParsedDicom, frameIndex: number): FramePlan {
  const found = pixelElement(parsed.dataSet);
  if (parsed.truncatedPixelData) throw truncated();
  if (!found) throw new UndecodablePixels('the object has no pixel data');
  const layout = readPixelLayout(parsed.dataSet);
  checkBounds(layout, frameIndex);
  if (
    layout.photometric === 'YBR_FULL_422' &&
    layout.samplesPerPixel === 3 &&
    (layout.rows * layout.columns) % 2 === 1
  ) {
    throw new UndecodablePixels('YBR_FULL_422 needs an even number of pixels');
  }
  return { layout, element: found.element };
}

/** Planar-to-interleaved, 4:2:2 expansion and BitsStored masking: the same after any decoder. */
function finish(layout: PixelLayout, raw: SampleArray, photometric: string, native: boolean): DecodedFrame {
  const pixels = layout.rows * layout.columns;
  let samples = raw;
  let outPhotometric = photometric;
  if (native && photometric === 'YBR_FULL_422' && layout.samplesPerPixel === 3) {
    samples = expandYbr422(samples, pixels);
    outPhotometric = 'YBR_FULL';
  }
  if (samples.length !== pixels * layout.samplesPerPixel) {
    throw new UndecodablePixels(
      `the decoder returned ${samples.length} samples; the image needs ${pixels * layout.samplesPerPixel}`,
    );
  }
  if (native && layout.samplesPerPixel === 3 && layout.planarConfiguration === 1) {
    samples = interleavePlanes(samples, pixels);
  }
  return { layout, samples: applyBitsStored(samples, layout), photometric: outPhotometric };
}

function encodedFrame(
  parsed: ParsedDicom,
  { layout, element }: FramePlan,
  frameIndex: number,
  stored?: StoredFrame,
): EncodedFrame {
  const bytes = stored ? stored.bytes : encapsulatedFrameBytes(parsed, element, layout, frameIndex);
  return { bytes, layout, transferSyntaxUid: parsed.transferSyntaxUid, frameIndex };
}

function fromCodec(layout: PixelLayout, output: CodecOutput): DecodedFrame {
  // RLE and codecs return pixel-interleaved samples whatever Planar Configuration says (it describes the native layout).
  return finish(layout, output.samples, output.photometric ?? layout.photometric, false);
}

/** A native frame read at once, or the codec (and, once loaded, its decoder) that the frame needs. */
type FrameWork =
  | { kind: 'native'; frame: DecodedFrame }
  | {
      kind: 'codec';
      uid: string;
      codec: PixelCodec;
      decoder: FrameDecoder | undefined;
      encoded: () => EncodedFrame;
      layout: PixelLayout;
    };

function frameWork(parsed: ParsedDicom, frameIndex: number, stored: StoredFrame | undefined): FrameWork {
  const framePlan = plan(parsed, frameIndex);
  const { layout, element } = framePlan;
  if (isNativeTransferSyntax(parsed.transferSyntaxUid)) {
    const frame = finish(
      layout,
      readNativeFrame(parsed, element, layout, frameIndex, stored),
      layout.photometric,
      true,
    );
    return { kind: 'native', frame };
  }
  const uid = parsed.transferSyntaxUid;
  const codec = codecs.get(uid);
  if (!codec) throw unsupportedSyntax(uid);
  return {
    kind: 'codec',
    uid,
    codec,
    decoder: loadedDecoders.get(uid),
    encoded: () => encodedFrame(parsed, framePlan, frameIndex, stored),
    layout,
  };
}

/**
 * Frame `frameIndex` (0-based) as typed samples, synchronously: native syntaxes, RLE, and codecs whose decoder is
 * synchronous. Throws UndecodablePixels naming the transfer syntax when no synchronous decoder exists.
 */
export function decodeFrame(parsed: ParsedDicom, frameIndex = 0, stored?: StoredFrame): DecodedFrame {
  const work = frameWork(parsed, frameIndex, stored);
  if (work.kind === 'native') return work.frame;
  const { uid, codec } = work;
  let decoder = work.decoder;
  if (!decoder) {
    const loading = codec.load();
    if (isPromise(loading)) {
      loading.catch(() => undefined); // nobody awaits it here; decodeFrameAsync loads it again
      throw notSynchronous(uid, codec);
    }
    decoder = loading;
    loadedDecoders.set(uid, decoder);
  }
  const output = decoder(work.encoded());
  if (isPromise(output)) {
    output.catch(() => undefined); // a rejection nobody awaits would end the process
    throw notSynchronous(uid, codec);
  }
  return fromCodec(work.layout, output);
}

/** Like decodeFrame, but loads and awaits codecs that are asynchronous (WASM). */
export async function decodeFrameAsync(
  parsed: ParsedDicom,
  frameIndex = 0,
  stored?: StoredFrame,
): Promise<DecodedFrame> {
  const work = frameWork(parsed, frameIndex, stored);
  if (work.kind === 'native') return work.frame;
  let decoder = work.decoder;
  if (!decoder) {
    decoder = await work.codec.load();
    loadedDecoders.set(work.uid, decoder);
  }
  return fromCodec(work.layout, await decoder(work.encoded()));
}
