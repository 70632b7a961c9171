// The index key attributes a file item carries, derived from its record fields (README "Index design").
import { createHash } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { TABLE } from '../config.js';
import type { FileRecord, ProcessingStatus } from './records.js';

const I = TABLE.indexes;

/** Attributes that exist only to key indexes: written with the record, stripped when it is read. */
export const DERIVED_ATTRIBUTES = [
  I.filesByCreated.partitionKey,
  I.filesByCreated.sortKey,
  I.filesByDate.sortKey,
  I.filesByModality.partitionKey,
  I.filesByStatus.partitionKey,
] as const;

/** Record fields that are also index keys: a null one is removed from the item (a key cannot be NULL). */
export const RECORD_KEY_FIELDS = [
  'patient_id',
  'study_instance_uid',
  'series_instance_uid',
  'sop_instance_uid',
  'sha256',
] as const satisfies readonly (keyof FileRecord)[];

/** Record fields that are null when absent (the rest of RECORD_KEY_FIELDS is optional). */
const NULLABLE_FIELDS = [
  'patient_id',
  'modality',
  'study_date',
  'study_instance_uid',
  'series_instance_uid',
  'sop_instance_uid',
] as const satisfies readonly (keyof FileRecord)[];

/** The study a file is counted in, with its modality: `uid|modality` (neither can hold a `|`). */
export const STUDY_COUNTED = 'study_counted';

/** Which of TABLE.shards write partitions a value lands in (uniform for UUIDs and UIDs alike). */
export function shardOf(value: string): number {
  return createHash('sha256').update(value).digest()[0]! % TABLE.shards;
}

export const allFilesPartition = (shard: number): string => `FILE#${shard}`;
export const modalityPartition = (modality: string, shard: number): string => `${modality}#${shard}`;
export const statusPartition = (status: ProcessingStatus, shard: number): string => `${status}#${shard}`;
export const createdKey = (createdAt: string, id: string): string => `${createdAt}#${id}`;
export const dateKey = (studyDate: string, createdAt: string, id: string): string => `${studyDate}#${createdAt}#${id}`;

/** Only records that are not READY are in the status indexes: they are few, READY is nearly everything. */
function statusShard(id: string, status: ProcessingStatus): string | undefined {
  return status === 'READY' ? undefined : statusPartition(status, shardOf(id));
}

type KeySource = Pick<FileRecord, 'id' | 'created_at' | 'status' | 'modality' | 'study_date'>;

/** The derived key attributes of a whole record (absent ones are simply not set: sparse indexes). */
export function derivedKeys(record: KeySource): Record<string, string> {
  const shard = shardOf(record.id);
  const keys: Record<string, string> = {
    [I.filesByCreated.partitionKey]: allFilesPartition(shard),
    [I.filesByCreated.sortKey]: createdKey(record.created_at, record.id),
  };
  if (record.study_date) keys[I.filesByDate.sortKey] = dateKey(record.study_date, record.created_at, record.id);
  if (record.modality) keys[I.filesByModality.partitionKey] = modalityPartition(record.modality, shard);
  const byStatus = statusShard(record.id, record.status);
  if (byStatus) keys[I.filesByStatus.partitionKey] = byStatus;
  return keys;
}

/**
 * A record's QIDO-RS attributes (`dicomweb`, JSON text) are stored deflated as `dicomweb_z`: the file item is copied
 * into ten ALL-projection indexes, so its size is paid eleven times on every write (1,267 -> ~460 bytes for a CT;
 * `npm run cost` prices the write units). Items written before keep the text, and read back the same.
 */
const DICOMWEB_TEXT = 'dicomweb';
const DICOMWEB_DEFLATED = 'dicomweb_z';

function deflateDicomweb(fields: Record<string, unknown>): void {
  if (typeof fields[DICOMWEB_TEXT] !== 'string') return;
  fields[DICOMWEB_DEFLATED] = deflateRawSync(Buffer.from(fields[DICOMWEB_TEXT] as string, 'utf8'));
  delete fields[DICOMWEB_TEXT];
}

