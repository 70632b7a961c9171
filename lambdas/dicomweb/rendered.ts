// WADO-RS rendered and thumbnail resources (PS3.18 10.4.1.1.3, 10.4.1.1.6, 8.3.5): query, media type, one image out.
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { KEYS, MAX_RENDER_PIXELS, THUMBNAIL_MAX_PIXELS } from '../config.js';
import { FrameOutOfRange, NoImage, UndecodablePixels } from '../dicom/errors.js';
import { encodeJpeg } from '../dicom/jpeg.js';
import type { WindowOverride } from '../dicom/render.js';
import type { Size } from '../dicom/resize.js';
import { TAG_HEX } from '../dicom/tags.js';
import { InvalidParameter, NotFound } from '../http/errors.js';
import { parseWindow, resolveRendering, type Rendering } from '../http/png-query.js';
import { renderAndCache, renderImage } from '../ingest/render-on-demand.js';
import type { ObjectStore } from '../store/objects.js';
import type { FileRecord, RecordStore } from '../store/records.js';
import { acceptedRanges, admits, NotAcceptable } from './http.js';

export type RenderedType = 'image/jpeg' | 'image/png';

export interface RenderedQuery {
  window?: WindowOverride;
  viewport?: Size;
  /** JPEG quality 1-100 (PS3.18 8.3.5.1.2). */
  quality: number;
  warnings: string[];
}

const DEFAULT_QUALITY = 90;

/**
 * Parses window, viewport, quality (and accepts annotation/iccprofile/charset with a Warning: we burn in nothing).
 * Which names a resource takes, once each, is the route table's, checked by the handler wrapper (a thumbnail takes
 * viewport and quality).
 */
export function parseRenderedQuery(event: APIGatewayProxyEvent, thumbnail: boolean): RenderedQuery {
  const query: RenderedQuery = { quality: DEFAULT_QUALITY, warnings: [] };
  for (const [name, value = ''] of Object.entries(event.queryStringParameters ?? {})) {
    if (name === 'viewport') {
      const parts = value.split(',').map((part) => part.trim());
      const [width, height] = parts.map(Number);
      if (parts.length === 6) {
        throw new InvalidParameter('viewport', 'viewport cropping (sx,sy,sw,sh) is not supported; give vw,vh');
      }
      if (
        parts.length !== 2 ||
        !(width! >= 1 && width! <= MAX_RENDER_PIXELS && height! >= 1 && height! <= MAX_RENDER_PIXELS) ||
        !parts.every((p) => /^\d+$/.test(p))
      ) {
        throw new InvalidParameter(
          'viewport',
          `viewport must be vw,vh: two whole numbers from 1 to ${MAX_RENDER_PIXELS}`,
        );
      }
      query.viewport = { width: width!, height: height! };
    } else if (name === 'window' && !thumbnail) {
      const parts = value.split(',');
      if (parts.length === 3 && parts[2]!.trim().toLowerCase() !== 'linear') {
        throw new InvalidParameter(
          'window',
          'window function must be linear (linear-exact and sigmoid are not supported)',
        );
      }
      query.window = parseWindow(parts.slice(0, 2).join(','));
    } else if (name === 'quality') {
      if (!/^\d{1,3}$/.test(value) || Number(value) < 1 || Number(value) > 100) {
        throw new InvalidParameter('quality', 'quality must be a whole number from 1 to 100');
      }
      query.quality = Number(value);
    } else if ((name === 'annotation' || name === 'iccprofile' || name === 'charset') && !thumbnail) {
      query.warnings.push(`299 dicom-api: the ${name} parameter is not supported and was ignored`);
    }
  }
  return query;
}

