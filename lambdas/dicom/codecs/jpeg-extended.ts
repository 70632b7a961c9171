// JPEG Extended (processes 2 and 4): 8-bit frames through libjpeg-turbo, 12-bit frames through jpeg-dct.ts.
import type { CodecOutput, EncodedFrame, FrameDecoder } from '../pixels.js';
import { checkHeader, jpegFrameHeader } from './headers.js';
import { jpegColourSpace, readJpegColourInfo } from './jpeg-colour.js';
import { decodeDctJpeg } from './jpeg-dct.js';
import { decodeJpeg8 } from './libjpeg-turbo.js';
import { checkShape, undecodable } from './wasm.js';

const NAME = 'JPEG Extended';

export async function decodeJpegExtended(frame: EncodedFrame): Promise<CodecOutput> {
  const header = jpegFrameHeader(frame.bytes);
  // libjpeg-turbo is faster and upsamples subsampled colour; it has no 12-bit build.
  if (header?.precision === 8) return decodeJpeg8(frame);
  if (!header) throw undecodable(NAME, 'no JPEG frame header found');
  if (header.precision !== 12) throw undecodable(NAME, `${header.precision}-bit samples (8 or 12 expected)`);
  checkHeader(NAME, header, frame.layout);
  const image = decodeDctJpeg(frame.bytes);
  checkShape(NAME, { width: image.width, height: image.height, components: image.components }, frame.layout);
  if (image.components !== 3) return { samples: image.samples };
  // jpeg-dct.ts returns the components as stored; the same rule as the 8-bit path (jpeg-colour.ts) says whether they
  // are YCbCr, whatever Photometric Interpretation says (an RGB stream labelled YBR_FULL_422 is not converted).
  const info = readJpegColourInfo(frame.bytes);
  const colour = info ? jpegColourSpace(info, frame.layout.photometric) : 'YCbCr';
  return { samples: image.samples, photometric: colour === 'RGB' ? 'RGB' : 'YBR_FULL' };
}

export async function loadJpegExtended(): Promise<FrameDecoder> {
  return decodeJpegExtended;
}
