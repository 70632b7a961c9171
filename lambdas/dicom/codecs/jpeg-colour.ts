// Is a three-component DCT JPEG stream YCbCr (to be converted to RGB) or RGB stored as it is? Decided once, here,
// for every JPEG decoder (libjpeg-turbo for 8-bit, jpeg-dct.ts for 12-bit), from the stream's markers and the
// file's Photometric Interpretation.

/** What a JPEG stream says about its colour, read from its segments up to the first scan. */
export interface JpegColourInfo {
  /** An APP0 "JFIF" segment (JFIF streams are YCbCr or greyscale by definition). */
  jfif: boolean;
  /** The transform flag of an APP14 "Adobe" segment: 0 none (e.g. RGB), 1 YCbCr; undefined without one. */
  adobeTransform?: number;
  /** Component identifiers of the frame header, in order. */
  componentIds: number[];
  /** Does any component have smaller sampling factors than another (e.g. 4:2:0 or 4:2:2 chroma)? */
  subsampled: boolean;
}

export type JpegColourSpace = 'YCbCr' | 'RGB';

function startsWithAscii(segment: Uint8Array, text: string): boolean {
  if (segment.length < text.length) return false;
  for (let i = 0; i < text.length; i++) if (segment[i] !== text.charCodeAt(i)) return false;
  return true;
}

/** True for the start-of-frame markers (SOF0..SOF15 but DHT, JPG and DAC). */
function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

/**
 * Reads JFIF, Adobe and the frame header's components from a JPEG stream's segments before its first scan (where
 * libjpeg reads them too). Undefined when the bytes are not a JPEG stream or no frame header precedes the scan.
 */
export function readJpegColourInfo(bytes: Uint8Array): JpegColourInfo | undefined {
  if (bytes[0] !== 0xff || bytes[1] !== 0xd8) return undefined;
  let jfif = false;
  let adobeTransform: number | undefined;
  let frame: { componentIds: number[]; subsampled: boolean } | undefined;
  let i = 2;
  while (i + 3 < bytes.length) {
    if (bytes[i] !== 0xff) return undefined;
    const marker = bytes[i + 1]!;
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    if (marker === 0xda || marker === 0xd9) break; // the first scan (or the end): every colour marker is read
    const length = (bytes[i + 2]! << 8) | bytes[i + 3]!;
    if (length < 2) return undefined;
    const segment = bytes.subarray(i + 4, Math.min(bytes.length, i + 2 + length));
    if (marker === 0xe0 && segment.length >= 14 && startsWithAscii(segment, 'JFIF\0')) jfif = true;
    else if (marker === 0xee && segment.length >= 12 && startsWithAscii(segment, 'Adobe')) adobeTransform = segment[11];
    else if (isStartOfFrame(marker) && !frame && segment.length >= 6) {
      const count = segment[5]!;
      const componentIds: number[] = [];
      const factors: number[] = [];
      for (let c = 0; c < count && 8 + 3 * c < segment.length; c++) {
        componentIds.push(segment[6 + 3 * c]!);
        factors.push(segment[7 + 3 * c]!); // H << 4 | V
      }
      frame = { componentIds, subsampled: factors.some((f) => f !== factors[0]) };
    }
    i += 2 + length;
  }
  return frame ? { jfif, adobeTransform, ...frame } : undefined;
}

/**
 * What the stream states on its own, as libjpeg reads it (jdapimin.c default_decompress_parms): a JFIF segment means
 * YCbCr; an Adobe segment's transform flag decides (0 RGB, anything else YCbCr); component ids 'R','G','B' mean RGB.
 * Undefined when it states nothing: libjpeg then guesses YCbCr.
 */
export function statedColourSpace(info: JpegColourInfo): JpegColourSpace | undefined {
  if (info.jfif) return 'YCbCr';
  if (info.adobeTransform !== undefined) return info.adobeTransform === 0 ? 'RGB' : 'YCbCr';
  const [a, b, c] = info.componentIds;
  if (a === 0x52 && b === 0x47 && c === 0x42) return 'RGB';
  return undefined;
}

/**
 * The colour space of a three-component stream:
 * 1. what the stream states (JFIF, Adobe APP14, ids 'R','G','B': see statedColourSpace);
 * 2. else a subsampled stream with component ids 1, 2, 3 is YCbCr whatever the file says: the JFIF convention, and
 *    nobody subsamples RGB (pydicom's SC_rgb_jpeg_lossy_gdcm.dcm is such a stream labelled RGB);
 * 3. else the Photometric Interpretation: RGB means the components are stored as they are (pydicom's
 *    SC_jpeg_no_color_transform.dcm: ids 0, 1, 2, no marker, RGB; GDCM, dcmtk and Pillow all leave it unconverted),
 *    YBR_* (or anything else) means YCbCr, libjpeg's own guess.
 */
export function jpegColourSpace(info: JpegColourInfo, photometric: string): JpegColourSpace {
  const stated = statedColourSpace(info);
  if (stated) return stated;
  const [a, b, c] = info.componentIds;
  if (info.subsampled && a === 1 && b === 2 && c === 3) return 'YCbCr';
  return photometric === 'RGB' ? 'RGB' : 'YCbCr';
}

/** An APP14 "Adobe" segment (version 100, no flags) with the given transform flag: 0 none, 1 YCbCr. */
export function adobeSegment(transform: 0 | 1): Uint8Array {
  // FF EE, length 14, "Adobe", version 100, flags0 0, flags1 0, transform.
  return new Uint8Array([0xff, 0xee, 0, 14, 0x41, 0x64, 0x6f, 0x62, 0x65, 0, 100, 0, 0, 0, 0, transform]);
}
