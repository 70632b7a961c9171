// WADO-RS (PS3.18 10.4): which stored files a study, series or instance URL means, and their pre-made metadata.
import { KEYS } from '../config.js';
import { bulkDataBytes, parseBulkDataPath, stringifyDicomJson, toDicomJson } from '../dicom/dicom-json.js';
import { parseDicom } from '../dicom/parse.js';
import { NotFound } from '../http/errors.js';
import { readStoredDocument } from '../store/derived-documents.js';
import type { ObjectStore } from '../store/objects.js';
import type { FileRecord, RecordStore } from '../store/records.js';
import { awaitProcessed, processingState, type ProcessingState } from '../store/wait.js';
import { isSearchable, newestFirst } from './search.js';

/** The most instances one study or series request gathers (a 10,000-slice series still fits). */
export const MAX_INSTANCES_PER_REQUEST = 20_000;
/** How many metadata objects are read at once. */
const READ_CONCURRENCY = 32;

export interface InstanceAddress {
  studyUid: string;
  seriesUid?: string;
  sopUid?: string;
}

/**
 * The stored files of a study or series: one per SOP Instance UID (the newest upload of a file stored twice), in
 * InstanceNumber-free upload order. 404 when there are none.
 */
export async function instancesOf(records: RecordStore, address: InstanceAddress): Promise<FileRecord[]> {
  const filters = address.seriesUid ? { series_uid: address.seriesUid } : { study_uid: address.studyUid };
  const found: FileRecord[] = [];
  let after: string | undefined;
  do {
    const page = await records.listFiles(filters, { limit: 1000, ...(after ? { after } : {}) });
    found.push(...page.items);
    after = page.next ?? undefined;
  } while (after && found.length < MAX_INSTANCES_PER_REQUEST);
  const bySop = new Map<string, FileRecord>();
  for (const record of found.filter(isSearchable).sort(newestFirst)) {
    if (record.study_instance_uid !== address.studyUid) continue;
    if (address.seriesUid && record.series_instance_uid !== address.seriesUid) continue;
    if (!bySop.has(record.sop_instance_uid!)) bySop.set(record.sop_instance_uid!, record);
  }
  if (bySop.size === 0) {
    throw address.seriesUid
      ? new NotFound('no series with this UID in this study', 'SERIES_NOT_FOUND')
      : new NotFound('no study with this UID', 'STUDY_NOT_FOUND');
  }
  return [...bySop.values()].reverse();
}

/**
 * The stored file of one instance URL (the newest copy when stored twice), waited for while it is processed: how its
 * processing stands after the wait (lambdas/http/processing-state.ts turns that into the answer).
 */
export async function instanceRecord(
  records: RecordStore,
  address: Required<InstanceAddress>,
  waitMs: number,
): Promise<ProcessingState> {
  const ids = await records.findBySopInstanceUid(address.sopUid);
  const candidates = (await Promise.all(ids.map((id) => records.get(id))))
    .filter((record): record is FileRecord => record !== undefined && isSearchable(record))
    .filter((r) => r.study_instance_uid === address.studyUid && r.series_instance_uid === address.seriesUid)
    .sort(newestFirst);
  const chosen = candidates[0];
  if (!chosen) throw new NotFound('no instance with this UID in this series', 'INSTANCE_NOT_FOUND');
  return chosen.status === 'PROCESSING' ? awaitProcessed(records, chosen.id, waitMs) : processingState(chosen);
}

/** Waits (together, up to `waitMs`) for instances still being processed; those still not done are left out. */
export async function settled(records: RecordStore, instances: FileRecord[], waitMs: number): Promise<FileRecord[]> {
  const results = await Promise.all(
    instances.map(async (record) => {
      if (record.status !== 'PROCESSING') return record;
      try {
        const found = await awaitProcessed(records, record.id, waitMs);
        return found.state === 'ready' ? found.record : undefined;
      } catch {
        return undefined; // a record that cannot be read now is left out, like one still processing
      }
    }),
  );
  return results.filter((record): record is FileRecord => record !== undefined && record.status === 'READY');
}

/** The instance URL (under the DICOMweb root) its BulkDataURIs hang off. */
export function instancePath(record: FileRecord): string {
  return `/studies/${record.study_instance_uid}/series/${record.series_instance_uid}/instances/${record.sop_instance_uid}`;
}

/**
 * One instance's DICOM JSON text with absolute BulkDataURIs. The processor made it at ingest (one ranged GET of the
 * file's documents object; metadata.json for a file processed before schema 5); a file processed before ingest made
 * it (or whose object is missing) is parsed here once, so it still answers.
 */
export async function instanceMetadataText(objects: ObjectStore, record: FileRecord, root: string): Promise<string> {
  const stored = await readStoredDocument(objects, record, 'metadata');
  let text: string;
  if (stored && 'bytes' in stored) {
    const { bytes } = stored;
    text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  } else {
    const original = await objects.get(KEYS.upload(record.id), record.object_version);
    if (!original) throw new NotFound('the instance was deleted meanwhile', 'INSTANCE_NOT_FOUND');
    text = stringifyDicomJson(toDicomJson(parseDicom(original)));
  }
  // Stored URIs are relative to the instance (the processor cannot know which URL a client will use).
  return text.replaceAll('"BulkDataURI":"bulkdata/', `"BulkDataURI":"${root}${instancePath(record)}/bulkdata/`);
}

/** The metadata of many instances as one JSON array, read `READ_CONCURRENCY` at a time, in the instances' order. */
export async function metadataArray(objects: ObjectStore, instances: FileRecord[], root: string): Promise<string> {
  const texts: string[] = new Array<string>(instances.length);
  let next = 0;
  async function worker(): Promise<void> {
    while (next < instances.length) {
      const index = next++;
      try {
        texts[index] = await instanceMetadataText(objects, instances[index]!, root);
      } catch (error) {
        // An instance deleted while the list was read is simply not in the answer.
        if (!(error instanceof NotFound)) throw error;
        texts[index] = '';
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, instances.length) }, worker));
  return `[${texts.filter((text) => text.length > 0).join(',')}]`;
}

/** The bytes a BulkDataURI of this instance names (`bulkdata/7FE00010`, `bulkdata/00540016.0.00181072`). */
export async function bulkData(objects: ObjectStore, record: FileRecord, pathText: string): Promise<Uint8Array> {
  const path = /^[0-9A-Fa-f.]{8,200}$/.test(pathText) ? parseBulkDataPath(pathText.replaceAll('.', '/')) : undefined;
  if (!path) throw new NotFound('no bulk data at this path', 'BULK_DATA_NOT_FOUND');
  const original = await objects.get(KEYS.upload(record.id), record.object_version);
  if (!original) throw new NotFound('the instance was deleted meanwhile', 'INSTANCE_NOT_FOUND');
  const bytes = bulkDataBytes(parseDicom(original), path);
  if (!bytes) throw new NotFound('no bulk data at this path', 'BULK_DATA_NOT_FOUND');
  return bytes;
}
