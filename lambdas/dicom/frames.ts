// WADO-RS frame retrieval (PS3.18 8.7.3, 10.4.1.1.4): one stored file's frames as stored, or decoded to native samples.
import type { Element } from 'dicom-parser';
import './codecs/index.js'; // registers the decoders of the compressed transfer syntaxes (each loads on first use)
import { FrameNotAcceptable, FrameOutOfRange, NoImage, UndecodablePixels } from './errors.js';
import { StoredFrameReader, type ByteSource } from './frame-source.js';
import type { ParsedDicom } from './parse.js';
import {
  canDecode,
  decodeFrameAsync,
  describeTransferSyntax,
  encapsulatedFrameBytes,
  hasPixelData,
  isNativeTransferSyntax,
  nativeFrameBits,
  readPixelLayout,
  type DecodedFrame,
  type PixelLayout,
  type StoredFrame,
} from './pixels.js';
import { TAGS } from './tags.js';
import { TRANSFER_SYNTAX, TRANSFER_SYNTAXES } from './uids.js';

/** One frame as WADO-RS returns it: bytes plus the part's media type (PS3.18 Table 8.7.3-2/-5), with its transfer-syntax parameter. */
export interface RetrievedFrame {
  bytes: Uint8Array;
  contentType: string;
  transferSyntaxUid: string;
}

/** What the client may accept, from the Accept header's transfer-syntax parameter(s): '*' (as stored), or explicit UIDs. */
export type FrameSyntaxRequest = '*' | readonly string[];

/** The uncompressed syntax every native frame is returned in (PS3.18 Table 8.7.3-5's default for octet-stream). */
const EXPLICIT_LE = TRANSFER_SYNTAX.ExplicitVRLittleEndian;
/** A frame list longer than this is refused as malformed rather than read frame by frame. */
const MAX_FRAMES_PER_REQUEST = 10_000;

/** The media type of a frame stored in `transferSyntaxUid` as PS3.18 names it, with `; transfer-syntax=<uid>`. */
export function frameMediaType(transferSyntaxUid: string): string {
  const mediaType = TRANSFER_SYNTAXES.get(transferSyntaxUid)?.frameMediaType ?? 'application/octet-stream';
  return `${mediaType}; transfer-syntax=${transferSyntaxUid}`;
}

/** Parses a frame list path segment '1,3,5' -> [1,3,5]; undefined when malformed (empty, 0, non-digits, > 10,000 entries). Duplicates kept in order. */
export function parseFrameList(text: string): number[] | undefined {
  const entries = text.split(',');
  if (entries.length > MAX_FRAMES_PER_REQUEST) return undefined;
  const frames: number[] = [];
  for (const entry of entries) {
    if (!/^[0-9]+$/.test(entry)) return undefined;
    const frame = Number(entry);
    if (frame < 1 || !Number.isSafeInteger(frame)) return undefined;
    frames.push(frame);
  }
  return frames;
}

/** The syntax a frame is returned in when the client accepts it as stored: native ones all leave as explicit VR LE. */
function asStoredSyntax(storedUid: string): string {
  return isNativeTransferSyntax(storedUid) ? EXPLICIT_LE : storedUid;
}

/** As stored, or decoded to explicit VR LE (compressed files only); FrameNotAcceptable when neither is accepted. */
function chooseSyntax(storedUid: string, accept: FrameSyntaxRequest): { transferSyntaxUid: string; decode: boolean } {
  const asStored = asStoredSyntax(storedUid);
  if (accept === '*' || accept.includes('*') || accept.includes(asStored)) {
    return { transferSyntaxUid: asStored, decode: false };
  }
  const decodable = !isNativeTransferSyntax(storedUid) && canDecode(storedUid);
  if (decodable && accept.includes(EXPLICIT_LE)) return { transferSyntaxUid: EXPLICIT_LE, decode: true };
  const offered = decodable ? `${asStored} or ${EXPLICIT_LE}` : asStored;
  throw new FrameNotAcceptable(
    `the frames are stored as ${describeTransferSyntax(storedUid)} and can be returned as transfer-syntax ${offered}, ` +
      `not ${accept.join(', ') || '(none)'}`,
  );
}

