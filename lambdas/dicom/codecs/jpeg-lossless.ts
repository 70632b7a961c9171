// JPEG Lossless (process 14, any predictor, and its SV1 subset) through jpeg-lossless-decoder-js.
import type { CodecOutput, EncodedFrame, FrameDecoder } from '../pixels.js';
import { checkHeader, jpegFrameHeader } from './headers.js';
import { checkShape, undecodable } from './wasm.js';

const NAME = 'jpeg-lossless-decoder-js (JPEG Lossless)';

type DecoderClass = typeof import('jpeg-lossless-decoder-js').Decoder;

let loading: Promise<DecoderClass> | undefined;

export function decodeJpegLosslessWith(Decoder: DecoderClass, frame: EncodedFrame): CodecOutput {
  const { bytes, layout } = frame;
  checkHeader(NAME, jpegFrameHeader(bytes), layout); // before the decoder allocates width x height samples
  const decoder = new Decoder();
  let samples: Uint8Array | Uint16Array;
  try {
    samples = decoder.decode(bytes.buffer, bytes.byteOffset, bytes.byteLength, layout.bitsAllocated > 8 ? 2 : 1);
  } catch (error) {
    throw undecodable(NAME, error instanceof Error ? error.message : String(error));
  }
  const { frame: header, stream } = decoder;
  // The decoder reads past the end of a cut-short stream as zeros and returns a partly invented image.
  if (stream && stream.index > stream.buffer.length) {
    throw undecodable(NAME, `the codestream ends early (${stream.buffer.length} bytes)`);
  }
  checkShape(NAME, { width: header.dimX, height: header.dimY, components: header.numComp }, layout);
  if (header.numComp > 1 && samples instanceof Uint16Array) {
    throw undecodable(NAME, `colour with ${header.precision}-bit samples is not supported`);
  }
  // Lossless JPEG codes the stored bit patterns; two's complement is restored from Pixel Representation later.
  return { samples };
}

export async function loadJpegLossless(): Promise<FrameDecoder> {
  loading ??= import('jpeg-lossless-decoder-js').then((m) => m.Decoder);
  const Decoder = await loading;
  return (frame) => decodeJpegLosslessWith(Decoder, frame);
}
