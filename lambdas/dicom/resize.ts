// Downscales a rendered image by area averaging (a box filter with exact pixel coverage), never upscaling.
import type { RenderedImage } from './render.js';

export interface Size {
  readonly width: number;
  readonly height: number;
}

/** The largest size that fits in the box with the image's aspect ratio; the image's own size when it already fits. */
export function fitWithin(image: Size, box: Size): Size {
  if (image.width <= box.width && image.height <= box.height) return { width: image.width, height: image.height };
  const scale = Math.min(box.width / image.width, box.height / image.height);
  return {
    width: Math.min(box.width, Math.max(1, Math.round(image.width * scale))),
    height: Math.min(box.height, Math.max(1, Math.round(image.height * scale))),
  };
}

/** Per output index: the first source index it covers and the weight of each covered source index (summing to 1). */
interface Coverage {
  first: Int32Array;
  count: Int32Array;
  /** `count[o]` weights per output index, stored at `offset[o]`. */
  offset: Int32Array;
  weights: Float32Array;
}

/** Output pixel o covers source interval [o * ratio, (o + 1) * ratio); partly covered source pixels weigh their share. */
function coverage(source: number, target: number): Coverage {
  const ratio = source / target;
  const first = new Int32Array(target);
  const count = new Int32Array(target);
  const offset = new Int32Array(target);
  const weights: number[] = [];
  for (let o = 0; o < target; o++) {
    const start = o * ratio;
    const end = Math.min(source, (o + 1) * ratio);
    const from = Math.floor(start);
    const to = Math.min(source, Math.ceil(end));
    first[o] = from;
    count[o] = to - from;
    offset[o] = weights.length;
    for (let s = from; s < to; s++) weights.push((Math.min(end, s + 1) - Math.max(start, s)) / ratio);
  }
  return { first, count, offset, weights: Float32Array.from(weights) };
}

/**
 * The image at `target` size (which must not exceed it in either direction): each output pixel is the
 * average of the source area it covers, so fine detail (noise, a checkerboard) becomes its mean grey
 * instead of aliasing as nearest-neighbour sampling would. Two separable passes, O(source pixels).
 */
export function downscale(image: RenderedImage, target: Size): RenderedImage {
  const { width, height, channels, data } = image;
  if (target.width === width && target.height === height) return image;
  if (target.width > width || target.height > height || target.width < 1 || target.height < 1) {
    throw new Error(`cannot downscale ${width}x${height} to ${target.width}x${target.height}`);
  }
  const factor = width / target.width;
  if (Number.isInteger(factor) && factor === height / target.height) return downscaleByWholeFactor(image, factor);
  const across = coverage(width, target.width);
  const down = coverage(height, target.height);
  // Pass 1: each source row to target.width pixels.
  const rowStride = target.width * channels;
  const rows = new Float32Array(height * rowStride);
  for (let y = 0; y < height; y++) {
    const sourceRow = y * width * channels;
    const targetRow = y * rowStride;
    for (let o = 0; o < target.width; o++) {
      const first = across.first[o]!;
      const n = across.count[o]!;
      const w0 = across.offset[o]!;
      for (let c = 0; c < channels; c++) {
        let sum = 0;
        for (let k = 0; k < n; k++) sum += data[sourceRow + (first + k) * channels + c]! * across.weights[w0 + k]!;
        rows[targetRow + o * channels + c] = sum;
      }
    }
  }
  // Pass 2: columns of those rows to target.height.
  const out = new Uint8Array(target.height * rowStride);
  for (let o = 0; o < target.height; o++) {
    const first = down.first[o]!;
    const n = down.count[o]!;
    const w0 = down.offset[o]!;
    const targetRow = o * rowStride;
    for (let i = 0; i < rowStride; i++) {
      let sum = 0;
      for (let k = 0; k < n; k++) sum += rows[(first + k) * rowStride + i]! * down.weights[w0 + k]!;
      const v = Math.round(sum);
      out[targetRow + i] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  return { width: target.width, height: target.height, channels, data: out };
}

/**
 * The same area average when the image shrinks by a whole factor in both directions (a 512 x 512 CT to its 256 x 256
 * thumbnail): each output pixel is the rounded mean of a factor x factor block, in integers, about 2x faster than the
 * general two-pass filter (test/unit/resize.test.ts holds both to the same output).
 */
function downscaleByWholeFactor(image: RenderedImage, factor: number): RenderedImage {
  const { width, channels, data } = image;
  const outWidth = width / factor;
  const outHeight = image.height / factor;
  const area = factor * factor;
  const half = area >> 1;
  const rowStride = width * channels;
  const out = new Uint8Array(outWidth * outHeight * channels);
  const sums = new Uint32Array(outWidth * channels);
  for (let oy = 0; oy < outHeight; oy++) {
    sums.fill(0);
    for (let dy = 0; dy < factor; dy++) {
      const row = (oy * factor + dy) * rowStride;
      for (let ox = 0; ox < outWidth; ox++) {
        const block = row + ox * factor * channels;
        for (let c = 0; c < channels; c++) {
          let sum = 0;
          for (let dx = 0; dx < factor; dx++) sum += data[block + dx * channels + c]!;
          const at = ox * channels + c;
          sums[at] = sums[at]! + sum;
        }
      }
    }
    const target = oy * outWidth * channels;
    for (let i = 0; i < sums.length; i++) out[target + i] = Math.floor((sums[i]! + half) / area);
  }
  return { width: outWidth, height: outHeight, channels, data: out };
}
