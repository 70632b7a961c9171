// JPEG encoding of a rendered image (DICOMweb rendered resources default to image/jpeg), with jpeg-js.
import jpeg from 'jpeg-js';
import type { RenderedImage } from './render.js';

/** Baseline JPEG bytes at `quality` (1-100); jpeg-js takes RGBA, so grey and RGB samples are expanded. */
export function encodeJpeg(image: RenderedImage, quality = 90): Uint8Array {
  const pixels = image.width * image.height;
  const rgba = new Uint8Array(pixels * 4);
  for (let i = 0; i < pixels; i++) {
    const o = i * 4;
    if (image.channels === 1) {
      const v = image.data[i]!;
      rgba[o] = v;
      rgba[o + 1] = v;
      rgba[o + 2] = v;
    } else {
      rgba[o] = image.data[i * 3]!;
      rgba[o + 1] = image.data[i * 3 + 1]!;
      rgba[o + 2] = image.data[i * 3 + 2]!;
    }
    rgba[o + 3] = 255;
  }
  const encoded = jpeg.encode({ data: rgba, width: image.width, height: image.height }, quality).data;
  return new Uint8Array(encoded.buffer, encoded.byteOffset, encoded.byteLength);
}
