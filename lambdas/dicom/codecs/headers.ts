// Reads image size from JPEG, JPEG-LS and JPEG 2000 headers, so corrupt or mismatched frames are refused before
// a codec allocates for them (a flipped bit in a size field could ask for gigabytes).
import type { PixelLayout } from '../pixels.js';
import { checkShape, undecodable, type FrameShape } from './wasm.js';

export interface JpegFrameHeader extends FrameShape {
  /** The start-of-frame marker's second byte: 0xC0 baseline, 0xC1 extended, 0xC3 lossless, 0xF7 JPEG-LS. */
  marker: number;
  precision: number;
}

/** The first start-of-frame segment of a JPEG or JPEG-LS stream (SOF0..SOF15, SOF55), or undefined. */
export function jpegFrameHeader(bytes: Uint8Array): JpegFrameHeader | undefined {
  if (bytes[0] !== 0xff || bytes[1] !== 0xd8) return undefined;
  let i = 2;
  while (i + 9 < bytes.length) {
    if (bytes[i] !== 0xff) return undefined;
    const marker = bytes[i + 1]!;
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    // SOF markers are C0..CF except DHT (C4), JPG (C8) and DAC (CC); JPEG-LS uses F7.
    const isFrame = (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) || marker === 0xf7;
    if (isFrame) {
      return {
        marker,
        precision: bytes[i + 4]!,
        height: (bytes[i + 5]! << 8) | bytes[i + 6]!,
        width: (bytes[i + 7]! << 8) | bytes[i + 8]!,
        components: bytes[i + 9]!,
      };
    }
    if (marker === 0xda || marker === 0xd9) return undefined; // scan or end before any frame header
    i += 2 + ((bytes[i + 2]! << 8) | bytes[i + 3]!);
  }
  return undefined;
}

/** Image size from a JPEG 2000 codestream's SIZ segment (PS3.5 A.4.4 allows only the bare codestream). */
export function j2kSize(bytes: Uint8Array): FrameShape | undefined {
  // SOC (FF4F) then SIZ (FF51): Lsiz, Rsiz, Xsiz, Ysiz, XOsiz, YOsiz, XTsiz, YTsiz, XTOsiz, YTOsiz, Csiz.
  if (bytes.length < 42 || bytes[0] !== 0xff || bytes[1] !== 0x4f || bytes[2] !== 0xff || bytes[3] !== 0x51) {
    return undefined;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, 42);
  return {
    width: view.getUint32(8) - view.getUint32(16),
    height: view.getUint32(12) - view.getUint32(20),
    components: view.getUint16(40),
  };
}

/** Refuses a frame whose header (when it has one we can read) disagrees with the DICOM attributes. */
export function checkHeader(codec: string, header: FrameShape | undefined, layout: PixelLayout): void {
  if (header) checkShape(codec, header, layout);
}

/**
 * Does an EOI marker (FFD9) close the stream? Writers pad fragments after it (00, FF, even stray bytes: all seen in
 * the corpus), so the last 16 bytes are searched. CharLS spends seconds (measured: 3.2 s for a 256 x 1024 frame)
 * running past the end of a cut-short JPEG-LS stream before it fails: this answers in microseconds.
 */
export function endsWithEoi(bytes: Uint8Array): boolean {
  for (let i = bytes.length - 2; i >= Math.max(0, bytes.length - 16); i--) {
    if (bytes[i] === 0xff && bytes[i + 1] === 0xd9) return true;
  }
  return false;
}

/** PIXEL_DATA_CORRUPT for a JPEG-family stream without EOI. */
export function cutShort(codec: string): never {
  throw undecodable(codec, 'the codestream is cut short (no end-of-image marker)');
}
