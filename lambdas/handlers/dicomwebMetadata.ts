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
import { processedRecord, stillProcessing } from '../http/processing-state.js';
import { redirect } from '../http/responses.js';

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
    const found = await instanceRecord(records, { studyUid, seriesUid, sopUid }, processingWaitMs());
    if (found.state === 'processing') return stillProcessing(found.record.id);
    const record = processedRecord(found);
    text = `[${await instanceMetadataText(objects, record, root)}]`;
  } else {
    // A series' or study's answer is assembled once and kept under answers/, named by what it depends on: the
    // item's modified_at moves whenever one of its instances is counted in or out or processed again.
    const item = seriesUid ? await records.getSeries(seriesUid) : await records.getStudy(studyUid);
    const inStudy = !item || !seriesUid || (item as { study_instance_uid: string }).study_instance_uid === studyUid;
    const version = item && inStudy ? `${item.modified_at}\n${item.number_of_instances}` : undefined;
    const key = version ? KEYS.answer(`metadata-${digest(`${root}\n${event.path}\n${version}`)}.json`) : undefined;
    const cached = key ? await objects.get(key) : undefined;
    if (cached) {
      text = Buffer.from(cached.buffer, cached.byteOffset, cached.byteLength).toString('utf8');
    } else {
      const instances = await instancesOf(records, { studyUid, ...(seriesUid ? { seriesUid } : {}) });
      const ready = await settled(records, instances, processingWaitMs());
      text = await metadataArray(objects, ready, root);
      // Only a complete answer is kept (none of its instances still in processing).
      if (key && ready.length === instances.length) await objects.put(key, Buffer.from(text, 'utf8'), DICOM_JSON);
    }
  }
  const response = dicomJsonResponse(event, text);
  const size = response.isBase64Encoded ? Buffer.byteLength(response.body, 'base64') : Buffer.byteLength(response.body);
  if (size <= MAX_INLINE_ANSWER_BYTES) return response;
  // Too large for one Lambda answer even gzipped (tens of thousands of instances): a short-lived URL to it in S3.
  const key = KEYS.answer(`${digest(`${root}\n${event.path}\n${text.length}\n${Date.now()}`)}.json`);
  await objects.put(key, Buffer.from(text, 'utf8'), DICOM_JSON);
  return redirect(await objects.presignGet(key, ANSWER_URL_SECONDS));
});

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
