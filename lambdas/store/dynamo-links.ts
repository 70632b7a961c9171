// What ties records together in DynamoDB: a counted item per study, and duplicate_of between copies of a file.
import {
  DeleteItemCommand,
  GetItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { TABLE } from '../config.js';
import { seriesPartition, studyPartition } from './dynamo-queries.js';
import { shardOf, type CountedIn } from './index-keys.js';
import type { SeriesSummary, StudySummary } from './queries.js';
import type { FileRecord } from './records.js';

/** Study items share the table with file records; a file id is a UUID, so these never collide. */
export const studyItemId = (studyUid: string): string => `STUDY#${studyUid}`;
export const seriesItemId = (seriesUid: string): string => `SERIES#${seriesUid}`;
/** How many stored files hold one SOP Instance UID of a series (a file uploaded twice is one instance). */
export const instanceItemId = (seriesUid: string, sopUid: string): string => `SOP#${seriesUid}#${sopUid}`;

/** The QIDO-RS attributes of one level from a record's `dicomweb` JSON text, as JSON text (undefined if none). */
function levelJson(record: FileRecord | undefined, level: 'study' | 'series'): string | undefined {
  if (!record?.dicomweb) return undefined;
  try {
    const parsed = JSON.parse(record.dicomweb) as Record<string, unknown>;
    return parsed[level] ? JSON.stringify(parsed[level]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A study's series in series-number order although the index is read newest (highest key) first: the key
 * counts down from 2,000,000,000 - SeriesNumber; a series without a number sorts last.
 */
export function seriesSortKey(seriesNumber: number | undefined, seriesUid: string): string {
  const rank = seriesNumber === undefined ? 0 : Math.min(Math.max(2_000_000_000 - seriesNumber, 1), 4_000_000_000);
  return `${String(rank).padStart(10, '0')}#${seriesUid}`;
}

function seriesNumberOf(record: FileRecord | undefined): number | undefined {
  const json = levelJson(record, 'series');
  if (!json) return undefined;
  const value = (JSON.parse(json) as Record<string, { Value?: unknown[] }>)['00200011']?.Value?.[0];
  return typeof value === 'number' && Number.isInteger(value) ? value : undefined;
}

/** One counter per modality (`modality_count_CT`): a set could not be decremented when a file goes. */
const MODALITY_COUNT_PREFIX = 'modality_count_';

/** Copies of one file worth looking at: beyond this, duplicate_of lists the first ones only. */
const MAX_DUPLICATES = 100;

export function isConditionFailure(error: unknown): boolean {
  return (error as { name?: string }).name === 'ConditionalCheckFailedException';
}

/** Removes a counter item whose `field` is `most` or less; true when it did (one that counted up meanwhile stays). */
async function deleteIfAtMost(
  client: DynamoDBClient,
  tableName: string,
  key: Record<string, AttributeValue>,
  field: string,
  most: number,
): Promise<boolean> {
  try {
    await client.send(
      new DeleteItemCommand({
        TableName: tableName,
        Key: key,
        ConditionExpression: '#count <= :most',
        ExpressionAttributeNames: { '#count': field },
        ExpressionAttributeValues: marshall({ ':most': most }),
      }),
    );
    return true;
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
    return false;
  }
}

/** Removes a counter item whose `field` is 0 or less; one that counted up again meanwhile stays. */
async function deleteIfZero(
  client: DynamoDBClient,
  tableName: string,
  key: Record<string, AttributeValue>,
  field: string,
): Promise<void> {
  await deleteIfAtMost(client, tableName, key, field, 0);
}

/** Sorts studies by date, newest first; a study without a date sorts last. */
function studySort(studyDate: string | null, studyUid: string): string {
  return `${studyDate ?? '00000000'}#${studyUid}`;
}

/**
 * Counts a file in (+1) or out of (-1) its study with single-item atomic updates (ADD), as DynamoDB
 * has no transactions locally. Callers guarantee each file is counted once: the file item's
 * `study_counted` changes atomically first, and only the writer that changed it adjusts the count.
 */
export async function adjustStudy(
  client: DynamoDBClient,
  tableName: string,
  delta: 1 | -1,
  study: { studyUid: string; modality: string | null },
  record?: FileRecord,
): Promise<void> {
  const now = new Date().toISOString();
  const names: Record<string, string> = { '#count': 'instance_count', '#modified': 'modified_at' };
  const values: Record<string, unknown> = { ':delta': delta, ':now': now };
  const sets = ['#modified = :now'];
  const adds = ['#count :delta'];
  if (study.modality) {
    names['#modality'] = `${MODALITY_COUNT_PREFIX}${study.modality}`;
    adds.push('#modality :delta');
  }
  const key = marshall({ [TABLE.partitionKey]: studyItemId(study.studyUid) });
  if (delta > 0) {
    const studyJson = levelJson(record, 'study');
    const describe: Record<string, string | null> = {
      ...(studyJson ? { study_json: studyJson } : {}),
      kind: 'study',
      study_instance_uid: study.studyUid,
      [TABLE.indexes.studiesByDate.partitionKey]: studyPartition(shardOf(study.studyUid)),
    };
    const firstSeen: Record<string, string | null> = {
      [TABLE.indexes.studiesByDate.sortKey]: studySort(record?.study_date ?? null, study.studyUid),
      created_at: now,
      patient_id: record?.patient_id ?? null,
      patient_name: record?.dicom_info.PatientName ?? null,
      study_date: record?.study_date ?? null,
      study_description: record?.dicom_info.StudyDescription ?? null,
    };
    let i = 0;
    for (const [field, value] of Object.entries(describe)) {
      names[`#d${i}`] = field;
      values[`:d${i}`] = value;
      sets.push(`#d${i} = :d${i}`);
      i++;
    }
    // The first file describes the study; a null is left unset (patient_id keys an index).
    for (const [field, value] of Object.entries(firstSeen)) {
      if (value === null) continue;
      names[`#d${i}`] = field;
      values[`:d${i}`] = value;
      sets.push(`#d${i} = if_not_exists(#d${i}, :d${i})`);
      i++;
    }
    const response = await client.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: key,
        UpdateExpression: `SET ${sets.join(', ')} ADD ${adds.join(', ')}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: marshall(values),
        ReturnValues: 'ALL_NEW',
      }),
    );
    await sortByLateDate(client, tableName, key, response.Attributes);
    return;
  }
  names['#id'] = TABLE.partitionKey;
  let remaining: number | undefined;
  try {
    const response = await client.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: key,
        UpdateExpression: `SET ${sets.join(', ')} ADD ${adds.join(', ')}`,
        // A study item that is gone stays gone: never a negative count out of nothing.
        ConditionExpression: 'attribute_exists(#id)',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: marshall(values),
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    remaining = response.Attributes?.instance_count?.N ? Number(response.Attributes.instance_count.N) : undefined;
  } catch (error) {
    if (isConditionFailure(error)) return;
    throw error;
  }
  // Only if no file was counted in meanwhile.
  if (remaining !== undefined && remaining <= 0) await deleteIfZero(client, tableName, key, 'instance_count');
}

/**
 * A study first seen through a file without a study date sorts last; when a later file brings the
 * date, the sort key follows it (conditional: only if nobody moved it meanwhile).
 */
async function sortByLateDate(
  client: DynamoDBClient,
  tableName: string,
  key: Record<string, AttributeValue>,
  item: Record<string, AttributeValue> | undefined,
): Promise<void> {
  const sortKey = TABLE.indexes.studiesByDate.sortKey;
  const current = item?.[sortKey]?.S;
  const studyDate = item?.study_date?.S;
  const studyUid = item?.study_instance_uid?.S;
  if (!current || !studyDate || !studyUid || current !== studySort(null, studyUid)) return;
  try {
    await client.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: key,
        UpdateExpression: 'SET #sort = :sort',
        ConditionExpression: '#sort = :undated',
        ExpressionAttributeNames: { '#sort': sortKey },
        ExpressionAttributeValues: { ':sort': { S: studySort(studyDate, studyUid) }, ':undated': { S: current } },
      }),
    );
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
  }
}

/**
 * Counts a file in (+1) or out of (-1) its series, as adjustStudy does for studies (alongside the study's own count:
 * `studyCounted` is the study's +1, which the study's number of series waits for). The study's number of series moves
 * exactly when a series' count goes 0 -> 1 or 1 -> 0; a series item is removed only while its count is 0.
 */
export async function adjustSeries(
  client: DynamoDBClient,
  tableName: string,
  delta: 1 | -1,
  counted: CountedIn,
  record?: FileRecord,
  studyCounted: Promise<unknown> = Promise.resolve(),
): Promise<void> {
  const seriesUid = counted.seriesUid;
  if (!seriesUid) return;
  const key = marshall({ [TABLE.partitionKey]: seriesItemId(seriesUid) });
  const now = new Date().toISOString();
  const I = TABLE.indexes;
  let count: number | undefined;
  if (delta > 0) {
    const seriesJson = levelJson(record, 'series');
    const names: Record<string, string> = {
      '#count': 'instance_count',
      '#modified': 'modified_at',
      '#kind': 'kind',
      '#uid': 'series_instance_uid',
      '#study': I.seriesByStudy.partitionKey,
      '#sort': I.seriesByStudy.sortKey,
      '#shard': I.seriesByCreated.partitionKey,
      '#createdKey': I.seriesByCreated.sortKey,
      '#created': 'created_at',
    };
    const values: Record<string, unknown> = {
      ':one': 1,
      ':now': now,
      ':kind': 'series',
      ':uid': seriesUid,
      ':study': counted.studyUid,
      ':sort': seriesSortKey(seriesNumberOf(record), seriesUid),
      ':shard': seriesPartition(shardOf(seriesUid)),
      ':createdKey': `${now}#${seriesUid}`,
    };
    const sets = [
      '#modified = :now',
      '#kind = :kind',
      '#uid = :uid',
      '#study = :study',
      '#sort = :sort',
      '#shard = :shard',
      '#createdKey = if_not_exists(#createdKey, :createdKey)',
      '#created = if_not_exists(#created, :now)',
    ];
    if (counted.modality) {
      names['#modality'] = 'modality';
      values[':modality'] = counted.modality;
      sets.push('#modality = :modality');
    }
    if (seriesJson) {
      names['#json'] = 'series_json';
      values[':json'] = seriesJson;
      sets.push('#json = :json');
    }
    const response = await client.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: key,
        UpdateExpression: `SET ${sets.join(', ')} ADD #count :one`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: marshall(values),
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    count = Number(response.Attributes?.instance_count?.N ?? NaN);
    if (count !== 1) return;
    // The study's number of series counts up on its item, which its own +1 (made alongside) may be creating.
    await studyCounted.catch(() => undefined);
    await adjustSeriesCount(client, tableName, counted.studyUid, 1);
    return;
  }
  try {
    const response = await client.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: key,
        UpdateExpression: 'SET #modified = :now ADD #count :minus',
        ConditionExpression: 'attribute_exists(#id)',
        ExpressionAttributeNames: { '#count': 'instance_count', '#modified': 'modified_at', '#id': TABLE.partitionKey },
        ExpressionAttributeValues: marshall({ ':now': now, ':minus': -1 }),
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    count = Number(response.Attributes?.instance_count?.N ?? NaN);
  } catch (error) {
    if (isConditionFailure(error)) return;
    throw error;
  }
  if (count !== 0) return;
  await adjustSeriesCount(client, tableName, counted.studyUid, -1);
  await deleteIfZero(client, tableName, key, 'instance_count');
}

/**
 * Counts a file in (+1) or out of (-1) the copies of its SOP Instance UID; true when that changes whether the
 * instance exists (0 -> 1 or 1 -> 0), i.e. when its series and study counts must move. A record counted before
 * instances were (no item to count out of) moves them as it always did.
 */
export async function adjustInstanceCopies(
  client: DynamoDBClient,
  tableName: string,
  delta: 1 | -1,
  counted: CountedIn,
): Promise<boolean> {
  if (!counted.seriesUid || !counted.sopUid) return true;
  const key = marshall({ [TABLE.partitionKey]: instanceItemId(counted.seriesUid, counted.sopUid) });
  // Most instances have one copy: its item goes in one conditional delete. Two or more copies (or no item, a record
  // counted before instances were) fail the condition and are counted down below, as before.
  if (delta < 0 && (await deleteIfAtMost(client, tableName, key, 'copies', 1))) return true;
  let copies: number;
  try {
    const response = await client.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: key,
        UpdateExpression: 'ADD #copies :delta',
        ...(delta < 0 ? { ConditionExpression: 'attribute_exists(#id)' } : {}),
        ExpressionAttributeNames: { '#copies': 'copies', ...(delta < 0 ? { '#id': TABLE.partitionKey } : {}) },
        ExpressionAttributeValues: marshall({ ':delta': delta }),
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    copies = Number(response.Attributes?.copies?.N ?? NaN);
  } catch (error) {
    if (delta < 0 && isConditionFailure(error)) return true;
    throw error;
  }
  if (delta > 0) return copies === 1;
  if (copies !== 0) return false;
  await deleteIfZero(client, tableName, key, 'copies');
  return true;
}

/**
 * Marks a series and its study as changed (a file of theirs was processed again): cached DICOMweb metadata of
 * either is keyed by modified_at, so it is rebuilt. Items that are gone stay gone.
 */
export async function touchSeriesAndStudy(
  client: DynamoDBClient,
  tableName: string,
  counted: CountedIn,
): Promise<void> {
  const now = new Date().toISOString();
  const ids = [studyItemId(counted.studyUid), ...(counted.seriesUid ? [seriesItemId(counted.seriesUid)] : [])];
  await Promise.all(
    ids.map(async (id) => {
      try {
        await client.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: marshall({ [TABLE.partitionKey]: id }),
            UpdateExpression: 'SET #modified = :now',
            ConditionExpression: 'attribute_exists(#id)',
            ExpressionAttributeNames: { '#modified': 'modified_at', '#id': TABLE.partitionKey },
            ExpressionAttributeValues: marshall({ ':now': now }),
          }),
        );
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
    }),
  );
}

/** The study's number of series; a study item that is gone stays gone. */
async function adjustSeriesCount(client: DynamoDBClient, tableName: string, studyUid: string, delta: 1 | -1) {
  try {
    await client.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: marshall({ [TABLE.partitionKey]: studyItemId(studyUid) }),
        UpdateExpression: 'ADD #series :delta',
        ConditionExpression: 'attribute_exists(#id)',
        ExpressionAttributeNames: { '#series': 'series_count', '#id': TABLE.partitionKey },
        ExpressionAttributeValues: marshall({ ':delta': delta }),
      }),
    );
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
  }
}

