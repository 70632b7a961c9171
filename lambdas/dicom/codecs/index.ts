// Registers a decoder for every compressed transfer syntax we render; each loads its package on first use only.
import { registerCodec, type FrameDecoder } from '../pixels.js';
import { TRANSFER_SYNTAX } from '../uids.js';

/** Transfer syntax UID -> codec name and loader: `import()` inside each loader keeps unused codecs unloaded. */
export const CODECS: Record<string, { name: string; load: () => Promise<FrameDecoder> }> = {
  [TRANSFER_SYNTAX.JPEGBaseline8Bit]: {
    name: 'libjpeg-turbo',
    load: async () => (await import('./libjpeg-turbo.js')).loadJpegBaseline(),
  },
  [TRANSFER_SYNTAX.JPEGExtended12Bit]: {
    name: 'libjpeg-turbo (8-bit) / 12-bit JPEG',
    load: async () => (await import('./jpeg-extended.js')).loadJpegExtended(),
  },
  [TRANSFER_SYNTAX.JPEGLossless]: {
    name: 'dcmjs-codecs (DCMTK/IJG)',
    load: async () => (await import('./jpeg-lossless.js')).loadJpegLossless(),
  },
  [TRANSFER_SYNTAX.JPEGLosslessSV1]: {
    name: 'dcmjs-codecs (DCMTK/IJG)',
    load: async () => (await import('./jpeg-lossless.js')).loadJpegLossless(),
  },
  [TRANSFER_SYNTAX.JPEGLSLossless]: { name: 'CharLS', load: async () => (await import('./charls.js')).loadJpegLs() },
  [TRANSFER_SYNTAX.JPEGLSNearLossless]: {
    name: 'CharLS',
    load: async () => (await import('./charls.js')).loadJpegLs(),
  },
  [TRANSFER_SYNTAX.JPEG2000Lossless]: { name: 'OpenJPEG', load: async () => (await import('./openjpeg.js')).loadJ2k() },
  [TRANSFER_SYNTAX.JPEG2000]: { name: 'OpenJPEG', load: async () => (await import('./openjpeg.js')).loadJ2k() },
  [TRANSFER_SYNTAX.HTJ2KLossless]: { name: 'OpenJPH', load: async () => (await import('./openjph.js')).loadHtj2k() },
  [TRANSFER_SYNTAX.HTJ2KLosslessRPCL]: {
    name: 'OpenJPH',
    load: async () => (await import('./openjph.js')).loadHtj2k(),
  },
  [TRANSFER_SYNTAX.HTJ2K]: { name: 'OpenJPH', load: async () => (await import('./openjph.js')).loadHtj2k() },
};

for (const [uid, codec] of Object.entries(CODECS)) registerCodec(uid, codec);