/** image/jpeg unless the client prefers PNG (PS3.18 makes JPEG the default for single images). */
export function renderedType(event: APIGatewayProxyEvent): RenderedType {
  for (const range of acceptedRanges(event)) {
    // A series' or study's images come as multipart/related with the image type as its `type` parameter.
    const wanted = range.type === 'multipart/related' ? (range.params.type ?? 'image/jpeg').toLowerCase() : range.type;
    if (wanted === 'image/png') return 'image/png';
    if (wanted === 'image/jpeg') return 'image/jpeg';
    if (admits(range, 'image/jpeg')) return 'image/jpeg';
    if (admits(range, 'image/png')) return 'image/png';
  }
  throw new NotAcceptable('rendered images are image/jpeg or image/png; the Accept header allows neither');
}

/** The image of a file (frame 1-based), as the processor's summary describes it; 404/422 when there is none. */
export function imageFacts(record: FileRecord): { width: number; height: number; frames: number } {
  const image = record.image;
  if (!image || image.state === 'NO_IMAGE') throw new NoImage();
  if (image.state === 'UNRENDERABLE') throw new UndecodablePixels(image.reason);
  return { width: image.width, height: image.height, frames: record.number_of_frames ?? 1 };
}

/**
 * One rendering of a file as JPEG or PNG. PNGs come from the processor's image or thumbnail, or the png route's
 * cache; JPEGs are cached beside them under their own name.
 */
export async function renderedBytes(
  stores: { objects: ObjectStore; records: RecordStore },
  record: FileRecord,
  frame: number,
  query: RenderedQuery,
  type: RenderedType,
  thumbnail: boolean,
): Promise<Uint8Array> {
  const box = query.viewport ?? (thumbnail ? { width: THUMBNAIL_MAX_PIXELS, height: THUMBNAIL_MAX_PIXELS } : undefined);
  const facts = imageFacts(record);
  // A frame URL past the last frame names no resource: 404 as .../frames/{n} answers (not the png route's 400 `frame`).
  if (frame > facts.frames)
    throw new FrameOutOfRange(`this instance has ${facts.frames} frame(s); there is no frame ${frame}`);
  const rendering: Rendering = resolveRendering(
    record.id,
    { frame, ...(query.window ? { window: query.window } : {}), ...(box ? { box } : {}) },
    facts,
  );
  if (type === 'image/png') {
    return (
      (await stores.objects.get(rendering.key)) ??
      (await renderAndCache(stores, record.id, rendering, record.object_version))
    );
  }
  const key = KEYS.rendering(record.id, `${rendering.name}_q${query.quality}`).replace(/\.png$/, '.jpg');
  const cached = await stores.objects.get(key);
  if (cached) return cached;
  const { image } = await renderImage(stores.objects, record.id, rendering, record.object_version);
  const jpeg = encodeJpeg(image, query.quality);
  await stores.objects.put(key, jpeg, 'image/jpeg');
  // A DELETE lists derived/<id>/ after removing the record: a rendering stored after that listing is ours to remove.
  if (!(await stores.records.get(record.id))) {
    await stores.objects.delete([key]);
    throw new NotFound('the instance was deleted meanwhile', 'INSTANCE_NOT_FOUND');
  }
  return jpeg;
}

/** The InstanceNumber a record's QIDO attributes hold (for picking a series' representative image). */
function instanceNumber(record: FileRecord): number {
  try {
    const levels = JSON.parse(record.dicomweb ?? '{}') as { instance?: Record<string, { Value?: unknown[] }> };
    const value = levels.instance?.[TAG_HEX.InstanceNumber]?.Value?.[0];
    return typeof value === 'number' ? value : Number.MAX_SAFE_INTEGER;
  } catch {
    return Number.MAX_SAFE_INTEGER;
  }
}

/** The instances that render, in InstanceNumber order (what a series' or study's rendered resource shows). */
export function renderable(instances: FileRecord[]): FileRecord[] {
  return instances
    .filter((record) => record.image?.state === 'RENDERED')
    .sort((a, b) => instanceNumber(a) - instanceNumber(b));
}

/** The image that stands for a series: the middle one by InstanceNumber among those that render (as viewers show). */
export function representative(instances: FileRecord[]): FileRecord | undefined {
  const images = renderable(instances);
  return images[Math.floor((images.length - 1) / 2)];
}
