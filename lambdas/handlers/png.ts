// GET /dicom/{id}/png[?frame=&window=&max=|size=]: the processor's PNG or thumbnail, or a rendering made on demand and cached.
import { getStores, processingWaitMs } from '../commons.js';
import { MAX_INLINE_PNG_BYTES } from '../config.js';
import { NoImage, NotFound, UnprocessableImage } from '../http/errors.js';
import { httpHandler } from '../http/handler.js';
import { parsePngQuery, resolveRendering } from '../http/png-query.js';
import { fileId, header } from '../http/request.js';
import { binary, redirect } from '../http/responses.js';
import { awaitProcessed, requireProcessedOk } from '../store/wait.js';

const PRESIGNED_URL_SECONDS = 300;

export const handler = httpHandler('png', async (event) => {
  const id = fileId(event);
  const query = parsePngQuery(event); // a bad parameter is 400 before any waiting
  const { objects, records } = getStores();
  const record = requireProcessedOk(await awaitProcessed(records, id, processingWaitMs()));
  const image = record.image;
  if (!image || image.state === 'NO_IMAGE') throw new NoImage();
  if (image.state === 'UNRENDERABLE') throw new UnprocessableImage(image.reason);
  const frames = record.number_of_frames ?? 1;
  const rendering = resolveRendering(id, query, { width: image.width, height: image.height, frames });
  // The PNG of an id changes only when it is reprocessed, which moves modified_at; each rendering has its own.
  const version = `${id}-${Date.parse(record.modified_at).toString(36)}`;
  const etag = rendering.source === 'default' ? `"${version}"` : `"${version}-${rendering.name}"`;
  const caching = { ETag: etag, 'Cache-Control': 'private, max-age=86400' };
  if (
    header(event, 'if-none-match')
      ?.split(/\s*,\s*/)
      .includes(etag)
  ) {
    return { statusCode: 304, headers: caching, body: '' };
  }
  if (rendering.source === 'default' && image.png_bytes > MAX_INLINE_PNG_BYTES) {
    return redirect(await objects.presignGet(rendering.key, PRESIGNED_URL_SECONDS));
  }
  let png = await objects.get(rendering.key);
  if (!png && rendering.source === 'default') throw new NotFound('no DICOM file with this id', 'FILE_NOT_FOUND');
  // Not cached yet: render it. Imported here so that a cached read never loads the render pipeline.
  png ??= await (
    await import('../ingest/render-on-demand.js')
  ).renderAndCache({ objects, records }, id, rendering, record.object_version);
  if (png.length > MAX_INLINE_PNG_BYTES) {
    return redirect(await objects.presignGet(rendering.key, PRESIGNED_URL_SECONDS));
  }
  return binary(200, png, 'image/png', caching);
});
