// Record look-ups for reads: 404 when missing, and a bounded wait for files still being processed.
import { HttpError, NotFound } from '../http/errors.js';
import { withDeadlineApplied, type FileRecord, type RecordStore } from './records.js';

export async function requireRecord(records: RecordStore, id: string): Promise<FileRecord> {
  const record = await records.get(id);
  if (!record) throw new NotFound('no DICOM file with this id', 'FILE_NOT_FOUND');
  return record;
}

/** 202 with Retry-After: the file exists but its processing has not finished. */
export class StillProcessing extends HttpError {
  constructor(id: string, retryAfterSeconds: number) {
    super(202, 'PROCESSING', 'the file is still being processed; retry shortly', {
      headers: { 'Retry-After': String(retryAfterSeconds) },
      body: { id, status: 'PROCESSING' },
    });
  }
}

/** Waits up to waitMs for the processor to finish (API.md: POST then GET works without a retry loop). */
export async function awaitProcessed(records: RecordStore, id: string, waitMs: number): Promise<FileRecord> {
  const started = Date.now();
  const deadline = started + waitMs;
  for (;;) {
    const record = withDeadlineApplied(await requireRecord(records, id));
    if (record.status !== 'PROCESSING') return record;
    const now = Date.now();
    const remaining = deadline - now;
    if (remaining <= 0) throw new StillProcessing(id, 2);
    // Each wait is a quarter of the time waited so far (4-250 ms): a file done at t is seen by
    // ~1.25 t, however long it takes; ~50 reads over 8 s (the 1.5x back-off from 5 ms made ~40).
    const delay = Math.min(Math.max((now - started) / 4, 4), 250);
    await new Promise((resolve) => setTimeout(resolve, Math.min(delay, remaining)));
  }
}

/** A record whose processing failed has no attributes or image to serve: 422 with the reason. */
export function requireProcessedOk(record: FileRecord): FileRecord {
  if (record.status === 'FAILED') {
    throw new HttpError(
      422,
      'PROCESSING_FAILED',
      `the file could not be processed: ${record.error ?? 'unknown reason'}`,
    );
  }
  return record;
}
