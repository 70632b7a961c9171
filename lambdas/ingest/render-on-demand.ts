// On-demand renderings for GET /dicom/{id}/png: one frame read from the original, rendered, scaled and cached in S3.
import { logger, type Stores } from '../commons.js';
import { KEYS } from '../config.js';
import { readFrameForRendering, type ByteSource } from '../dicom/frame-source.js';
import { encodePng } from '../dicom/png.js';
import { renderFrameAsync, type RenderedImage } from '../dicom/render.js';
import { downscale, fitWithin } from '../dicom/resize.js';
import { NotFound } from '../http/errors.js';
import type { Rendering } from '../http/png-query.js';
import type { ObjectStore } from '../store/objects.js';

function notFound(): NotFound {
  return new NotFound('no DICOM file with this id', 'FILE_NOT_FOUND');
}

/** The stored original (the version the record names, when known) as ranged GETs; gone (deleted meanwhile) reads as 404. */
export function originalSource(objects: ObjectStore, id: string, versionId?: string): ByteSource {
  return {
    async read(start, end) {
      const range = await objects.getRange(KEYS.upload(id), start, end, versionId);
      if (!range) throw notFound();
      return range;
    },
  };
}

/**
 * One rendering as an image (8-bit grey or RGB). Reads only the header and the one frame where the layout allows
 * (lambdas/dicom/frame-source.ts), so memory is about one frame.
 */
export async function renderImage(
  objects: ObjectStore,
  id: string,
  rendering: Rendering,
  versionId?: string,
): Promise<{ image: RenderedImage; bytesRead: number }> {
  const frame = await readFrameForRendering(originalSource(objects, id, versionId), rendering.frameIndex);
  const image = await renderFrameAsync(frame.parsed, rendering.frameIndex, {
    ...(rendering.window ? { window: rendering.window } : {}),
    ...(frame.storedFrame ? { storedFrame: frame.storedFrame } : {}),
  });
  return { image: downscale(image, fitWithin(image, rendering.size)), bytesRead: frame.bytesRead };
}

/** Renders `rendering` from the original, stores it at its key and returns the PNG: a repeat request is one S3 GET. */
export async function renderAndCache(
  { objects, records }: Stores,
  id: string,
  rendering: Rendering,
  versionId?: string,
): Promise<Uint8Array> {
  const started = performance.now();
  const { image, bytesRead } = await renderImage(objects, id, rendering, versionId);
  const png = encodePng(image);
  await objects.put(rendering.key, png, 'image/png');
  // DELETE removes the record, then lists derived/<id>/: a rendering stored after that listing is ours to remove.
  if (!(await records.get(id))) {
    await objects.delete([rendering.key]);
    throw notFound();
  }
  logger.info('rendered on demand', {
    id,
    rendering: rendering.name,
    bytesRead,
    pngBytes: png.length,
    ms: Math.round(performance.now() - started),
  });
  return png;
}
