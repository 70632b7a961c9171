// How a file's processing state answers a read: 404 when there is no such file, 202 with Retry-After while it is
// still being processed (an answer, not an error), 422 with the reason when its processing failed.
import type { APIGatewayProxyResult } from 'aws-lambda';
import type { FileRecord, RecordStore } from '../store/records.js';
import type { ProcessingState } from '../store/wait.js';
import { HttpError, NotFound } from './errors.js';
import { json } from './responses.js';

/** How long a client waits before asking again, after the read's own wait (PROCESSING_WAIT_MS) ran out. */
const RETRY_AFTER_SECONDS = 2;

function fileNotFound(): NotFound {
  return new NotFound('no DICOM file with this id', 'FILE_NOT_FOUND');
}

export async function requireRecord(records: RecordStore, id: string): Promise<FileRecord> {
  const record = await records.get(id);
  if (!record) throw fileNotFound();
  return record;
}

/** 202 with Retry-After and `{"id", "status": "PROCESSING"}`: the file exists but its processing has not finished. */
export function stillProcessing(id: string, retryAfterSeconds = RETRY_AFTER_SECONDS): APIGatewayProxyResult {
  return json(202, { id, status: 'PROCESSING' }, { 'Retry-After': String(retryAfterSeconds) });
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

/** The record of a file whose processing is over: 404 when there is none, 422 with the reason when it failed. */
export function processedRecord(found: Exclude<ProcessingState, { state: 'processing' }>): FileRecord {
  if (found.state === 'missing') throw fileNotFound();
  return requireProcessedOk(found.record);
}
