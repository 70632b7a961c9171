// Lambda's on-failure record of an asynchronous invocation: read by the dead-letter consumer, built locally.
import { randomUUID } from 'node:crypto';
import { createdUploadIds, type StorageEventRecord } from './upload-events.js';

/** What Lambda sends to an on-failure destination once an asynchronous event has failed for good. */
export interface AsyncInvocationFailure {
  version: '1.0';
  timestamp: string;
  requestContext: {
    requestId: string;
    functionArn: string;
    /** RetriesExhausted (every attempt threw or timed out) or EventAgeExceeded (never ran in time). */
    condition: string;
    approximateInvokeCount: number;
  };
  requestPayload: { Records?: StorageEventRecord[] };
  responseContext?: { statusCode: number; executedVersion: string; functionError?: string };
  responsePayload?: { errorType?: string; errorMessage?: string };
}

export interface ProcessorFailure {
  ids: string[];
  condition: string;
  attempts: number;
  errorType: string;
  /** The reason recorded on the file (API users read it): no stack, bounded length. */
  reason(id: string): string;
}

function isFailureRecord(value: unknown): value is AsyncInvocationFailure {
  const record = value as Partial<AsyncInvocationFailure> | null;
  return Boolean(record && typeof record === 'object' && record.requestContext && record.requestPayload);
}

/** Parses one dead-letter message body; undefined when it is not an invocation failure record. */
export function parseProcessorFailure(body: string): ProcessorFailure | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (!isFailureRecord(parsed)) return undefined;
  const { condition, approximateInvokeCount } = parsed.requestContext;
  const errorType = parsed.responsePayload?.errorType ?? parsed.responseContext?.functionError ?? 'Error';
  const firstLine = (parsed.responsePayload?.errorMessage ?? '').split('\n')[0]!.slice(0, 200);
  const what =
    condition === 'EventAgeExceeded'
      ? 'processing did not start before the event expired'
      : `processing failed after ${approximateInvokeCount} attempts (${errorType}${firstLine ? `: ${firstLine}` : ''})`;
  return {
    ids: createdUploadIds(parsed.requestPayload).ids,
    condition,
    attempts: approximateInvokeCount,
    errorType,
    reason: (id) => `${what}; retry with POST /dicom/${id}/reprocess`,
  };
}

/** The record Lambda would send (the local runtime delivers it the same way after its last attempt). */
export function asyncInvocationFailure(
  requestPayload: AsyncInvocationFailure['requestPayload'],
  error: { errorType: string; errorMessage: string },
  attempts: number,
  functionName: string,
): AsyncInvocationFailure {
  return {
    version: '1.0',
    timestamp: new Date().toISOString(),
    requestContext: {
      requestId: randomUUID(),
      functionArn: `arn:aws:lambda:local:000000000000:function:${functionName}:$LATEST`,
      condition: 'RetriesExhausted',
      approximateInvokeCount: attempts,
    },
    requestPayload,
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    responsePayload: error,
  };
}
