// S3 ObjectCreated on uploads/: parse the file, store its attribute JSON and PNG, mark the record READY.
import type { S3Event } from 'aws-lambda';
import { getStores, logger } from '../commons.js';
import { KEYS } from '../config.js';
import { processDicom } from '../dicom/process.js';
import { HttpError } from '../http/errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** S3 event keys are URL-encoded with '+' for spaces. */
function decodeKey(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, ' '));
}

async function processUpload(id: string): Promise<void> {
  const { objects, records } = getStores();
  const record = await records.get(id);
  // Deleted before we ran, or a repeated event for finished work: events arrive at least once.
  if (!record || record.status !== 'PROCESSING') return;
  const bytes = await objects.get(KEYS.upload(id));
  if (!bytes) return;

  const started = performance.now();
  let outcome;
  try {
    outcome = await processDicom(bytes);
  } catch (error) {
    if (!(error instanceof HttpError)) throw error; // a bug: let Lambda retry and the logs show it
    await records.markFailed(id, error.message);
    logger.warn('processing failed', { id, code: error.code });
    return;
  }
  await objects.put(KEYS.attributes(id), outcome.attributesJson, 'application/json');
  if (outcome.png) await objects.put(KEYS.png(id), outcome.png, 'image/png');
  if (!(await records.markReady(id, outcome.result))) {
    // The file was deleted while we worked: remove what we just wrote so nothing is orphaned.
    await objects.delete(KEYS.derivedObjects(id));
    return;
  }
  logger.info('processed', {
    id,
    bytes: bytes.length,
    image: outcome.result.image.state,
    attributes: outcome.result.attribute_count,
    ms: Math.round(performance.now() - started),
  });
}

export const handler = async (event: S3Event): Promise<void> => {
  for (const s3Record of event.Records) {
    if (!s3Record.eventName.startsWith('ObjectCreated:')) continue;
    const key = decodeKey(s3Record.s3.object.key);
    if (!key.startsWith(KEYS.uploadPrefix)) continue;
    const id = key.slice(KEYS.uploadPrefix.length);
    if (!UUID.test(id)) {
      logger.warn('ignored object outside the key scheme', { keyLength: key.length });
      continue;
    }
    await processUpload(id);
  }
};
