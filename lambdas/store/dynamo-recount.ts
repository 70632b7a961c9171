// Exact counts from the file records themselves: the repair for bookkeeping that a fault or a crash cut short.
import { UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { TABLE } from '../config.js';
import {
  adjustSeries,
  adjustStudy,
  instanceItemId,
  isConditionFailure,
  readItem,
  seriesItemId,
  studyItemId,
} from './dynamo-links.js';
import type { CountedIn } from './index-keys.js';
import type { FileFilters, Page, PageRequest } from './queries.js';
import type { FileRecord } from './records.js';

/** How often a recount starts again when a concurrent upload or delete moved a count meanwhile. */
const MAX_ATTEMPTS = 8;

type ListFiles = (filters: FileFilters, page: PageRequest) => Promise<Page<FileRecord>>;

async function allFiles(listFiles: ListFiles, filters: FileFilters): Promise<FileRecord[]> {
  const found: FileRecord[] = [];
  let after: string | undefined;
  do {
    const page = await listFiles(filters, { limit: 1000, ...(after ? { after } : {}) });
    found.push(...page.items);
    after = page.next ?? undefined;
  } while (after);
  return found;
}

/** A record counts where its study item says so: it has a study and has not failed (FAILED is counted out). */
const counts = (record: FileRecord): boolean => Boolean(record.study_instance_uid) && record.status !== 'FAILED';

/** What the counts count: one per SOP Instance UID of a series, one per file without one (as they were counted). */
const instanceKey = (record: FileRecord): string =>
  record.series_instance_uid && record.sop_instance_uid
    ? `${record.series_instance_uid}|${record.sop_instance_uid}`
    : `file|${record.id}`;

async function readFields(client: DynamoDBClient, tableName: string, id: string) {
  const item = await readItem(client, tableName, id);
  return item ? unmarshall(item) : undefined;
}

/**
 * Sets `values` on an item only if nobody changed it since `seen` (its modified_at): a concurrent upload or delete
 * moves modified_at, and the recount starts over. False when the item changed (or is gone).
 */
async function setIfUnchanged(
  client: DynamoDBClient,
  tableName: string,
  id: string,
  seen: unknown,
  values: Record<string, number>,
): Promise<boolean> {
  const names: Record<string, string> = { '#modified': 'modified_at' };
  const placeholders: Record<string, unknown> = { ':seen': seen, ':now': new Date().toISOString() };
  const sets = ['#modified = :now'];
  Object.entries(values).forEach(([field, value], i) => {
    names[`#v${i}`] = field;
    placeholders[`:v${i}`] = value;
    sets.push(`#v${i} = :v${i}`);
  });
  try {
    await client.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: marshall({ [TABLE.partitionKey]: id }),
        UpdateExpression: `SET ${sets.join(', ')}`,
        ConditionExpression: '#modified = :seen',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: marshall(placeholders),
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

/** Sets a SOP item's copies (no modified_at there: its copies are written by ADD, so compare the value itself). */
async function setCopies(client: DynamoDBClient, tableName: string, id: string, seen: unknown, copies: number) {
  try {
    await client.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: marshall({ [TABLE.partitionKey]: id }),
        UpdateExpression: 'SET #copies = :copies',
        ConditionExpression: seen === undefined ? 'attribute_not_exists(#copies)' : '#copies = :seen',
        ExpressionAttributeNames: { '#copies': 'copies' },
        ExpressionAttributeValues: marshall({ ':copies': copies, ...(seen === undefined ? {} : { ':seen': seen }) }),
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

/**
 * Recounts one instance's copies, its series and its study from the records that hold them (exact, whatever
 * increments were lost or doubled), one consistent pass at a time: any concurrent count change restarts it.
 * Items for what has no record any more are left at 0 (the counters' own conditional deletes remove them later).
 */
export async function recountFromRecords(
  client: DynamoDBClient,
  tableName: string,
  listFiles: ListFiles,
  counted: CountedIn,
  describe: FileRecord,
): Promise<void> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const studyId = studyItemId(counted.studyUid);
    const seriesId = counted.seriesUid ? seriesItemId(counted.seriesUid) : undefined;
    const sopId = counted.seriesUid && counted.sopUid ? instanceItemId(counted.seriesUid, counted.sopUid) : undefined;
    const [study, series, sop] = await Promise.all([
      readFields(client, tableName, studyId),
      seriesId ? readFields(client, tableName, seriesId) : undefined,
      sopId ? readFields(client, tableName, sopId) : undefined,
    ]);
    const inStudy = (await allFiles(listFiles, { study_uid: counted.studyUid })).filter(counts);
    const inSeries = counted.seriesUid ? inStudy.filter((r) => r.series_instance_uid === counted.seriesUid) : [];
    const copies = counted.sopUid ? inSeries.filter((r) => r.sop_instance_uid === counted.sopUid).length : 0;
    const studyInstances = new Map<string, FileRecord>();
    for (const record of inStudy) studyInstances.set(instanceKey(record), record);
    const seriesInstances = new Set(inSeries.map(instanceKey));

    // An item missing where records say it should exist is created by the ordinary +1, then set exactly below.
    if (!study && studyInstances.size > 0) {
      await adjustStudy(client, tableName, 1, counted, describe);
      continue;
    }
    if (seriesId && !series && seriesInstances.size > 0) {
      await adjustSeries(client, tableName, 1, counted, describe);
      continue;
    }
    if (sopId && copies !== Number(sop?.copies ?? 0)) {
      if (!(await setCopies(client, tableName, sopId, sop?.copies, copies))) continue;
    }
    if (
      series &&
      !(await setIfUnchanged(client, tableName, seriesId!, series.modified_at, {
        instance_count: seriesInstances.size,
      }))
    ) {
      continue;
    }
    if (study) {
      const modalities: Record<string, number> = {};
      for (const field of Object.keys(study)) if (field.startsWith('modality_count_')) modalities[field] = 0;
      for (const record of studyInstances.values()) {
        if (!record.modality) continue;
        const field = `modality_count_${record.modality}`;
        modalities[field] = (modalities[field] ?? 0) + 1;
      }
      const seriesCount = new Set(inStudy.map((r) => r.series_instance_uid).filter(Boolean)).size;
      const values = { instance_count: studyInstances.size, series_count: seriesCount, ...modalities };
      if (!(await setIfUnchanged(client, tableName, studyId, study.modified_at, values))) continue;
    }
    return;
  }
  throw new Error('counts kept changing while they were recounted; the next retry recounts again');
}
