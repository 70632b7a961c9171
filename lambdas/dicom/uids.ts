// Transfer syntax UIDs named once, by their PS3.6 Table A-1 keywords, and the one table of the transfer syntaxes
// the service knows: what to call each, whether its pixel data is native, and what media type its frames have.

export const TRANSFER_SYNTAX = {
  ImplicitVRLittleEndian: '1.2.840.10008.1.2',
  ExplicitVRLittleEndian: '1.2.840.10008.1.2.1',
  EncapsulatedUncompressedExplicitVRLittleEndian: '1.2.840.10008.1.2.1.98',
  DeflatedExplicitVRLittleEndian: '1.2.840.10008.1.2.1.99',
  ExplicitVRBigEndian: '1.2.840.10008.1.2.2',
  JPEGBaseline8Bit: '1.2.840.10008.1.2.4.50',
  JPEGExtended12Bit: '1.2.840.10008.1.2.4.51',
  JPEGLossless: '1.2.840.10008.1.2.4.57',
  JPEGLosslessSV1: '1.2.840.10008.1.2.4.70',
  JPEGLSLossless: '1.2.840.10008.1.2.4.80',
  JPEGLSNearLossless: '1.2.840.10008.1.2.4.81',
  JPEG2000Lossless: '1.2.840.10008.1.2.4.90',
  JPEG2000: '1.2.840.10008.1.2.4.91',
  JPEG2000MCLossless: '1.2.840.10008.1.2.4.92',
  JPEG2000MC: '1.2.840.10008.1.2.4.93',
  JPIPReferenced: '1.2.840.10008.1.2.4.94',
  JPIPReferencedDeflate: '1.2.840.10008.1.2.4.95',
  MPEG2MPML: '1.2.840.10008.1.2.4.100',
  MPEG2MPHL: '1.2.840.10008.1.2.4.101',
  MPEG4HP41: '1.2.840.10008.1.2.4.102',
  MPEG4HP41BD: '1.2.840.10008.1.2.4.103',
  MPEG4HP422D: '1.2.840.10008.1.2.4.104',
  MPEG4HP423D: '1.2.840.10008.1.2.4.105',
  MPEG4HP42STEREO: '1.2.840.10008.1.2.4.106',
  HEVCMP51: '1.2.840.10008.1.2.4.107',
  HEVCM10P51: '1.2.840.10008.1.2.4.108',
  JPEGXLLossless: '1.2.840.10008.1.2.4.110',
  JPEGXLJPEGRecompression: '1.2.840.10008.1.2.4.111',
  JPEGXL: '1.2.840.10008.1.2.4.112',
  HTJ2KLossless: '1.2.840.10008.1.2.4.201',
  HTJ2KLosslessRPCL: '1.2.840.10008.1.2.4.202',
  HTJ2K: '1.2.840.10008.1.2.4.203',
  RLELossless: '1.2.840.10008.1.2.5',
} as const;

export interface TransferSyntaxFacts {
  /** As PS3.6 names it, for messages: "JPEG Baseline". */
  readonly name: string;
  /** Native (not encapsulated) pixel data, read in place (deflate wraps the whole dataset, not the pixels). */
  readonly native?: true;
  /** The media type of one frame as stored (PS3.18 Table 8.7.3-2); absent: application/octet-stream. */
  readonly frameMediaType?: string;
}

const TS = TRANSFER_SYNTAX;

/** Every transfer syntax the service knows by name (which it decodes: the codec registry in pixels.ts). */
export const TRANSFER_SYNTAXES: ReadonlyMap<string, TransferSyntaxFacts> = new Map(
  Object.entries({
    [TS.ImplicitVRLittleEndian]: { name: 'Implicit VR Little Endian', native: true },
    [TS.ExplicitVRLittleEndian]: { name: 'Explicit VR Little Endian', native: true },
    [TS.EncapsulatedUncompressedExplicitVRLittleEndian]: {
      name: 'Encapsulated Uncompressed Explicit VR Little Endian',
    },
    [TS.DeflatedExplicitVRLittleEndian]: { name: 'Deflated Explicit VR Little Endian', native: true },
    [TS.ExplicitVRBigEndian]: { name: 'Explicit VR Big Endian', native: true },
    [TS.JPEGBaseline8Bit]: { name: 'JPEG Baseline', frameMediaType: 'image/jpeg' },
    [TS.JPEGExtended12Bit]: { name: 'JPEG Extended (12-bit)', frameMediaType: 'image/jpeg' },
    [TS.JPEGLossless]: { name: 'JPEG Lossless', frameMediaType: 'image/jpeg' },
    [TS.JPEGLosslessSV1]: { name: 'JPEG Lossless SV1', frameMediaType: 'image/jpeg' },
    [TS.JPEGLSLossless]: { name: 'JPEG-LS Lossless', frameMediaType: 'image/jls' },
    [TS.JPEGLSNearLossless]: { name: 'JPEG-LS Near-Lossless', frameMediaType: 'image/jls' },
    [TS.JPEG2000Lossless]: { name: 'JPEG 2000 Lossless', frameMediaType: 'image/jp2' },
    [TS.JPEG2000]: { name: 'JPEG 2000', frameMediaType: 'image/jp2' },
    [TS.JPEG2000MCLossless]: { name: 'JPEG 2000 Part 2 Multi-component Lossless', frameMediaType: 'image/jpx' },
    [TS.JPEG2000MC]: { name: 'JPEG 2000 Part 2 Multi-component', frameMediaType: 'image/jpx' },
    [TS.JPIPReferenced]: { name: 'JPIP Referenced' },
    [TS.JPIPReferencedDeflate]: { name: 'JPIP Referenced Deflate' },
    [TS.MPEG2MPML]: { name: 'MPEG2 Main Profile' },
    [TS.MPEG2MPHL]: { name: 'MPEG2 High Profile' },
    [TS.MPEG4HP41]: { name: 'MPEG-4 AVC/H.264 High Profile' },
    [TS.MPEG4HP41BD]: { name: 'MPEG-4 AVC/H.264 BD-compatible High Profile' },
    [TS.MPEG4HP422D]: { name: 'MPEG-4 AVC/H.264 High Profile For 2D Video' },
    [TS.MPEG4HP423D]: { name: 'MPEG-4 AVC/H.264 High Profile For 3D Video' },
    [TS.MPEG4HP42STEREO]: { name: 'MPEG-4 AVC/H.264 Stereo High Profile' },
    [TS.HEVCMP51]: { name: 'HEVC/H.265 Main Profile' },
    [TS.HEVCM10P51]: { name: 'HEVC/H.265 Main 10 Profile' },
    [TS.JPEGXLLossless]: { name: 'JPEG XL Lossless' },
    [TS.JPEGXLJPEGRecompression]: { name: 'JPEG XL JPEG Recompression' },
    [TS.JPEGXL]: { name: 'JPEG XL' },
    [TS.HTJ2KLossless]: { name: 'High-Throughput JPEG 2000 Lossless', frameMediaType: 'image/jphc' },
    [TS.HTJ2KLosslessRPCL]: {
      name: 'High-Throughput JPEG 2000 with RPCL Options Lossless',
      frameMediaType: 'image/jphc',
    },
    [TS.HTJ2K]: { name: 'High-Throughput JPEG 2000', frameMediaType: 'image/jphc' },
    [TS.RLELossless]: { name: 'RLE Lossless' },
  }),
);
