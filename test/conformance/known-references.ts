// Public files on which a reference reader is wrong, or two of them disagree: which is right, and why. Keyed by
// the file's SHA-1 so a file is recognised in any corpus; `npm run test:conformance` and `test:corpus` read it.
import { createHash } from 'node:crypto';
import type { Reference } from './file-checks.js';

export interface KnownReference {
  /** Where the file is published, for the reader of this table. */
  file: string;
  /** Attribute values the reference JSON gets wrong, corrected. */
  corrections?: Partial<Reference>;
  /** Why the reference PNG is wrong: the image is not held to it (its MAD is still printed). */
  pngDeviation?: string;
  /** Why two reference decoders disagree and which one is right, where our answer does not depend on it. */
  decodersDisagree?: string;
}

const KNOWN_REFERENCES: Record<string, KnownReference> = {
  // pydicom 2.3.1 leaves the ISO 2022 IR 58 escape sequence in the GB2312 name (the corpus README says so).
  '5dd394362ba9a22bcbc4464f4b27ddf24b8134a1': {
    file: 'shared corpus charset-chinese-gb2312.dcm',
    corrections: { PatientName: 'Zhang^XiaoDong=张^小东' },
  },
  // The window the file asks for (centre 0.5, width 1) sits in its Shared Functional Groups (5200,9229); the
  // reference makers only look for a top-level window, so they min-max scale. We apply the file's window (as
  // LINEAR_EXACT: LINEAR's integer offsets would threshold a 0..1 map).
  '608ae445f686b24a69dbfd3417cda61b1abc8d32': {
    file: 'shared corpus pm-float32.dcm',
    pngDeviation: 'reference ignores the functional-group window',
  },
  // Four bytes of the codestream's SIZ marker were overwritten with a Sequence Delimiter, so it says the image is
  // 3722445056 x 1024. GDCM returns noise without an error (MAD 94 to the intact JPEG2000.dcm), Pillow refuses it
  // (a decompression bomb), dcmtk has no JPEG 2000 decoder: refusing the image (422) is right.
  '241d869809943ced2076726ba28557c430869558': {
    file: "pydicom's JPEG2000-embedded-sequence-delimiter.dcm",
    pngDeviation: 'corrupt SIZ marker: GDCM decodes noise, a 422 is right',
  },
  // Photometric Interpretation says RGB, but the stream is YCbCr 4:2:0 (component ids 1, 2, 3, the first sampled
  // 2x2, no JFIF or Adobe marker). GDCM, Pillow and dcmtk follow the label and show wrong colours (MAD 92.6 to the
  // uncompressed SC_rgb_rle.dcm, the same colour bars); converting from YCbCr gives MAD 2.6 to it. PS3.5 8.2.1
  // wants the Image Pixel attributes consistent with the compressed stream: the file is mislabelled.
  '799d81cefaab6d7fc1392d3e6180fdf50be1f44e': {
    file: "pydicom's SC_rgb_jpeg_lossy_gdcm.dcm",
    pngDeviation: 'YCbCr stream labelled RGB: the references keep YCbCr as RGB, converting it is right',
  },
  // 32-bit OW pixel data in explicit VR big endian. pydicom reads big-endian 32-bit values; dcm2pnm reads OW as
  // 16-bit words (PS3.5 7.3) and so swaps each value's halves (MAD 103). pydicom's own script wrote these bytes
  // (its test README, PR #714); read pydicom's way they equal the little-endian rtdose.dcm: pydicom's is the image.
  c06ae6cb175ffc10f554a012f5d67d0c247c7ad6: {
    file: "pydicom's rtdose_expb.dcm",
    decodersDisagree: 'dcm2pnm reads 32-bit big-endian OW as 16-bit words; pydicom matches the little-endian twin',
  },
  '7e54237bfdbe4ee5d595c16e3fdeac47d2b619c6': {
    file: "pydicom's rtdose_expb_1frame.dcm",
    decodersDisagree: 'dcm2pnm reads 32-bit big-endian OW as 16-bit words; pydicom matches the little-endian twin',
  },
};

export function knownReference(bytes: Uint8Array): KnownReference | undefined {
  return KNOWN_REFERENCES[createHash('sha1').update(bytes).digest('hex')];
}
