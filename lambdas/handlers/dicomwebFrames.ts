// WADO-RS frames (PS3.18 10.4.1.1.4): one or several frames as stored or decoded, read from the original by ranges.
import { getStores, processingWaitMs } from '../commons.js';
import { FrameNotAcceptable } from '../dicom/errors.js';
import { parseFrameList, retrieveFrames } from '../dicom/frames.js';
import { createHash } from 'node:crypto';
import { KEYS } from '../config.js';
import { frameAccept, framesMeet, framesResponse, labelled, type FrameAccept } from '../dicomweb/frames-request.js';
import { redirect } from '../http/responses.js';
import { MAX_INLINE_ANSWER_BYTES, NotAcceptable, pathUid } from '../dicomweb/http.js';
import { instanceRecord } from '../dicomweb/retrieve.js';
import { auditedFiles } from '../http/access.js';
import { InvalidParameter } from '../http/errors.js';
import { httpHandler } from '../http/handler.js';
import { processedRecord, stillProcessing } from '../http/processing-state.js';
import { originalSource } from '../ingest/render-on-demand.js';

/** How long the redirect to a large frames answer stays valid (a viewer follows it at once). */
const ANSWER_URL_SECONDS = 300;

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
  const found = await instanceRecord(records, address, processingWaitMs());
  if (found.state === 'processing') return stillProcessing(found.record.id);
  const record = processedRecord(found);
  const source = originalSource(objects, record.id, record.object_version);
  // A stored file changes only when it is reprocessed, which moves modified_at.
  const caching = {
    ...auditedFiles([record.id]),
    'Cache-Control': 'private, max-age=86400',
    ETag: `"${record.id}-${Date.parse(record.modified_at).toString(36)}"`,
  };
  // Frames too large for one Lambda answer (uncompressed mammography, large CR) are written once under answers/,
  // named by file, version, frames and media type, and served by a short-lived redirect to them.
  const keyOf = (accept: FrameAccept) =>
    KEYS.answer(
      `frames-${record.id}-${createHash('sha256')
        .update(JSON.stringify([record.modified_at, record.object_version ?? null, numbers, accept]))
        .digest('hex')}`,
    );
  const redirectTo = async (key: string) => {
    const answer = redirect(await objects.presignGet(key, ANSWER_URL_SECONDS));
    return { ...answer, headers: { ...answer.headers, ...auditedFiles([record.id]) } };
  };
  const image = record.image?.state === 'RENDERED' ? record.image : undefined;
  const maybeLarge =
    image !== undefined && image.width * image.height * 2 * numbers.length > MAX_INLINE_ANSWER_BYTES / 2;
  let refusal: Error | undefined;
  for (const accept of accepts) {
    try {
      if (maybeLarge && (await objects.head(keyOf(accept)))) return await redirectTo(keyOf(accept));
      const frames = await retrieveFrames(source, numbers, accept.syntaxes);
      const spill = async (body: Uint8Array, contentType: string) => {
        await objects.put(keyOf(accept), body, contentType);
        return redirectTo(keyOf(accept));
      };
      if (framesMeet(accept, frames)) return await framesResponse(labelled(accept, frames), caching, spill);
    } catch (error) {
      if (!(error instanceof FrameNotAcceptable)) throw error;
      refusal = error;
    }
  }
  throw refusal ?? new NotAcceptable('the frames are not stored in a media type the Accept header allows');
});
