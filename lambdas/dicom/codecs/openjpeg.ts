// JPEG 2000 (lossless and lossy, and HTJ2K as a fallback) through the WASM build of OpenJPEG.
import type { CodecOutput, EncodedFrame, FrameDecoder } from '../pixels.js';
import { checkHeader, j2kSize } from './headers.js';
import { WasmModule, checkShape, copySamples, undecodable, using, wasmBinary } from './wasm.js';

const NAME = 'OpenJPEG (JPEG 2000)';

export const openjpeg = new WasmModule(
  NAME,
  async (options) => (await import('@cornerstonejs/codec-openjpeg/decodewasmjs')).default(options),
  () => wasmBinary('@cornerstonejs/codec-openjpeg/decodewasm', () => import('./openjpeg-wasm.js')),
);

/**
 * The colour space of decoded JPEG 2000 samples. YBR_RCT and YBR_ICT name the codestream's multiple component
 * transform, which the decoder inverts: the samples come out RGB (PS3.5 8.2.4).
 */
export function j2kPhotometric(photometric: string): string | undefined {
  return photometric === 'YBR_RCT' || photometric === 'YBR_ICT' ? 'RGB' : undefined;
}

export async function decodeJ2k(frame: EncodedFrame): Promise<CodecOutput> {
  const { bytes, layout } = frame;
  checkHeader(NAME, j2kSize(bytes), layout);
  return openjpeg.run((module, printed) =>
    using(new module.J2KDecoder(), (decoder) => {
      decoder.getEncodedBuffer(bytes.length).set(bytes);
      decoder.decode();
      const info = decoder.getFrameInfo();
      // OpenJPEG reports a codestream it cannot read on stderr and returns an empty image.
      if (info.width === 0 || info.height === 0) throw undecodable(NAME, printed() || 'no image decoded');
      checkShape(NAME, { width: info.width, height: info.height, components: info.componentCount }, layout);
      const samples = copySamples(decoder.getDecodedBuffer(), info.bitsPerSample, info.isSigned === true);
      const photometric = j2kPhotometric(layout.photometric);
      return photometric ? { samples, photometric } : { samples };
    }),
  );
}

export async function loadJ2k(): Promise<FrameDecoder> {
  await openjpeg.load();
  return decodeJ2k;
}
