// Which uploaded file an S3 storage event is about: the UUID in `uploads/<id>`, or nothing.
import { KEYS } from '../config.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** S3 event keys are URL-encoded with '+' for spaces. */
export function decodeEventKey(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, ' '));
}

/** The file id of an object key under the upload prefix, or undefined for any other key. */
export function uploadIdOfKey(key: string): string | undefined {
  if (!key.startsWith(KEYS.uploadPrefix)) return undefined;
  const id = key.slice(KEYS.uploadPrefix.length);
  return UUID.test(id) ? id : undefined;
}

/** Minimal shape of an S3 notification record: what the processor and the dead-letter consumer read. */
export interface StorageEventRecord {
  eventName?: string;
  s3?: { object?: { key?: string; size?: number; versionId?: string } };
}

/** The ids of the uploads an S3 event announces (ObjectCreated:* under the upload prefix). */
export function createdUploadIds(event: { Records?: readonly StorageEventRecord[] }): {
  ids: string[];
  ignored: number;
  /** The object size each event announces, by id (S3 always sends it). */
  sizes: Map<string, number>;
  /** The object version each event names, by id (only on a versioned bucket). */
  versions: Map<string, string>;
} {
  const ids: string[] = [];
  const sizes = new Map<string, number>();
  const versions = new Map<string, string>();
  let ignored = 0;
  for (const record of event.Records ?? []) {
    const key = record.s3?.object?.key;
    const id = record.eventName?.startsWith('ObjectCreated:') && key ? uploadIdOfKey(decodeEventKey(key)) : undefined;
    if (!id) {
      ignored++;
      continue;
    }
    ids.push(id);
    const size = record.s3?.object?.size;
    if (typeof size === 'number') sizes.set(id, size);
    const versionId = record.s3?.object?.versionId;
    if (typeof versionId === 'string' && versionId && versionId !== 'null') versions.set(id, versionId);
  }
  return { ids, ignored, sizes, versions };
}
