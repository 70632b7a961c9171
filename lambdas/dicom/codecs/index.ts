// Registers a decoder for every compressed transfer syntax we render; each loads its package on first use only.
import { registerCodec, type FrameDecoder } from '../pixels.js';

/** Transfer syntax UID -> codec name and loader: `import()` inside each loader keeps unused codecs unloaded. */
export const CODECS: Record<string, { name: string; load: () => Promise<FrameDecoder> }> = {
  '1.2.840.10008.1.2.4.50': {
    name: 'libjpeg-turbo',
    load: async () => (await import('./libjpeg-turbo.js')).loadJpegBaseline(),
  },
  '1.2.840.10008.1.2.4.51': {
    name: 'libjpeg-turbo (8-bit) / 12-bit JPEG',
    load: async () => (await import('./jpeg-extended.js')).loadJpegExtended(),
  },
  '1.2.840.10008.1.2.4.57': {
    name: 'jpeg-lossless-decoder-js',
    load: async () => (await import('./jpeg-lossless.js')).loadJpegLossless(),
  },
  '1.2.840.10008.1.2.4.70': {
    name: 'jpeg-lossless-decoder-js',
    load: async () => (await import('./jpeg-lossless.js')).loadJpegLossless(),
  },
  '1.2.840.10008.1.2.4.80': { name: 'CharLS', load: async () => (await import('./charls.js')).loadJpegLs() },
  '1.2.840.10008.1.2.4.81': { name: 'CharLS', load: async () => (await import('./charls.js')).loadJpegLs() },
  '1.2.840.10008.1.2.4.90': { name: 'OpenJPEG', load: async () => (await import('./openjpeg.js')).loadJ2k() },
  '1.2.840.10008.1.2.4.91': { name: 'OpenJPEG', load: async () => (await import('./openjpeg.js')).loadJ2k() },
  '1.2.840.10008.1.2.4.201': { name: 'OpenJPH', load: async () => (await import('./openjph.js')).loadHtj2k() },
  '1.2.840.10008.1.2.4.202': { name: 'OpenJPH', load: async () => (await import('./openjph.js')).loadHtj2k() },
  '1.2.840.10008.1.2.4.203': { name: 'OpenJPH', load: async () => (await import('./openjph.js')).loadHtj2k() },
};

for (const [uid, codec] of Object.entries(CODECS)) registerCodec(uid, codec);
