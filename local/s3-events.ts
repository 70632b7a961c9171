// Turns s3rver's notification records into the S3Event AWS would send to the processor.
import type { S3Event, S3EventRecord } from 'aws-lambda';

/** AWS URL-encodes keys in notifications (space as '+'); s3rver does not, so we do it here. */
export function encodeEventKey(key: string): string {
  return encodeURIComponent(key).replace(/%20/g, '+').replace(/%2F/gi, '/');
}

/**
 * Keeps what the stack's notification would deliver (ObjectCreated:* under the prefix, the same
 * filter CDK configures) so the processor's own writes never trigger it.
 */
export function toProcessorEvent(raw: { Records?: unknown[] }, prefix: string): S3Event | undefined {
  const records = (raw.Records ?? []) as S3EventRecord[];
  const selected = records
    .filter((r) => r.eventName?.startsWith('ObjectCreated:') && r.s3?.object?.key?.startsWith(prefix))
    .map((r) => ({
      ...r,
      s3: { ...r.s3, object: { ...r.s3.object, key: encodeEventKey(r.s3.object.key) } },
    }));
  return selected.length > 0 ? { Records: selected } : undefined;
}
