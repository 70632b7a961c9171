// JPEG Baseline (8-bit lossy, process 1) through the WASM build of libjpeg-turbo.
import type { CodecOutput, EncodedFrame, FrameDecoder } from '../pixels.js';
import { checkHeader, jpegFrameHeader } from './headers.js';
import { adobeSegment, jpegColourSpace, readJpegColourInfo, statedColourSpace } from './jpeg-colour.js';
import { WasmModule, checkShape, copySamples, undecodable, using, wasmBinary } from './wasm.js';

const NAME = 'libjpeg-turbo (JPEG)';

export const libjpeg = new WasmModule(
  NAME,
  async (options) => (await import('@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs')).default(options),
  () => wasmBinary('@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasm', () => import('./libjpeg-turbo-wasm.js')),
);

/**
 * Should libjpeg be told the stream is RGB? Its decoder (the package's JPEGDecoder: decode() takes no options) always
 * outputs RGB and, when the stream states nothing (no JFIF or Adobe segment, ids other than 'R','G','B'), guesses
 * YCbCr and converts. jpeg-colour.ts decides otherwise for some of those streams (an RGB label); for them an Adobe
 * segment with transform 0 is written before the stream's own segments, which libjpeg then follows: no conversion,
 * and subsampled components are still upsampled.
 */
function needsRgbMarker(bytes: Uint8Array, photometric: string): boolean {
  const info = readJpegColourInfo(bytes);
  if (!info || info.componentIds.length !== 3 || statedColourSpace(info)) return false;
  return jpegColourSpace(info, photometric) === 'RGB';
}

/** Decodes one 8-bit JPEG frame; colour comes out as RGB, converted from YCbCr when jpeg-colour.ts says so. */
export async function decodeJpeg8(frame: EncodedFrame): Promise<CodecOutput> {
  const { bytes, layout } = frame;
  const header = jpegFrameHeader(bytes);
  checkHeader(NAME, header, layout);
  if (header && header.precision !== 8) throw undecodable(NAME, `${header.precision}-bit JPEG is not 8-bit`);
  const marker =
    layout.samplesPerPixel === 3 && needsRgbMarker(bytes, layout.photometric) ? adobeSegment(0) : undefined;
  return libjpeg.run((module) =>
    using(new module.JPEGDecoder(), (decoder) => {
      if (marker) {
        // SOI, the Adobe segment, then the rest of the stream, written straight into the decoder's buffer.
        const encoded = decoder.getEncodedBuffer(bytes.length + marker.length);
        encoded.set(bytes.subarray(0, 2));
        encoded.set(marker, 2);
        encoded.set(bytes.subarray(2), 2 + marker.length);
      } else {
        decoder.getEncodedBuffer(bytes.length).set(bytes);
      }
      decoder.decode();
      const info = decoder.getFrameInfo();
      checkShape(NAME, { width: info.width, height: info.height, components: info.componentCount }, layout);
      const samples = copySamples(decoder.getDecodedBuffer(), 8, false);
      // libjpeg hands back RGB (converted from YCbCr, or as stored) and upsampled; saying so keeps render.ts from
      // converting again.
      return layout.samplesPerPixel === 3 ? { samples, photometric: 'RGB' } : { samples };
    }),
  );
}

export async function loadJpegBaseline(): Promise<FrameDecoder> {
  await libjpeg.load();
  return decodeJpeg8;
}
