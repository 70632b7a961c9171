// JPEG-LS lossless and near-lossless through the WASM build of CharLS.
import type { CodecOutput, EncodedFrame, FrameDecoder, SampleArray } from '../pixels.js';
import { checkHeader, cutShort, endsWithEoi, jpegFrameHeader } from './headers.js';
import { WasmModule, checkShape, copySamples, using, wasmBinary } from './wasm.js';

const NAME = 'CharLS (JPEG-LS)';

export const charls = new WasmModule(
  NAME,
  async (options) => (await import('@cornerstonejs/codec-charls/decodewasmjs')).default(options),
  () => wasmBinary('@cornerstonejs/codec-charls/decodewasm', () => import('./charls-wasm.js')),
  (module, pointer) => module.getExceptionMessage?.(pointer),
);

/** Interleave mode 0 stores each component as a whole plane: turn that into colour-by-pixel. */
function interleave(planar: SampleArray, pixels: number, components: number): SampleArray {
  const out = planar.slice();
  for (let c = 0; c < components; c++) {
    for (let p = 0; p < pixels; p++) out[p * components + c] = planar[c * pixels + p]!;
  }
  return out;
}

export async function decodeJpegLs(frame: EncodedFrame): Promise<CodecOutput> {
  const { bytes, layout } = frame;
  checkHeader(NAME, jpegFrameHeader(bytes), layout);
  if (!endsWithEoi(bytes)) cutShort(NAME);
  return charls.run((module) =>
    using(new module.JpegLSDecoder(), (decoder) => {
      decoder.getEncodedBuffer(bytes.length).set(bytes);
      decoder.decode();
      const info = decoder.getFrameInfo();
      checkShape(NAME, { width: info.width, height: info.height, components: info.componentCount }, layout);
      // JPEG-LS codes the stored bit patterns; two's complement is restored from Pixel Representation later.
      const samples = copySamples(decoder.getDecodedBuffer(), info.bitsPerSample, false);
      if (info.componentCount > 1 && decoder.getInterleaveMode() === 0) {
        return { samples: interleave(samples, info.width * info.height, info.componentCount) };
      }
      return { samples };
    }),
  );
}

export async function loadJpegLs(): Promise<FrameDecoder> {
  await charls.load();
  return decodeJpegLs;
}
