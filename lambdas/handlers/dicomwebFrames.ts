// WADO-RS frames (PS3.18 10.4.1.1.4): one or several frames as stored or decoded, read from the original by ranges.
import { getStores, processingWaitMs } from '../commons.js';
import { FrameNotAcceptable, parseFrameList, retrieveFrames } from '../dicom/frames.js';
import { frameAccept, framesMeet, framesResponse, labelled } from '../dicomweb/frames-request.js';
import { NotAcceptable, pathUid } from '../dicomweb/http.js';
import { instanceRecord } from '../dicomweb/retrieve.js';
import { auditedFiles } from '../http/access.js';
import { InvalidParameter } from '../http/errors.js';
import { httpHandler } from '../http/handler.js';
import { originalSource } from '../ingest/render-on-demand.js';
import { requireProcessedOk } from '../store/wait.js';

export const handler = httpHandler('dicomwebFrames', async (event) => {
  const address = {
    studyUid: pathUid(event, 'study'),
    seriesUid: pathUid(event, 'series'),
    sopUid: pathUid(event, 'instance'),
  };
  const numbers = parseFrameList(event.pathParameters?.frames ?? '');
  if (!numbers) {
    throw new InvalidParameter('frames', 'frames must be a comma-separated list of frame numbers from 1 (e.g. 1,3,5)');
  }
  const accepts = frameAccept(event);
  const { objects, records } = getStores();
  const record = requireProcessedOk(await instanceRecord(records, address, processingWaitMs()));
  const source = originalSource(objects, record.id, record.object_version);
  // A stored file changes only when it is reprocessed, which moves modified_at.
  const caching = {
    ...auditedFiles([record.id]),
    'Cache-Control': 'private, max-age=86400',
    ETag: `"${record.id}-${Date.parse(record.modified_at).toString(36)}"`,
  };
  let refusal: Error | undefined;
  for (const accept of accepts) {
    try {
      const frames = await retrieveFrames(source, numbers, accept.syntaxes);
      if (framesMeet(accept, frames)) return framesResponse(labelled(accept, frames), caching);
    } catch (error) {
      if (!(error instanceof FrameNotAcceptable)) throw error;
      refusal = error;
    }
  }
  throw refusal ?? new NotAcceptable('the frames are not stored in a media type the Accept header allows');
});
