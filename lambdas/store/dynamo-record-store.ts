// RecordStore on DynamoDB: one item per file (and per study), listed page by page through GSI Queries, never a Scan.
import {
  BatchGetItemCommand,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { TABLE, type ListingIndexes } from '../config.js';
import {
  adjustInstanceCopies,
  adjustSeries,
  adjustStudy,
  changeDuplicates,
  findDuplicates,
  getSeriesItem,
  getStudyItem,
  toSeriesSummary,
  toStudySummary,
  touchSeriesAndStudy,
} from './dynamo-links.js';
import { planFileQuery, planSeriesQuery, planStudyQuery, readPage } from './dynamo-queries.js';
import { recountFromRecords } from './dynamo-recount.js';
import {
  fromFileItem,
  keyUpdates,
  parseStudyToken,
  STUDY_COUNTED,
  studyToken,
  toFileItem,
  type CountedIn,
} from './index-keys.js';
import { StorageBusy } from './errors.js';
import { withinItemSize } from './item-size.js';
import type { FileFilters, Page, PageRequest, SeriesSummary, StudyFilters, StudySummary } from './queries.js';
import {
  MAX_RECORDS_PER_READ,
  type FileRecord,
  type ProcessedResult,
  type ProcessingStatus,
  type ReceivedObject,
  type RecordStore,
} from './records.js';

const MARSHALL = { removeUndefinedValues: true, convertClassInstanceToMap: false } as const;

/** Fields that only mean something while a record is PROCESSING (or awaiting its bytes). */
const SETTLED_REMOVES = ['error', 'processing_deadline', 'upload', TABLE.ttlAttribute];

/**
 * How often a batch read asks again for keys DynamoDB left unprocessed (throttled or over its 16 MB answer), with a
 * doubling pause from 10 ms: 50 ms in all before the read gives up (a fault: the caller answers 500, the client retries).
 */
const BATCH_READ_RETRIES = 3;

/** Set while a file's study, series and instance counts are being moved; left behind by a run cut short. */
const COUNTS_PENDING = 'counts_pending';

/** The identifiers a count token names, as record fields (to recount where an earlier run counted the file). */
function previousIds(
  counted: CountedIn,
): Pick<FileRecord, 'study_instance_uid' | 'series_instance_uid' | 'sop_instance_uid' | 'modality'> {
  return {
    study_instance_uid: counted.studyUid,
    series_instance_uid: counted.seriesUid,
    sop_instance_uid: counted.sopUid,
    modality: counted.modality,
  };
}

function isConditionFailure(error: unknown): boolean {
  return (
    error instanceof ConditionalCheckFailedException ||
    (error as { name?: string }).name === 'ConditionalCheckFailedException'
  );
}

/**
 * Waits for every step, then throws the first failure: a caller that undoes on failure (the upload
 * deletes its record) must not race bookkeeping still in flight.
 */
async function allSettledOrThrow(steps: readonly unknown[]): Promise<void> {
  const failed = (await Promise.allSettled(steps)).find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
}

function toRecord(item: Record<string, AttributeValue>): FileRecord {
  return fromFileItem(unmarshall(item));
}

export class DynamoRecordStore implements RecordStore {
  /** `listing`: how the deployment projects the file listing indexes (ENV.listingIndexes; default `all`). */
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly listing: ListingIndexes = 'all',
  ) {}

  async create(given: FileRecord, alongside?: () => Promise<unknown>): Promise<void> {
    const record = withinItemSize(given);
    const token = studyToken(record);
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: marshall({ ...toFileItem(record), ...(token ? { [STUDY_COUNTED]: token } : {}) }, MARSHALL),
        ConditionExpression: 'attribute_not_exists(#id)',
        ExpressionAttributeNames: { '#id': TABLE.partitionKey },
      }),
    );
    // Duplicates are linked once, by markReady, when the file's identifiers are final (a direct upload
    // learns them only then).
    await allSettledOrThrow([
      token &&
        this.recountStudy(undefined, token, record).catch(async (error: unknown) => {
          // Counting cut short: the record says so, and the upload's undo (a delete) recounts instead of counting out.
          await this.setCountsPending(record.id, true).catch(() => undefined);
          throw error;
        }),
      alongside?.(),
    ]);
  }

  /**
   * Sets (a counting was cut short: whoever finds the record next recounts its study exactly) or clears (the counts
   * have moved) the record's COUNTS_PENDING flag; a record gone meanwhile is left alone.
   */
  private async setCountsPending(id: string, pending: boolean): Promise<void> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: marshall({ [TABLE.partitionKey]: id }),
          UpdateExpression: pending ? 'SET #pending = :true' : 'REMOVE #pending',
          ConditionExpression: 'attribute_exists(#id)',
          ExpressionAttributeNames: { '#pending': COUNTS_PENDING, '#id': TABLE.partitionKey },
          ...(pending ? { ExpressionAttributeValues: { ':true': { BOOL: true } } } : {}),
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  /**
   * Recounts the instance, series and study of a record whose bookkeeping was cut short (COUNTS_PENDING): exact
   * counts from the records themselves, then the flag goes. A retried event or a delete calls it.
   */
  async repairCounts(record: FileRecord): Promise<void> {
    const counted = parseStudyToken(studyToken(record));
    if (counted) {
      await recountFromRecords(this.client, this.tableName, (f, p) => this.listFiles(f, p), counted, record);
    }
    await this.setCountsPending(record.id, false);
  }

  /**
   * Moves a file's count from the instance, series and study it was counted in to those it is in now: counted in
   * first, then out, so a file that stays in its study (a record counted before series or instances were, now
   * gaining them) never takes the study's count through 0. Series and study count instances (SOP Instance UIDs):
   * they move only when the first copy of an instance arrives or its last copy goes.
   */
  private async recountStudy(before: unknown, after: string | undefined, record: FileRecord): Promise<void> {
    if (before === after) return;
    const next = parseStudyToken(after);
    const previous = parseStudyToken(before);
    if (next && (await adjustInstanceCopies(this.client, this.tableName, 1, next))) {
      // Study and series count side by side; the study's number of series waits for the study's item.
      const study = adjustStudy(this.client, this.tableName, 1, next, record);
      await allSettledOrThrow([study, adjustSeries(this.client, this.tableName, 1, next, record, study)]);
    }
    if (previous) await this.countOut(previous);
  }

  /**
   * Counts a file out: its instance's copies, then (when it was the last) its series and its study side by side (a
   * study item removed first leaves the series' step nothing to count down, which is then right).
   */
  private async countOut(counted: CountedIn): Promise<void> {
    if (!(await adjustInstanceCopies(this.client, this.tableName, -1, counted))) return;
    await allSettledOrThrow([
      adjustSeries(this.client, this.tableName, -1, counted),
      adjustStudy(this.client, this.tableName, -1, counted),
    ]);
  }

  /** Links a record with the copies of it already in the table (as markReady does; a table restore needs it). */
  async linkToCopies(record: Pick<FileRecord, 'id' | 'sop_instance_uid' | 'sha256'>): Promise<void> {
    await this.linkDuplicates(record.id, await findDuplicates(this.client, this.tableName, record));
  }

  /** Both copies say so: each gets the other's id in duplicate_of (set operations, so repeats are harmless). */
  private async linkDuplicates(id: string, others: string[]): Promise<void> {
    if (others.length === 0) return;
    await Promise.all([
      changeDuplicates(this.client, this.tableName, id, 'ADD', others),
      ...others.map((other) => changeDuplicates(this.client, this.tableName, other, 'ADD', [id])),
    ]);
  }

  async listFiles(filters: FileFilters, page: PageRequest): Promise<Page<FileRecord>> {
    const plan = planFileQuery(filters, new Date().toISOString(), this.listing);
    const result = await readPage(this.client, this.tableName, plan, page);
    return { ...result, items: result.items.map(toRecord) };
  }

  async listStudies(page: PageRequest, filters: StudyFilters = {}): Promise<Page<StudySummary>> {
    const result = await readPage(this.client, this.tableName, planStudyQuery(filters.study_date), page);
    return { ...result, items: result.items.map(toStudySummary) };
  }

  getStudy(studyInstanceUid: string): Promise<StudySummary | undefined> {
    return getStudyItem(this.client, this.tableName, studyInstanceUid);
  }

  async listSeries(page: PageRequest, studyInstanceUid?: string): Promise<Page<SeriesSummary>> {
    const result = await readPage(this.client, this.tableName, planSeriesQuery(studyInstanceUid), page);
    return { ...result, items: result.items.map(toSeriesSummary) };
  }

  getSeries(seriesInstanceUid: string): Promise<SeriesSummary | undefined> {
    return getSeriesItem(this.client, this.tableName, seriesInstanceUid);
  }

  async findBySopInstanceUid(sopInstanceUid: string): Promise<string[]> {
    return findDuplicates(this.client, this.tableName, { id: '', sop_instance_uid: sopInstanceUid });
  }

  async get(id: string): Promise<FileRecord | undefined> {
    const response = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: marshall({ [TABLE.partitionKey]: id }),
        ConsistentRead: true,
      }),
    );
    return response.Item ? toRecord(response.Item) : undefined;
  }

  async getMany(ids: readonly string[]): Promise<Map<string, FileRecord>> {
    const distinct = [...new Set(ids)];
    if (distinct.length > MAX_RECORDS_PER_READ) {
      throw new Error(`getMany reads at most ${MAX_RECORDS_PER_READ} records at once (asked ${distinct.length})`);
    }
    const found = new Map<string, FileRecord>();
    let keys = distinct.map((id) => marshall({ [TABLE.partitionKey]: id }));
    for (let attempt = 0; keys.length > 0; attempt++) {
      if (attempt > BATCH_READ_RETRIES) throw new StorageBusy(`BatchGetItem left ${keys.length} keys unprocessed`);
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 10 * 2 ** (attempt - 1)));
      const response = await this.client.send(
        new BatchGetItemCommand({ RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } } }),
      );
      for (const item of response.Responses?.[this.tableName] ?? []) {
        const record = toRecord(item);
        found.set(record.id, record);
      }
      keys = response.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
    }
    return found;
  }

  async list(): Promise<FileRecord[]> {
    const records: FileRecord[] = [];
    let after: string | undefined;
    do {
      const page = await this.listFiles({}, { limit: 1000, ...(after ? { after } : {}) });
      records.push(...page.items);
      after = page.next ?? undefined;
    } while (after);
    return records;
  }

  /**
   * Sets fields on an existing record only: a record deleted meanwhile must not come back. With
   * `onlyIfStatus`, only a record in that status is changed.
   */
  private async updateExisting(
    id: string,
    fields: Record<string, unknown>,
    remove: string[] = [],
    onlyIfStatus?: ProcessingStatus,
  ): Promise<boolean> {
    return (await this.updateIndexed(id, fields, remove, onlyIfStatus)) !== undefined;
  }

  /**
   * updateExisting that keeps the index keys in step with the fields (`current` gives created_at
   * when study_date changes) and returns the changed attributes' old values; undefined when the
   * condition failed.
   */
  private async updateIndexed(
    id: string,
    changes: Record<string, unknown>,
    removeFields: string[] = [],
    onlyIfStatus?: ProcessingStatus,
    current?: Pick<FileRecord, 'created_at'>,
  ): Promise<Record<string, unknown> | undefined> {
    if ('study_date' in changes && !current) throw new Error('a study_date change needs the current record');
    const keyed = keyUpdates(changes, { id, created_at: current?.created_at ?? '' });
    const fields = keyed.set;
    const remove = [...removeFields, ...keyed.remove];
    const names: Record<string, string> = { '#id': TABLE.partitionKey };
    const values: Record<string, unknown> = {};
    let condition = 'attribute_exists(#id)';
    if (onlyIfStatus) {
      names['#status'] = 'status';
      values[':onlyIfStatus'] = onlyIfStatus;
      condition += ' AND #status = :onlyIfStatus';
    }
    const sets = Object.entries(fields).map(([field, value], i) => {
      names[`#f${i}`] = field;
      values[`:v${i}`] = value;
      return `#f${i} = :v${i}`;
    });
    const removes = remove.map((field, i) => {
      names[`#r${i}`] = field;
      return `#r${i}`;
    });
    try {
      const response = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: marshall({ [TABLE.partitionKey]: id }),
          UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: marshall(values, MARSHALL),
          ReturnValues: 'UPDATED_OLD',
        }),
      );
      return response.Attributes ? unmarshall(response.Attributes) : {};
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  markReceived(id: string, received: ReceivedObject, processingDeadline: string): Promise<boolean> {
    return this.updateExisting(id, { ...received, processing_deadline: processingDeadline }, [
      'upload',
      TABLE.ttlAttribute,
    ]);
  }

  async markReady(id: string, result: ProcessedResult, known?: FileRecord): Promise<boolean> {
    const { attribute_count: _count, ...given } = result;
    const fields = withinItemSize(given);
    // The update below is conditional on the item existing, so a caller's recent copy is as good as a read.
    const current = known ?? (await this.get(id));
    if (!current) return false;
    // Which study the file counts in changes atomically with the record; the old value says whether
    // this run is the one that moves the count (a repeated event finds it already moved).
    const token = studyToken(fields);
    // Whether this run moves the file's counts (a direct upload learns its identifiers now; a reprocess may change them).
    const moving = token !== undefined && token !== studyToken(current);
    const record: FileRecord = { ...current, ...fields, status: 'READY' };
    // The copies are looked up while the record settles (one round trip less before READY) when the
    // index already holds this record's look-up key. A direct upload learns its SOP Instance UID
    // only now: its look-up must follow its own update, or two copies finishing together miss each
    // other (of two such look-ups, the later one sees the other's update).
    const indexedAlready = !fields.sop_instance_uid || current.sop_instance_uid === fields.sop_instance_uid;
    const lookUp = () => findDuplicates(this.client, this.tableName, record);
    const [old, early] = await Promise.all([
      this.updateIndexed(
        id,
        {
          ...fields,
          status: 'READY',
          modified_at: new Date().toISOString(),
          ...(token ? { [STUDY_COUNTED]: token } : {}),
          // Pending while the counts move to another study, series or instance: a retry finding it recounts.
          ...(moving ? { [COUNTS_PENDING]: true } : {}),
        },
        token ? SETTLED_REMOVES : [...SETTLED_REMOVES, STUDY_COUNTED, COUNTS_PENDING],
        undefined,
        current,
      ),
      indexedAlready ? lookUp() : undefined,
    ]);
    if (!old) return false;
    const others = early ?? (await lookUp());
    const counted = parseStudyToken(token);
    // A run cut short earlier left its counts unknown (the record says so): recount from the records, exactly.
    // Otherwise move them as the token moved. Either way the flag goes only once that succeeded.
    const counting = current.counts_pending
      ? (async () => {
          const previous = parseStudyToken(old[STUDY_COUNTED]);
          if (previous && old[STUDY_COUNTED] !== token)
            await this.repairCounts({ ...record, ...previousIds(previous) });
          await this.repairCounts(record);
        })()
      : this.recountStudy(old[STUDY_COUNTED], token, record).then(() =>
          moving ? this.setCountsPending(id, false) : undefined,
        );
    await allSettledOrThrow([
      counting,
      this.linkDuplicates(id, others),
      // Its metadata was made again (a reprocess): what DICOMweb kept for its series and study is stale. A first
      // processing needs no touch: an answer is kept only once none of its instances is still processing.
      old[STUDY_COUNTED] === token &&
        counted &&
        current.schema_version !== undefined &&
        touchSeriesAndStudy(this.client, this.tableName, counted),
    ]);
    return true;
  }

  markFailed(id: string, reason: string): Promise<boolean> {
    return this.settleFailed(id, reason);
  }

  failProcessing(id: string, reason: string): Promise<boolean> {
    return this.settleFailed(id, reason, 'PROCESSING');
  }

  /** FAILED with a reason; a failed file no longer counts in its study and series (a reprocess counts it again). */
  private async settleFailed(id: string, reason: string, onlyIfStatus?: ProcessingStatus): Promise<boolean> {
    const old = await this.updateIndexed(
      id,
      { status: 'FAILED', error: reason, modified_at: new Date().toISOString() },
      [...SETTLED_REMOVES.filter((field) => field !== 'error'), STUDY_COUNTED, COUNTS_PENDING],
      onlyIfStatus,
    );
    if (!old) return false;
    const counted = parseStudyToken(old[STUDY_COUNTED]);
    if (!counted) return true;
    // Counted out by one, unless an earlier run's counting was cut short: then recounted from the records.
    if (old[COUNTS_PENDING]) {
      const failed = await this.get(id);
      if (failed) {
        await recountFromRecords(this.client, this.tableName, (f, p) => this.listFiles(f, p), counted, failed);
      }
    } else await this.countOut(counted);
    return true;
  }

  markReprocessing(id: string, processingDeadline: string): Promise<boolean> {
    return this.updateExisting(
      id,
      { status: 'PROCESSING', processing_deadline: processingDeadline, modified_at: new Date().toISOString() },
      ['error'],
    );
  }

  async delete(id: string, alongside?: () => Promise<unknown>): Promise<boolean> {
    let old: Record<string, unknown>;
    try {
      const response = await this.client.send(
        new DeleteItemCommand({
          TableName: this.tableName,
          Key: marshall({ [TABLE.partitionKey]: id }),
          ConditionExpression: 'attribute_exists(#id)',
          ExpressionAttributeNames: { '#id': TABLE.partitionKey },
          ReturnValues: 'ALL_OLD',
        }),
      );
      old = response.Attributes ? unmarshall(response.Attributes) : {};
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
    // Only the caller whose delete removed the item gets it back: it alone counts the file out. A record whose
    // counting was cut short (COUNTS_PENDING) cannot be counted out by one: its study is recounted instead.
    const study = parseStudyToken(old[STUDY_COUNTED]);
    const removed = fromFileItem(old);
    const duplicates = removed.duplicate_of;
    await allSettledOrThrow([
      study &&
        (old[COUNTS_PENDING]
          ? recountFromRecords(this.client, this.tableName, (f, p) => this.listFiles(f, p), study, removed)
          : this.countOut(study)),
      ...(duplicates ?? []).map((other) => changeDuplicates(this.client, this.tableName, other, 'DELETE', [id])),
      alongside?.(),
    ]);
    return true;
  }
}
