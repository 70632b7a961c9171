// WADO-RS rendered (instance, frame) and thumbnail (study, series, instance, frame) resources as image/jpeg or image/png.
import { getStores, processingWaitMs } from '../commons.js';
import { NoImage } from '../dicom/errors.js';
import { parseFrameList } from '../dicom/frames.js';
import { MAX_INLINE_ANSWER_BYTES, NotAcceptable, pathUid } from '../dicomweb/http.js';
import { multipartRelated } from '../http/multipart-related.js';
import { parseRenderedQuery, renderable, renderedBytes, renderedType, representative } from '../dicomweb/rendered.js';
import { instanceRecord, instancesOf, settled } from '../dicomweb/retrieve.js';
import { auditedFiles } from '../http/access.js';
import { InvalidParameter } from '../http/errors.js';
import { httpHandler } from '../http/handler.js';
import { processedRecord, stillProcessing } from '../http/processing-state.js';
import { binary } from '../http/responses.js';
import type { FileRecord } from '../store/records.js';

/** A series' or study's rendered resource renders at most this many images in one answer. */
const MAX_RENDERED_PARTS = 100;

export const handler = httpHandler('dicomwebRendered', async (event) => {
  const thumbnail = event.resource.endsWith('/thumbnail');
  const studyUid = pathUid(event, 'study');
  const seriesUid = event.pathParameters?.series !== undefined ? pathUid(event, 'series') : undefined;
  const sopUid = event.pathParameters?.instance !== undefined ? pathUid(event, 'instance') : undefined;
  const query = parseRenderedQuery(event, thumbnail);
  const type = renderedType(event);
  let frame = 1;
  if (event.pathParameters?.frames !== undefined) {
    const frames = parseFrameList(event.pathParameters.frames);
    if (!frames || frames.length !== 1) {
      throw new InvalidParameter(
        'frames',
        'a rendered or thumbnail frame is one frame number from 1 (e.g. frames/3/rendered)',
      );
    }
    frame = frames[0]!;
  }
  const stores = getStores();
  const waitMs = processingWaitMs();
  if (!thumbnail && !sopUid) {
    // A series' or study's rendered resource: each image's first frame, one part each (PS3.18 10.4.1.1.3).
    const instances = await instancesOf(stores.records, { studyUid, ...(seriesUid ? { seriesUid } : {}) });
    const images = renderable(await settled(stores.records, instances, waitMs));
    if (images.length === 0) throw new NoImage();
    if (images.length > MAX_RENDERED_PARTS) {
      throw new NotAcceptable(
        `${images.length} images are more than one answer renders (${MAX_RENDERED_PARTS}); render them instance by instance (.../instances/{instance}/rendered)`,
      );
    }
    const parts = [];
    for (const image of images) {
      parts.push({ contentType: type, bytes: await renderedBytes(stores, image, 1, query, type, false) });
    }
    const { body, contentType } = multipartRelated(parts, type);
    if (body.length > MAX_INLINE_ANSWER_BYTES) {
      throw new NotAcceptable(
        `the rendered images make ${body.length} bytes, more than one answer carries; render them instance by instance or ask for a smaller viewport`,
      );
    }
    return binary(200, body, contentType, {
      ...auditedFiles(images.map((image) => image.id)),
      'Cache-Control': 'private, max-age=3600',
      ...(query.warnings.length > 0 ? { Warning: query.warnings.join(', ') } : {}),
    });
  }
  let record: FileRecord | undefined;
  if (seriesUid && sopUid) {
    const found = await instanceRecord(stores.records, { studyUid, seriesUid, sopUid }, waitMs);
    if (found.state === 'processing') return stillProcessing(found.record.id);
    record = processedRecord(found);
  } else {
    const instances = await instancesOf(stores.records, { studyUid, ...(seriesUid ? { seriesUid } : {}) });
    record = representative(await settled(stores.records, instances, waitMs));
    if (!record) throw new NoImage();
  }
  const bytes = await renderedBytes(stores, record, frame, query, type, thumbnail);
  const headers: Record<string, string> = {
    ...auditedFiles([record.id]),
    'Cache-Control': 'private, max-age=86400',
    ...(query.warnings.length > 0 ? { Warning: query.warnings.join(', ') } : {}),
  };
  return binary(200, bytes, type, headers);
});
