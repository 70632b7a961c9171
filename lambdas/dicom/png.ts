// Encodes a rendered frame as an 8-bit greyscale or RGB PNG.
import { encode } from 'fast-png';
import type { RenderedImage } from './render.js';

/** PNG bytes for the image: colour type 0 (grey) for one channel, 2 (RGB) for three; no alpha. */
export function encodePng(image: RenderedImage): Uint8Array {
  const expected = image.width * image.height * image.channels;
  if (image.data.length !== expected) {
    // A mismatch is a bug in the renderer, not the client's file.
    throw new Error(
      `rendered image has ${image.data.length} bytes; ${image.width}x${image.height}x${image.channels} needs ${expected}`,
    );
  }
  return encode({ width: image.width, height: image.height, data: image.data, depth: 8, channels: image.channels });
}
