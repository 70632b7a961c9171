// JPEG Baseline (8-bit lossy, process 1) through the WASM build of libjpeg-turbo.
import type { CodecOutput, EncodedFrame, FrameDecoder } from '../pixels.js';
import { checkHeader, jpegFrameHeader } from './headers.js';
import { WasmModule, checkShape, copySamples, undecodable, using, wasmBinary } from './wasm.js';

const NAME = 'libjpeg-turbo (JPEG)';

export const libjpeg = new WasmModule(
  NAME,
  async (options) => (await import('@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs')).default(options),
  () => wasmBinary('@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasm', () => import('./libjpeg-turbo-wasm.js')),
);

/** Decodes one 8-bit JPEG frame; colour comes out as RGB whatever the codestream held. */
export async function decodeJpeg8(frame: EncodedFrame): Promise<CodecOutput> {
  const { bytes, layout } = frame;
  const header = jpegFrameHeader(bytes);
  checkHeader(NAME, header, layout);
  if (header && header.precision !== 8) throw undecodable(NAME, `${header.precision}-bit JPEG is not 8-bit`);
  return libjpeg.run((module) =>
    using(new module.JPEGDecoder(), (decoder) => {
      decoder.getEncodedBuffer(bytes.length).set(bytes);
      decoder.decode();
      const info = decoder.getFrameInfo();
      checkShape(NAME, { width: info.width, height: info.height, components: info.componentCount }, layout);
      const samples = copySamples(decoder.getDecodedBuffer(), 8, false);
      // libjpeg converts YCbCr to RGB (and upsamples 4:2:2) itself; saying so keeps render.ts from converting again.
      return layout.samplesPerPixel === 3 ? { samples, photometric: 'RGB' } : { samples };
    }),
  );
}

export async function loadJpegBaseline(): Promise<FrameDecoder> {
  await libjpeg.load();
  return decodeJpeg8;
}
