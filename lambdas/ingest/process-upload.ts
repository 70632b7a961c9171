// The processor's work for one upload: read it, hash it, parse it, store what it derives, settle the record.
import { createHash } from 'node:crypto';
import { logger, type Stores } from '../commons.js';
import { KEYS, MAX_INLINE_ATTRIBUTES_BYTES, PROCESSING_DEADLINE_SECONDS } from '../config.js';
import { DERIVED_SCHEMA_VERSION, processDicom, type ProcessOutcome } from '../dicom/process.js';
import { clientError } from '../http/domain-errors.js';
import { BadRequest } from '../http/errors.js';
import { packDocuments } from '../store/derived-documents.js';
import { deleteCachedRenderings, deleteFileObjects } from '../store/file-objects.js';
import { secondsFromNow } from '../store/records.js';

/** Uploads up to this size are read while the record is: POST /dicom's files (at most ~4 MB) and more. */
const PREFETCH_BYTES = 32 * 1024 * 1024;

/**
 * Idempotent: S3 delivers events at least once and Lambda retries failures, so every step may run
 * again. Anything a bug throws propagates (retries, then the dead-letter queue marks the record).
 * `versionId` (the event's, on a versioned bucket): the first version processed is recorded, and every
 * later run (a retry, a reprocess) reads that version, so the record always describes the bytes it names.
 */
export async function processUpload(
  { objects, records }: Stores,
  id: string,
  announcedBytes?: number,
  versionId?: string,
): Promise<void> {
  // The record is almost always there and PROCESSING, so a small file's bytes are read at the same
  // time; a large one's wait until the record says they are wanted (a repeated event or a deleted
  // file must not download up to 1 GiB for nothing).
  const early =
    announcedBytes !== undefined && announcedBytes <= PREFETCH_BYTES
      ? objects.get(KEYS.upload(id), versionId)
      : undefined;
  early?.catch(() => undefined); // awaited below when needed; never an unhandled rejection
  const record = await records.get(id);
  if (!record) {
    // Deleted (or its upload expired) before we ran: nobody owns these bytes any more.
    await deleteFileObjects(objects, id);
    return;
  }
  if (record.status !== 'PROCESSING') {
    // A repeated event for finished work; if that work's counting was cut short (a retry), recount it exactly.
    if (record.counts_pending) await records.repairCounts(record);
    return;
  }
  const version = record.object_version ?? versionId;
  const bytes = await (early && version === versionId ? early : objects.get(KEYS.upload(id), version));
  if (!bytes) return; // deleted meanwhile, or a direct upload whose bytes have not arrived

  const started = performance.now();
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const received = { size_bytes: bytes.length, sha256, ...(version ? { object_version: version } : {}) };
  // POST /dicom already recorded size, hash and deadline; only direct uploads (and the version) are learnt here.
  const alreadyKnown =
    !record.upload &&
    record.sha256 === sha256 &&
    record.size_bytes === bytes.length &&
    record.object_version === version;
  if (!alreadyKnown && !(await records.markReceived(id, received, secondsFromNow(PROCESSING_DEADLINE_SECONDS)))) {
    await deleteFileObjects(objects, id);
    return;
  }

  let outcome: ProcessOutcome;
  try {
    if (record.upload && record.size_bytes !== bytes.length) {
      // S3 enforces the signed size; this keeps emulators (which do not check signatures) honest too.
      throw new BadRequest(
        `the uploaded file has ${bytes.length} bytes but ${record.size_bytes} were announced`,
        'SIZE_MISMATCH',
      );
    }
    outcome = await processDicom(bytes);
  } catch (error) {
    // The file's fault (not DICOM, too large inflated, a size that lies) fails it; anything else is a bug, retried.
    const refused = clientError(error);
    // A busy storage (503) is nobody's fault: retried, like a bug, never a failed file.
    if (!refused || refused.status >= 500) throw error;
    await records.markFailed(id, refused.message);
    // Bytes never seen as DICOM are worth nothing; a file once READY keeps its original (a parser
    // regression must not destroy the archive: fix, then reprocess).
    await deleteFileObjects(objects, id, { keepOriginal: Boolean(record.schema_version) });
    logger.warn('processing failed', { id, code: refused.code, bytes: bytes.length });
    return;
  }

  const metadata = { 'schema-version': String(DERIVED_SCHEMA_VERSION) };
  // Both JSON documents in one object (one PUT); an attributes document too large for a Lambda response stays on its
  // own, since its route answers with a presigned redirect to it (lambdas/store/derived-documents.ts).
  const alone = outcome.attributesJson.length > MAX_INLINE_ATTRIBUTES_BYTES;
  const documents = packDocuments(outcome.metadataJson, alone ? undefined : outcome.attributesJson);
  const storeDocuments = async (): Promise<void> => {
    // What the documents object points to is stored before it: the attributes route reads it without the record.
    if (alone) await objects.put(KEYS.attributes(id), outcome.attributesJson, 'application/json', metadata);
    await objects.put(KEYS.documents(id), documents, 'application/json', metadata);
    // A reprocess: the older layout's objects (before schema 5), or an attributes document no longer stored alone.
    // Removed only now, so that whatever a reader finds points to something stored.
    if (record.schema_version)
      await objects.delete(alone ? [KEYS.metadata(id)] : [KEYS.metadata(id), KEYS.attributes(id)]);
  };
  await Promise.all([
    storeDocuments(),
    // A reprocess must not leave an older PNG behind (a first processing has none to remove).
    outcome.png
      ? objects.put(KEYS.png(id), outcome.png, 'image/png', metadata)
      : record.schema_version && objects.delete([KEYS.png(id)]),
    // Only a file processed before (a reprocess) can have an older thumbnail or cached renderings,
    // which may be outdated: reprocessing follows a renderer change.
    outcome.thumbnail
      ? objects.put(KEYS.thumbnail(id), outcome.thumbnail, 'image/png', metadata)
      : record.schema_version && objects.delete([KEYS.thumbnail(id)]),
    record.schema_version && deleteCachedRenderings(objects, id),
  ]);
  if (!(await records.markReady(id, outcome.result, { ...record, ...received }))) {
    // Deleted while we worked: remove what we (and the upload) left, so nothing is orphaned.
    await deleteFileObjects(objects, id);
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
