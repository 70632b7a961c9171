// GET /dicom/{id}/png: the PNG the processor rendered (or why there is none).
import { getStores, processingWaitMs } from '../commons.js';
import { KEYS, MAX_INLINE_PNG_BYTES } from '../config.js';
import { NoImage, NotFound, UnprocessableImage } from '../http/errors.js';
import { httpHandler } from '../http/handler.js';
import { fileId, header } from '../http/request.js';
import { binary, redirect } from '../http/responses.js';
import { awaitProcessed, requireProcessedOk } from '../store/wait.js';

const PRESIGNED_URL_SECONDS = 300;

export const handler = httpHandler('png', async (event) => {
  const id = fileId(event);
  const { objects, records } = getStores();
  const record = requireProcessedOk(await awaitProcessed(records, id, processingWaitMs()));
  const image = record.image;
  if (!image || image.state === 'NO_IMAGE') throw new NoImage();
  if (image.state === 'UNRENDERABLE') throw new UnprocessableImage(image.reason);
  // The PNG of an id changes only when it is reprocessed, which moves modified_at.
  const etag = `"${id}-${Date.parse(record.modified_at).toString(36)}"`;
  const caching = { ETag: etag, 'Cache-Control': 'private, max-age=86400' };
  if (
    header(event, 'if-none-match')
      ?.split(/\s*,\s*/)
      .includes(etag)
  ) {
    return { statusCode: 304, headers: caching, body: '' };
  }
  if (image.png_bytes > MAX_INLINE_PNG_BYTES) {
    return redirect(await objects.presignGet(KEYS.png(id), PRESIGNED_URL_SECONDS));
  }
  const png = await objects.get(KEYS.png(id));
  if (!png) throw new NotFound('no DICOM file with this id', 'FILE_NOT_FOUND');
  return binary(200, png, 'image/png', caching);
});
