// GET /dicom/{id}/png[?frame=&window=&max=|size=]: the processor's PNG or thumbnail, or a rendering made on demand and cached.
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { getStores, processingWaitMs } from '../commons.js';
import { DOWNLOAD_URL_SECONDS, KEYS, MAX_INLINE_PNG_BYTES } from '../config.js';
import { NoImage, UndecodablePixels } from '../dicom/errors.js';
import { NotFound } from '../http/errors.js';
import { httpHandler } from '../http/handler.js';
import { parsePngQuery, resolveRendering } from '../http/png-query.js';
import { processedRecord, stillProcessing } from '../http/processing-state.js';
import { fileId, header } from '../http/request.js';
import { binary, redirect } from '../http/responses.js';
import { awaitProcessed } from '../store/wait.js';

/** The processor's PNG: its ETag is the stored object's, so it changes exactly when a reprocess replaces it. */
function defaultPng(
  event: APIGatewayProxyEvent,
  png: { bytes: Uint8Array; etag: string },
  presign: () => Promise<string>,
): APIGatewayProxyResult | Promise<APIGatewayProxyResult> {
  const etag = `"png-${png.etag}"`;
  const caching = { ETag: etag, 'Cache-Control': 'private, max-age=86400' };
  if (notModified(event, etag)) return { statusCode: 304, headers: caching, body: '' };
  if (png.bytes.length > MAX_INLINE_PNG_BYTES) return presign().then(redirect);
  return binary(200, png.bytes, 'image/png', caching);
}

function notModified(event: APIGatewayProxyEvent, etag: string): boolean {
  return (
    header(event, 'if-none-match')
      ?.split(/\s*,\s*/)
      .includes(etag) ?? false
  );
}

export const handler = httpHandler('png', async (event) => {
  const id = fileId(event);
  const query = parsePngQuery(event); // a bad parameter is 400 before any waiting
  const { objects, records } = getStores();
  const presignDefault = () => objects.presignGet(KEYS.png(id), DOWNLOAD_URL_SECONDS);
  // The common read, the default PNG of a processed file, is one object GET; the record is read only when the
  // PNG is not there (still processing, failed, no image, gone) or the request names a frame, window or size.
  if (query.frame === undefined && !query.window && !query.box) {
    const stored = await objects.getTagged(KEYS.png(id));
    if (stored) return defaultPng(event, stored, presignDefault);
  }
  const found = await awaitProcessed(records, id, processingWaitMs());
  if (found.state === 'processing') return stillProcessing(id);
  const record = processedRecord(found);
  const image = record.image;
  if (!image || image.state === 'NO_IMAGE') throw new NoImage();
  if (image.state === 'UNRENDERABLE') throw new UndecodablePixels(image.reason);
  const frames = record.number_of_frames ?? 1;
  const rendering = resolveRendering(id, query, { width: image.width, height: image.height, frames });
  if (rendering.source === 'default') {
    if (image.png_bytes > MAX_INLINE_PNG_BYTES) return redirect(await presignDefault());
    const stored = await objects.getTagged(rendering.key);
    if (!stored) throw new NotFound('no DICOM file with this id', 'FILE_NOT_FOUND');
    return defaultPng(event, stored, presignDefault);
  }
  // Other renderings change only when the file is reprocessed, which moves modified_at; each has its own ETag.
  const etag = `"${id}-${Date.parse(record.modified_at).toString(36)}-${rendering.name}"`;
  const caching = { ETag: etag, 'Cache-Control': 'private, max-age=86400' };
  if (notModified(event, etag)) return { statusCode: 304, headers: caching, body: '' };
  let png = await objects.get(rendering.key);
  // Not cached yet: render it. Imported here so that a cached read never loads the render pipeline.
  png ??= await (
    await import('../ingest/render-on-demand.js')
  ).renderAndCache({ objects, records }, id, rendering, record.object_version);
  if (png.length > MAX_INLINE_PNG_BYTES) {
    return redirect(await objects.presignGet(rendering.key, DOWNLOAD_URL_SECONDS));
  }
  return binary(200, png, 'image/png', caching);
});
