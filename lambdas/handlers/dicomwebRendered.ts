// WADO-RS rendered (instance, frame) and thumbnail (study, series, instance, frame) resources as image/jpeg or image/png.
import { getStores, processingWaitMs } from '../commons.js';
import { parseFrameList } from '../dicom/frames.js';
import { pathUid } from '../dicomweb/http.js';
import { parseRenderedQuery, renderedBytes, renderedType, representative } from '../dicomweb/rendered.js';
import { instanceRecord, instancesOf, settled } from '../dicomweb/retrieve.js';
import { InvalidParameter, NoImage } from '../http/errors.js';
import { httpHandler } from '../http/handler.js';
import { binary } from '../http/responses.js';
import type { FileRecord } from '../store/records.js';
import { requireProcessedOk } from '../store/wait.js';

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
  let record: FileRecord | undefined;
  if (seriesUid && sopUid) {
    record = requireProcessedOk(await instanceRecord(stores.records, { studyUid, seriesUid, sopUid }, waitMs));
  } else {
    const instances = await instancesOf(stores.records, { studyUid, ...(seriesUid ? { seriesUid } : {}) });
    record = representative(await settled(stores.records, instances, waitMs));
    if (!record) throw new NoImage();
  }
  const bytes = await renderedBytes(stores, record, frame, query, type, thumbnail);
  const headers: Record<string, string> = {
    'Cache-Control': 'private, max-age=86400',
    ...(query.warnings.length > 0 ? { Warning: query.warnings.join(', ') } : {}),
  };
  return binary(200, bytes, type, headers);
});
