// Reprocessing: mark the record PROCESSING and make S3 announce the original again, so the usual path rebuilds it.
import type { Stores } from '../commons.js';
import { KEYS, PROCESSING_DEADLINE_SECONDS } from '../config.js';
import { Conflict, NotFound } from '../http/errors.js';
import { requireRecord } from '../http/processing-state.js';
import { secondsFromNow } from '../store/records.js';

/**
 * A copy of the object onto itself fires ObjectCreated:Copy in S3 and in the local emulator alike,
 * so reprocessing needs no Lambda-invoke permission and no local wiring. Safe to repeat.
 */
export async function requestReprocess({ objects, records }: Stores, id: string): Promise<void> {
  const record = await requireRecord(records, id);
  if (record.upload) {
    throw new Conflict('the file has not been uploaded yet; send its bytes to the upload URL first', 'UPLOAD_PENDING');
  }
  if (!(await objects.head(KEYS.upload(id)))) {
    throw new Conflict(
      'the original file is not stored (a file that is not DICOM is removed when it fails), so it cannot be reprocessed',
      'ORIGINAL_NOT_STORED',
    );
  }
  // Record first: the storage event may reach the processor before the copy returns.
  if (!(await records.markReprocessing(id, secondsFromNow(PROCESSING_DEADLINE_SECONDS)))) {
    throw new NotFound('no DICOM file with this id', 'FILE_NOT_FOUND');
  }
  try {
    await objects.copyInPlace(KEYS.upload(id), 'application/dicom', {
      'reprocess-requested-at': new Date().toISOString(),
    });
  } catch (error) {
    // A DELETE that ran meanwhile removed the record or the original: that is the answer, not a 500.
    if (!(await records.get(id))) throw new NotFound('no DICOM file with this id', 'FILE_NOT_FOUND');
    if (!(await objects.head(KEYS.upload(id)))) {
      await records.markFailed(id, 'the original file is no longer stored, so it cannot be reprocessed');
      throw new NotFound('no DICOM file with this id', 'FILE_NOT_FOUND');
    }
    await records.markFailed(id, `reprocessing could not be started; retry POST /dicom/${id}/reprocess`);
    throw error;
  }
}