function truncated(): UndecodablePixels {
  return new UndecodablePixels('pixel data is truncated', 'PIXEL_DATA_TRUNCATED');
}

function pixelElement(parsed: ParsedDicom): Element {
  const { elements } = parsed.dataSet;
  const element = elements[TAGS.PixelData] ?? elements[TAGS.FloatPixelData] ?? elements[TAGS.DoubleFloatPixelData];
  if (!element) throw new NoImage();
  return element;
}

/** Copies `bytes` with each `unit`-byte group reversed (big endian to little endian). */
function swapped(bytes: Uint8Array, unit: number): Uint8Array {
  const copy = Buffer.from(bytes); // copies
  if (unit === 2) copy.swap16();
  else if (unit === 4) copy.swap32();
  else if (unit === 8) copy.swap64();
  return copy;
}

/** `bits` bits of `bytes` from `startBit` on, moved to bit 0 of a fresh array whose bits past the frame are zero. */
function realignBits(bytes: Uint8Array, startBit: number, bits: number): Uint8Array {
  const out = new Uint8Array(Math.ceil(bits / 8));
  const skip = startBit >>> 3;
  const shift = startBit & 7;
  for (let i = 0; i < out.length; i++) {
    // PS3.5 8.1.1: bits fill each byte from the least significant end, so later bits come from the next byte's low end.
    const low = bytes[skip + i] ?? 0;
    const high = shift === 0 ? 0 : (bytes[skip + i + 1] ?? 0);
    out[i] = ((low >>> shift) | (high << (8 - shift))) & 0xff;
  }
  const tail = bits & 7;
  if (tail !== 0) out[out.length - 1]! &= (1 << tail) - 1;
  return out;
}

/**
 * A native frame's bytes as explicit VR little endian: as stored for little endian (implicit VR samples are the
 * same bytes), byte-swapped for big endian, and for bit-packed frames moved to start at bit 0.
 */
function nativeFrameAsStored(
  parsed: ParsedDicom,
  layout: PixelLayout,
  frameIndex: number,
  stored: StoredFrame | undefined,
): Uint8Array {
  const element = pixelElement(parsed);
  if (element.encapsulatedPixelData || element.length === 0xffffffff) {
    throw new UndecodablePixels(
      `pixel data is encapsulated (compressed) but the transfer syntax ${describeTransferSyntax(parsed.transferSyntaxUid)} is not`,
    );
  }
  const bits = nativeFrameBits(layout);
  let bytes: Uint8Array;
  let startBit: number;
  if (stored) {
    ({ bytes, startBit } = stored);
  } else {
    const { byteArray } = parsed.dataSet;
    if (parsed.truncatedPixelData || element.dataOffset + element.length > byteArray.length) throw truncated();
    bytes = byteArray.subarray(element.dataOffset, element.dataOffset + element.length);
    startBit = frameIndex * bits;
  }
  if (Math.ceil((startBit + bits) / 8) > bytes.length) {
    throw new UndecodablePixels(
      `pixel data is shorter than the image needs: frame ${frameIndex + 1} ends at byte ` +
        `${Math.ceil((startBit + bits) / 8)}, the element holds ${bytes.length}`,
      'PIXEL_DATA_TOO_SHORT',
    );
  }
  if (parsed.transferSyntaxUid === TRANSFER_SYNTAX.ExplicitVRBigEndian) {
    if (layout.bitsAllocated >= 16) {
      const start = startBit / 8;
      return swapped(bytes.subarray(start, start + bits / 8), layout.bitsAllocated / 8);
    }
    if (element.vr === 'OW') {
      // Big endian OW swaps every 16-bit word, whatever the samples inside: swap the words the frame touches.
      const from = Math.floor(startBit / 16) * 2;
      const to = Math.min(Math.ceil((startBit + bits) / 16) * 2, bytes.length - (bytes.length % 2));
      bytes = swapped(bytes.subarray(from, to), 2);
      startBit -= from * 8;
    }
  }
  if (startBit % 8 === 0 && bits % 8 === 0) return bytes.subarray(startBit / 8, startBit / 8 + bits / 8);
  return realignBits(bytes, startBit, bits);
}

