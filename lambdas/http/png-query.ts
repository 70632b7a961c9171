// The query of GET /dicom/{id}/png (frame, window, max, size): validated, then normalised to one rendering and its S3 key.
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { KEYS, MAX_RENDER_PIXELS, THUMBNAIL_MAX_PIXELS } from '../config.js';
import type { WindowOverride } from '../dicom/render.js';
import { fitWithin, type Size } from '../dicom/resize.js';
import { InvalidParameter } from './errors.js';
import { checkQuery, routesOf } from './query.js';

/** The png route's declared query (lambdas/routes.ts). */
const PNG_ROUTE = routesOf('png')[0]!;

/** What the client asked for, each value valid on its own (the frame is checked against the file later). */
export interface PngQuery {
  /** 1-based, as in the URL. */
  readonly frame?: number;
  readonly window?: WindowOverride;
  /** The box the image is scaled down to fit (`max=N` is N x N). */
  readonly box?: Size;
}

/** One rendering, normalised: every request that yields the same image yields the same name and key. */
export interface Rendering {
  readonly frameIndex: number;
  readonly window?: WindowOverride;
  /** The PNG's size: the image's, or smaller with the same aspect ratio (never larger). */
  readonly size: Size;
  /** e.g. `f50_voi_512x512` or `f1_c-600w1500_256x256`: part of the cache key and of the ETag. */
  readonly name: string;
  /** The processor's precomputed PNG or thumbnail, or an on-demand rendering cached by the png Lambda. */
  readonly source: 'default' | 'thumbnail' | 'on-demand';
  readonly key: string;
}

/** What the file record tells about the image (the processor's summary). */
export interface ImageFacts {
  readonly width: number;
  readonly height: number;
  readonly frames: number;
}

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
/** Window values beyond this are not a window of any real image; the bound keeps names short and '+'-free. */
const MAX_WINDOW_VALUE = 1e9;

function wholeNumber(name: string, text: string, max: number, what: string): number {
  const value = /^\d{1,9}$/.test(text.trim()) ? Number(text.trim()) : NaN;
  if (!(value >= 1 && value <= max)) throw new InvalidParameter(name, `${name} must be ${what}`);
  return value;
}

export function parseWindow(text: string): WindowOverride {
  const bad = new InvalidParameter(
    'window',
    `window must be center,width: two numbers, the width above 0, each within ±${MAX_WINDOW_VALUE} (e.g. window=40,400)`,
  );
  const parts = text.split(',').map((part) => part.trim());
  if (parts.length !== 2 || !parts.every((part) => NUMBER.test(part))) throw bad;
  const [center, width] = parts.map(Number) as [number, number];
  if (!(Math.abs(center) <= MAX_WINDOW_VALUE && width > 0 && width <= MAX_WINDOW_VALUE)) throw bad;
  return { center: center + 0, width }; // + 0 turns -0 into 0, so both name the same rendering
}

function parseSize(text: string): Size {
  const match = /^\s*(\d{1,9})\s*[xX]\s*(\d{1,9})\s*$/.exec(text);
  const width = Number(match?.[1]);
  const height = Number(match?.[2]);
  if (!match || !(width >= 1 && width <= MAX_RENDER_PIXELS && height >= 1 && height <= MAX_RENDER_PIXELS)) {
    throw new InvalidParameter('size', `size must be WxH, each from 1 to ${MAX_RENDER_PIXELS} (e.g. size=512x256)`);
  }
  return { width, height };
}

/**
 * Validates the query string; 400 naming the parameter for a bad value, an unknown or a repeated parameter. Names and
 * value forms are checked against the route table's declaration (as the handler wrapper does, so this parser also
 * works on its own); ranges and combinations here.
 */
export function parsePngQuery(event: APIGatewayProxyEvent): PngQuery {
  checkQuery(PNG_ROUTE, event);
  const query: { frame?: number; window?: WindowOverride; box?: Size } = {};
  const given = Object.entries(event.queryStringParameters ?? {});
  for (const [name, value = ''] of given) {
    switch (name) {
      case 'frame':
        query.frame = wholeNumber(name, value, Number.MAX_SAFE_INTEGER, 'a whole number, 1 for the first frame');
        break;
      case 'window':
        query.window = parseWindow(value);
        break;
      case 'max': {
        const side = wholeNumber(name, value, MAX_RENDER_PIXELS, `a whole number from 1 to ${MAX_RENDER_PIXELS}`);
        query.box = { width: side, height: side };
        break;
      }
      case 'size':
        query.box = parseSize(value);
        break;
    }
  }
  if (given.some(([name]) => name === 'max') && given.some(([name]) => name === 'size')) {
    throw new InvalidParameter('size', 'give max or size, not both');
  }
  return query;
}

/** Normalises the query against the image: 400 for a frame it does not have. */
export function resolveRendering(id: string, query: PngQuery, image: ImageFacts): Rendering {
  const frame = query.frame ?? 1;
  if (frame > image.frames) {
    throw new InvalidParameter(
      'frame',
      `frame must be from 1 to ${image.frames}: this image has ${image.frames} frame${image.frames === 1 ? '' : 's'}`,
    );
  }
  const full = { width: image.width, height: image.height };
  const size = query.box ? fitWithin(full, query.box) : full;
  const window = query.window;
  const name = `f${frame}_${window ? `c${window.center}w${window.width}` : 'voi'}_${size.width}x${size.height}`;
  const base = { frameIndex: frame - 1, ...(window ? { window } : {}), size, name };
  const plain = frame === 1 && !window;
  if (plain && size.width === full.width && size.height === full.height) {
    return { ...base, source: 'default', key: KEYS.png(id) };
  }
  const thumbnail = fitWithin(full, { width: THUMBNAIL_MAX_PIXELS, height: THUMBNAIL_MAX_PIXELS });
  if (plain && size.width === thumbnail.width && size.height === thumbnail.height) {
    return { ...base, source: 'thumbnail', key: KEYS.thumbnail(id) };
  }
  return { ...base, source: 'on-demand', key: KEYS.rendering(id, name) };
}