/** The item a record is stored as: its fields (null key fields dropped) plus the derived keys. */
export function toFileItem(record: FileRecord): Record<string, unknown> {
  const item: Record<string, unknown> = { ...record, ...derivedKeys(record) };
  deflateDicomweb(item);
  for (const field of RECORD_KEY_FIELDS) if (item[field] === null) delete item[field];
  if (record.duplicate_of && record.duplicate_of.length === 0) delete item.duplicate_of;
  return item;
}

/** A stored item back as a record: derived keys stripped, removed key fields null again. */
export function fromFileItem(item: Record<string, unknown>): FileRecord {
  const record: Record<string, unknown> = { ...item };
  for (const attribute of [...DERIVED_ATTRIBUTES, 'list_pk', STUDY_COUNTED]) delete record[attribute];
  const deflated = record[DICOMWEB_DEFLATED];
  if (deflated instanceof Uint8Array) record[DICOMWEB_TEXT] = inflateRawSync(deflated).toString('utf8');
  delete record[DICOMWEB_DEFLATED];
  for (const field of NULLABLE_FIELDS) record[field] ??= null;
  // DynamoDB keeps duplicate_of as a string set.
  if (record.duplicate_of instanceof Set) record.duplicate_of = [...(record.duplicate_of as Set<string>)].sort();
  return record as unknown as FileRecord;
}

/**
 * The instance, series and study a file is counted in, with its modality: `study|modality|series|sop` (none can hold
 * a `|`: UIDs are digits and dots, modalities code strings). Records counted before series existed hold
 * `study|modality`, and before instances were counted once per SOP Instance UID `study|modality|series`.
 */
export function studyToken(
  record: Pick<FileRecord, 'study_instance_uid' | 'modality'> &
    Partial<Pick<FileRecord, 'series_instance_uid' | 'sop_instance_uid'>>,
): string | undefined {
  if (!record.study_instance_uid) return undefined;
  const series = record.series_instance_uid ?? '';
  const sop = series ? (record.sop_instance_uid ?? '') : '';
  return `${record.study_instance_uid}|${record.modality ?? ''}|${series}|${sop}`;
}

export interface CountedIn {
  studyUid: string;
  modality: string | null;
  seriesUid: string | null;
  /** Counted once per SOP Instance UID (copies of a file share it); null for a record counted per file. */
  sopUid: string | null;
}

export function parseStudyToken(token: unknown): CountedIn | undefined {
  if (typeof token !== 'string') return undefined;
  const [studyUid, modality, seriesUid, sopUid] = token.split('|');
  return studyUid
    ? { studyUid, modality: modality || null, seriesUid: seriesUid || null, sopUid: sopUid || null }
    : undefined;
}

/**
 * What an update of `fields` must also set or remove so the item's keys follow: null key fields
 * are removed, and derived keys of changed fields recomputed (`current` gives id and created_at).
 */
export function keyUpdates(
  fields: Record<string, unknown>,
  current: Pick<FileRecord, 'id' | 'created_at'>,
): { set: Record<string, unknown>; remove: string[] } {
  const set: Record<string, unknown> = {};
  const remove: string[] = [];
  for (const [field, value] of Object.entries(fields)) {
    if (value === null && (RECORD_KEY_FIELDS as readonly string[]).includes(field)) remove.push(field);
    else set[field] = value;
  }
  if (typeof set[DICOMWEB_TEXT] === 'string') {
    deflateDicomweb(set);
    remove.push(DICOMWEB_TEXT); // the text an older write left
  }
  const shard = shardOf(current.id);
  if ('status' in fields) {
    const byStatus = statusShard(current.id, fields.status as ProcessingStatus);
    if (byStatus) set[I.filesByStatus.partitionKey] = byStatus;
    else remove.push(I.filesByStatus.partitionKey);
  }
  if ('modality' in fields) {
    const modality = fields.modality as string | null;
    if (modality) set[I.filesByModality.partitionKey] = modalityPartition(modality, shard);
    else remove.push(I.filesByModality.partitionKey);
  }
  if ('study_date' in fields) {
    const studyDate = fields.study_date as string | null;
    if (studyDate) set[I.filesByDate.sortKey] = dateKey(studyDate, current.created_at, current.id);
    else remove.push(I.filesByDate.sortKey);
  }
  return { set, remove };
}