/** One compressed frame's bytes exactly as stored: all of its fragments, concatenated. */
function encapsulatedFrameAsStored(
  parsed: ParsedDicom,
  layout: PixelLayout,
  frameIndex: number,
  stored: StoredFrame | undefined,
): Uint8Array {
  if (stored) return stored.bytes;
  if (parsed.truncatedPixelData) throw truncated();
  return encapsulatedFrameBytes(parsed, pixelElement(parsed), layout, frameIndex);
}

/**
 * Decoded samples as native explicit VR little endian at Bits Allocated, colour by pixel (Planar Configuration 0).
 * A codec may have converted the colour space (JPEG YBR_FULL_422 comes out as RGB: `decoded.photometric`), so
 * the samples can differ in colour space from the instance's Photometric Interpretation.
 */
function littleEndianSamples({ layout, samples }: DecodedFrame): Uint8Array {
  const count = samples.length;
  if (layout.bitsAllocated === 1) {
    const out = new Uint8Array(Math.ceil(count / 8));
    for (let i = 0; i < count; i++) if (samples[i]! & 1) out[i >>> 3]! |= 1 << (i & 7);
    return out;
  }
  if (layout.bitsAllocated === 8) {
    const out = new Uint8Array(count);
    for (let i = 0; i < count; i++) out[i] = samples[i]! & 0xff;
    return out;
  }
  const width = layout.bitsAllocated / 8;
  const out = new Uint8Array(count * width);
  const view = new DataView(out.buffer);
  const float = samples instanceof Float32Array || samples instanceof Float64Array;
  for (let i = 0; i < count; i++) {
    const value = samples[i]!;
    if (width === 2) view.setUint16(i * 2, value & 0xffff, true);
    else if (width === 4 && float) view.setFloat32(i * 4, value, true);
    else if (width === 4) view.setUint32(i * 4, value >>> 0, true);
    else view.setFloat64(i * 8, value, true);
  }
  return out;
}

/**
 * Reads the requested frames (1-based numbers, as in the URL) from a stored object through ranged reads: the
 * header once, then each distinct frame's bytes (native: its byte range; encapsulated: its offset-table entry
 * and fragments). Files whose frames cannot be located that way (deflated, no offset table) are read whole, once.
 */
export async function retrieveFrames(
  source: ByteSource,
  frameNumbers: readonly number[],
  accept: FrameSyntaxRequest,
): Promise<RetrievedFrame[]> {
  const frames = await StoredFrameReader.open(source);
  if (!hasPixelData(frames.parsed)) throw new NoImage();
  const layout = frames.layout() ?? readPixelLayout(frames.parsed.dataSet);
  const count = layout.numberOfFrames;
  for (const frame of frameNumbers) {
    if (!Number.isInteger(frame) || frame < 1 || frame > count) {
      throw new FrameOutOfRange(`frame ${frame} does not exist: this instance has ${count} frame(s)`);
    }
  }
  const storedUid = frames.parsed.transferSyntaxUid;
  const { transferSyntaxUid, decode } = chooseSyntax(storedUid, accept);
  const contentType = frameMediaType(transferSyntaxUid);
  const native = isNativeTransferSyntax(storedUid);
  const retrieved = new Map<number, RetrievedFrame>();
  const out: RetrievedFrame[] = [];
  for (const frame of frameNumbers) {
    let result = retrieved.get(frame);
    if (!result) {
      const frameIndex = frame - 1;
      const { parsed, storedFrame } = await frames.frame(frameIndex);
      const bytes = decode
        ? littleEndianSamples(await decodeFrameAsync(parsed, frameIndex, storedFrame))
        : native
          ? nativeFrameAsStored(parsed, layout, frameIndex, storedFrame)
          : encapsulatedFrameAsStored(parsed, layout, frameIndex, storedFrame);
      result = { bytes, contentType, transferSyntaxUid };
      retrieved.set(frame, result);
    }
    out.push(result);
  }
  return out;
}
