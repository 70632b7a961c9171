// GET /dicom/image-urls?ids=<id>,<id>,...: short-lived presigned S3 GET URLs of many files' processed PNG and
// thumbnail, so that clients read images straight from S3 (no API Gateway or Lambda per image), and each file's state.
import { getStores } from '../commons.js';
import { DOWNLOAD_URL_SECONDS, KEYS, THUMBNAIL_MAX_PIXELS } from '../config.js';
import { auditedFiles } from '../http/access.js';
import { HttpError } from '../http/errors.js';
import { httpHandler } from '../http/handler.js';
import { isFileId, queryParameter } from '../http/request.js';
import { json } from '../http/responses.js';
import type { ObjectStore } from '../store/objects.js';
import { MAX_RECORDS_PER_READ, secondsFromNow, type FileRecord } from '../store/records.js';
import { processingState } from '../store/wait.js';

/** Why a file has no URLs, in the codes its own GET /dicom/{id}/png would answer. */
type NotReadyCode = 'FILE_NOT_FOUND' | 'PROCESSING' | 'PROCESSING_FAILED' | 'NO_IMAGE' | 'IMAGE_NOT_RENDERABLE';

export interface ImageUrls {
  id: string;
  ready: boolean;
  png_url: string | null;
  /** Fits THUMBNAIL_MAX_PIXELS: the processor's thumbnail, or the PNG itself when the image is no larger. */
  thumbnail_url: string | null;
  width?: number;
  height?: number;
  code?: NotReadyCode;
  error?: string;
}

/** A 400 about the `ids` parameter: its own code, and the parameter named as the query check names it. */
function badIds(code: string, message: string): HttpError {
  return new HttpError(400, code, message, { body: { parameter: 'ids' } });
}

/** The distinct ids asked for, in the order given (lower case); 400 for a request that cannot be answered per id. */
export function parseIds(text: string | undefined): string[] {
  const given = (text ?? '')
    .split(',')
    .map((part) => part.trim().toLowerCase())
    .filter((part) => part !== '');
  if (given.length === 0) {
    throw badIds('MISSING_IDS', `give ids: 1 to ${MAX_RECORDS_PER_READ} file ids (UUIDs), comma-separated`);
  }
  const ids = [...new Set(given)];
  if (ids.length > MAX_RECORDS_PER_READ) {
    throw badIds(
      'TOO_MANY_IDS',
      `at most ${MAX_RECORDS_PER_READ} ids a request (${ids.length} given): split them over several requests`,
    );
  }
  // The position, not the value: messages never echo what the client sent.
  const bad = ids.findIndex((id) => !isFileId(id));
  if (bad >= 0) throw badIds('INVALID_ID', `ids: the id at position ${bad + 1} is not a file id (a UUID)`);
  return ids;
}

const notReady = (id: string, code: NotReadyCode, error: string): ImageUrls => ({
  id,
  ready: false,
  png_url: null,
  thumbnail_url: null,
  code,
  error,
});

/** One file's answer: its URLs when its image is there to read, or why not (as GET /dicom/{id}/png would say). */
async function imageUrlsOf(objects: ObjectStore, id: string, stored: FileRecord | undefined): Promise<ImageUrls> {
  const found = processingState(stored);
  if (found.state === 'missing') return notReady(id, 'FILE_NOT_FOUND', 'no DICOM file with this id');
  if (found.state === 'processing') return notReady(id, 'PROCESSING', 'still being processed; ask again shortly');
  const record = found.record;
  if (found.state === 'failed') {
    const reason = record.error ?? 'unknown reason';
    return notReady(id, 'PROCESSING_FAILED', `the file could not be processed: ${reason}`);
  }
  const image = record.image;
  if (image?.state === 'UNRENDERABLE') {
    return notReady(id, 'IMAGE_NOT_RENDERABLE', `the pixel data cannot be rendered: ${image.reason}`);
  }
  if (image?.state !== 'RENDERED') return notReady(id, 'NO_IMAGE', 'this file has no image (no pixel data)');
  const pngUrl = await objects.presignGet(KEYS.png(id), DOWNLOAD_URL_SECONDS);
  // The processor writes a thumbnail only for an image larger than the box; a smaller one is its own thumbnail.
  const hasThumbnail = image.width > THUMBNAIL_MAX_PIXELS || image.height > THUMBNAIL_MAX_PIXELS;
  return {
    id,
    ready: true,
    png_url: pngUrl,
    thumbnail_url: hasThumbnail ? await objects.presignGet(KEYS.thumbnail(id), DOWNLOAD_URL_SECONDS) : pngUrl,
    width: image.width,
    height: image.height,
  };
}

export const handler = httpHandler('imageUrls', async (event) => {
  const ids = parseIds(queryParameter(event, 'ids'));
  const { objects, records } = getStores();
  const issued = Date.now();
  const found = await records.getMany(ids);
  const images = await Promise.all(ids.map((id) => imageUrlsOf(objects, id, found.get(id))));
  const body = {
    // A URL signed with the function's temporary role credentials also stops working when they expire (docs/api.md).
    expires_at: secondsFromNow(DOWNLOAD_URL_SECONDS, issued),
    expires_in: DOWNLOAD_URL_SECONDS,
    images,
  };
  // The audit names the files whose images were handed out (never the ids of files that do not exist).
  return json(200, body, auditedFiles(images.filter((image) => image.ready).map((image) => image.id)));
});
