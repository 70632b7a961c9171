// WADO-RS metadata (PS3.18 10.4.1.1.2) of a study, a series or an instance: the DICOM JSON the processor made at ingest.
import { createHash } from 'node:crypto';
import { getStores, processingWaitMs } from '../commons.js';
import { KEYS } from '../config.js';
import {
  DICOM_JSON,
  dicomJsonResponse,
  dicomwebRoot,
  MAX_INLINE_ANSWER_BYTES,
  pathUid,
  requireJsonAccepted,
} from '../dicomweb/http.js';
import { instanceMetadataText, instanceRecord, instancesOf, metadataArray, settled } from '../dicomweb/retrieve.js';
import { httpHandler } from '../http/handler.js';
import { redirect } from '../http/responses.js';
import { requireProcessedOk } from '../store/wait.js';

const ANSWER_URL_SECONDS = 300;

export const handler = httpHandler('dicomwebMetadata', async (event) => {
  const studyUid = pathUid(event, 'study');
  const seriesUid = event.pathParameters?.series !== undefined ? pathUid(event, 'series') : undefined;
  const sopUid = event.pathParameters?.instance !== undefined ? pathUid(event, 'instance') : undefined;
  requireJsonAccepted(event);
  const { objects, records } = getStores();
  const root = dicomwebRoot(event);
  let text: string;
  if (seriesUid && sopUid) {
    const record = requireProcessedOk(
      await instanceRecord(records, { studyUid, seriesUid, sopUid }, processingWaitMs()),
    );
    text = `[${await instanceMetadataText(objects, record, root)}]`;
  } else {
    const instances = await settled(
      records,
      await instancesOf(records, { studyUid, ...(seriesUid ? { seriesUid } : {}) }),
      processingWaitMs(),
    );
    text = await metadataArray(objects, instances, root);
  }
  const response = dicomJsonResponse(event, text);
  const size = response.isBase64Encoded ? Buffer.byteLength(response.body, 'base64') : Buffer.byteLength(response.body);
  if (size <= MAX_INLINE_ANSWER_BYTES) return response;
  // Too large for one Lambda answer even gzipped (tens of thousands of instances): a short-lived URL to it in S3.
  const name = createHash('sha256').update(`${root}\n${event.path}\n${text.length}`).digest('hex');
  const key = KEYS.answer(`${name}.json`);
  await objects.put(key, Buffer.from(text, 'utf8'), DICOM_JSON);
  return redirect(await objects.presignGet(key, ANSWER_URL_SECONDS));
});
