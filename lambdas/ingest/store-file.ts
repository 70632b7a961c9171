// One file in, one file out: the store and delete pipelines POST /dicom, DELETE /dicom/{id} and DICOMweb (STOW, DELETE) share.
import { createHash, randomUUID } from 'node:crypto';
import type { Stores } from '../commons.js';
import { logger } from '../commons.js';
import { KEYS, PROCESSING_DEADLINE_SECONDS } from '../config.js';
import { dicomInfo } from '../dicom/attributes.js';
import { dicomIdentifiers } from '../dicom/identifiers.js';
import type { ParsedDicom } from '../dicom/parse.js';
import { ServiceUnavailable } from '../http/errors.js';
import { deleteFileObjects } from '../store/file-objects.js';
import { secondsFromNow, type FileRecord } from '../store/records.js';

/** A validated DICOM file about to be stored: its display name, bytes and what parseDicom read from them. */
export interface IncomingFile {
  filename: string;
  bytes: Uint8Array;
  parsed: ParsedDicom;
}

/** The record a freshly uploaded file gets: a new UUID, PROCESSING until the processor has run. */
export function newFileRecord(file: IncomingFile): FileRecord {
  const now = new Date().toISOString();
  return {
    id: randomUUID(),
    filename: file.filename,
    size_bytes: file.bytes.length,
    created_at: now,
    modified_at: now,
    status: 'PROCESSING',
    dicom_info: dicomInfo(file.parsed),
    ...dicomIdentifiers(file.parsed),
    sha256: createHash('sha256').update(file.bytes).digest('hex'),
    processing_deadline: secondsFromNow(PROCESSING_DEADLINE_SECONDS),
  };
}

/**
 * Stores the file under `uploads/<id>` with its record (PROCESSING; the storage event starts the processor). On a
 * storage fault both are undone and a 503 STORAGE_FAILED is thrown: no record without its bytes, no bytes without a
 * record.
 */
export async function storeFile(
  { objects, records }: Stores,
  file: IncomingFile,
  record: FileRecord = newFileRecord(file),
): Promise<FileRecord> {
  const { id } = record;
  try {
    // Record first: the storage event may reach the processor before PutObject returns.
    await records.create(record, () => objects.put(KEYS.upload(id), file.bytes, 'application/dicom'));
  } catch (error) {
    // Undo both (the processor may already have run on the stored bytes), log the cause (no PHI in SDK errors),
    // tell the client to retry.
    logger.error('upload storage failed', { id, error: error as Error });
    try {
      await records.delete(id, () => deleteFileObjects(objects, id));
    } catch (undoError) {
      logger.error('upload undo failed', { id, error: undoError as Error });
    }
    throw new ServiceUnavailable('the file could not be stored; retry shortly', 'STORAGE_FAILED');
  }
  return record;
}

function deleteFailed(id: string, error: unknown): ServiceUnavailable {
  // SDK errors name the operation, never a stored value: no PHI in this line.
  logger.error('delete storage failed', { id, error: error as Error });
  return new ServiceUnavailable(
    'the file could not be deleted completely; repeat the DELETE (it finishes the job, then answers 404)',
    'STORAGE_FAILED',
  );
}

/**
 * Removes a file: the record first (reads turn 404 at once), then every stored object, with the study and series
 * counts. False when there was no record; objects a DELETE cut short by a storage fault left behind are removed
 * then too (patient data must not outlive its record). A storage fault throws 503 STORAGE_FAILED: repeat it.
 */
export async function deleteFile({ objects, records }: Stores, id: string): Promise<boolean> {
  // The processor writes derived objects only while the record exists (conditional update), and removes what it
  // wrote when it finds the record gone, so nothing outlives this delete.
  let deleted: boolean;
  try {
    deleted = await records.delete(id, () => deleteFileObjects(objects, id));
  } catch (error) {
    throw deleteFailed(id, error);
  }
  if (!deleted) {
    try {
      await deleteFileObjects(objects, id);
    } catch (error) {
      throw deleteFailed(id, error);
    }
  }
  return deleted;
}
