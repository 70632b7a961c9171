// High-Throughput JPEG 2000 through the WASM build of OpenJPH, with OpenJPEG for codestreams OpenJPH refuses.
import { UndecodablePixels } from '../errors.js';
import type { CodecOutput, EncodedFrame, FrameDecoder } from '../pixels.js';
import { checkHeader, j2kSize } from './headers.js';
import { decodeJ2k, j2kPhotometric } from './openjpeg.js';
import { WasmModule, checkShape, copySamples, undecodable, using, wasmBinary } from './wasm.js';

const NAME = 'OpenJPH (HTJ2K)';

export const openjph = new WasmModule(
  NAME,
  async (options) => (await import('@cornerstonejs/codec-openjph/wasmjs')).default(options),
  () => wasmBinary('@cornerstonejs/codec-openjph/wasm', () => import('./openjph-wasm.js')),
);

export async function decodeHtj2kWithOpenJph(frame: EncodedFrame): Promise<CodecOutput> {
  const { bytes, layout } = frame;
  checkHeader(NAME, j2kSize(bytes), layout);
  return openjph.run((module) =>
    using(new module.HTJ2KDecoder(), (decoder) => {
      decoder.getEncodedBuffer(bytes.length).set(bytes);
      decoder.decode();
      const info = decoder.getFrameInfo();
      checkShape(NAME, { width: info.width, height: info.height, components: info.componentCount }, layout);
      const decoded = decoder.getDecodedBuffer();
      const expected = info.width * info.height * info.componentCount * (info.bitsPerSample > 8 ? 2 : 1);
      // OpenJPH reports a plain (non-HT) JPEG 2000 codestream by returning nothing at all.
      if (decoded.length !== expected) {
        const reason = decoder.getLastErrorMessage?.() || 'no samples decoded (not an HTJ2K codestream?)';
        throw undecodable(NAME, `${reason}; ${decoded.length} bytes decoded, ${expected} expected`);
      }
      const samples = copySamples(decoded, info.bitsPerSample, info.isSigned === true);
      const photometric = j2kPhotometric(layout.photometric);
      return photometric ? { samples, photometric } : { samples };
    }),
  );
}

/**
 * HTJ2K transfer syntaxes may carry Part 1 code-blocks too, which OpenJPH does not decode: OpenJPEG (which also
 * reads HT code-blocks, about 3x slower) gets a second try before the frame is declared undecodable.
 */
export async function decodeHtj2k(frame: EncodedFrame): Promise<CodecOutput> {
  try {
    return await decodeHtj2kWithOpenJph(frame);
  } catch (error) {
    if (!(error instanceof UndecodablePixels)) throw error;
    try {
      return await decodeJ2k(frame);
    } catch (fallback) {
      if (!(fallback instanceof UndecodablePixels)) throw fallback;
      throw new UndecodablePixels(`${error.message}; ${fallback.message}`, error.code);
    }
  }
}

export async function loadHtj2k(): Promise<FrameDecoder> {
  await openjph.load();
  return decodeHtj2k;
}