function parseDataset(text: unknown): Record<string, unknown> | undefined {
  if (typeof text !== 'string') return undefined;
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

export function toSeriesSummary(item: Record<string, AttributeValue>): SeriesSummary {
  const raw = unmarshall(item) as Record<string, unknown>;
  const text = (field: string): string | null => (typeof raw[field] === 'string' ? (raw[field] as string) : null);
  return {
    series_instance_uid: text('series_instance_uid') ?? '',
    study_instance_uid: text(TABLE.indexes.seriesByStudy.partitionKey) ?? '',
    modality: text('modality'),
    number_of_instances: typeof raw.instance_count === 'number' ? raw.instance_count : 0,
    created_at: text('created_at') ?? '',
    modified_at: text('modified_at') ?? '',
    dicomweb: (parseDataset(raw.series_json) ?? {}) as SeriesSummary['dicomweb'],
  };
}

/** One item by its id, read consistently (a count just moved must be seen), or undefined. */
export async function readItem(
  client: DynamoDBClient,
  tableName: string,
  id: string,
): Promise<Record<string, AttributeValue> | undefined> {
  const response = await client.send(
    new GetItemCommand({ TableName: tableName, Key: marshall({ [TABLE.partitionKey]: id }), ConsistentRead: true }),
  );
  return response.Item;
}

export async function getSeriesItem(
  client: DynamoDBClient,
  tableName: string,
  seriesUid: string,
): Promise<SeriesSummary | undefined> {
  const item = await readItem(client, tableName, seriesItemId(seriesUid));
  return item ? toSeriesSummary(item) : undefined;
}

export function toStudySummary(item: Record<string, AttributeValue>): StudySummary {
  const raw = unmarshall(item) as Record<string, unknown>;
  const text = (field: string): string | null => (typeof raw[field] === 'string' ? (raw[field] as string) : null);
  const modalities = Object.entries(raw)
    .filter(([field, count]) => field.startsWith(MODALITY_COUNT_PREFIX) && typeof count === 'number' && count > 0)
    .map(([field]) => field.slice(MODALITY_COUNT_PREFIX.length))
    .sort();
  return {
    study_instance_uid: text('study_instance_uid') ?? '',
    patient_id: text('patient_id'),
    patient_name: text('patient_name'),
    study_date: text('study_date'),
    study_description: text('study_description'),
    modalities_in_study: modalities,
    number_of_instances: typeof raw.instance_count === 'number' ? raw.instance_count : 0,
    number_of_series: typeof raw.series_count === 'number' ? raw.series_count : 0,
    created_at: text('created_at') ?? '',
    modified_at: text('modified_at') ?? '',
    dicomweb: (parseDataset(raw.study_json) ?? {}) as StudySummary['dicomweb'],
  };
}

export async function getStudyItem(
  client: DynamoDBClient,
  tableName: string,
  studyUid: string,
): Promise<StudySummary | undefined> {
  const item = await readItem(client, tableName, studyItemId(studyUid));
  return item ? toStudySummary(item) : undefined;
}

/**
 * Ids of the other records with the same SOP Instance UID or the same SHA-256 (one KEYS_ONLY query).
 * Identical bytes carry the same SOP Instance UID, so the hash is looked up only for a file without one.
 */
export async function findDuplicates(
  client: DynamoDBClient,
  tableName: string,
  record: Pick<FileRecord, 'id' | 'sop_instance_uid' | 'sha256'>,
): Promise<string[]> {
  const [index, value] = record.sop_instance_uid
    ? [TABLE.indexes.filesBySopInstance, record.sop_instance_uid]
    : [TABLE.indexes.filesBySha256, record.sha256];
  if (!value) return [];
  const response = await client.send(
    new QueryCommand({
      TableName: tableName,
      IndexName: index.name,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': index.partitionKey },
      ExpressionAttributeValues: { ':pk': { S: value } },
      Limit: MAX_DUPLICATES,
    }),
  );
  const ids = new Set<string>();
  for (const item of response.Items ?? []) {
    const id = item[TABLE.partitionKey]?.S;
    if (id && id !== record.id) ids.add(id);
  }
  return [...ids].sort();
}

/** Adds (or removes) ids to a record's duplicate_of string set; a record that is gone is left alone. */
export async function changeDuplicates(
  client: DynamoDBClient,
  tableName: string,
  id: string,
  action: 'ADD' | 'DELETE',
  ids: string[],
): Promise<void> {
  if (ids.length === 0) return;
  try {
    await client.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: marshall({ [TABLE.partitionKey]: id }),
        // ADD and DELETE on a set are idempotent: a repeated processor run changes nothing.
        UpdateExpression: `${action} #dups :ids`,
        ConditionExpression: 'attribute_exists(#id)',
        ExpressionAttributeNames: { '#dups': 'duplicate_of', '#id': TABLE.partitionKey },
        ExpressionAttributeValues: { ':ids': { SS: ids } },
      }),
    );
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
  }
}
