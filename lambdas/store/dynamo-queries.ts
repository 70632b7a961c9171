// Pages through the listing indexes: picks the index that serves a filter set, merges its shards newest first.
import { QueryCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { indexDefinitions, TABLE, type IndexDefinition, type ListingIndexes } from '../config.js';
import { withWholeItems } from './dynamo-whole-items.js';
import { InvalidPagePosition } from './errors.js';
import { allFilesPartition, modalityPartition, statusPartition } from './index-keys.js';
import { MAX_EXAMINED_PER_PAGE, MAX_PAGE_LIMIT, type FileFilters, type Page, type PageRequest } from './queries.js';

type Item = Record<string, AttributeValue>;

/**
 * A FilterExpression with its own placeholders (names `#…`, values `:…`), and the same condition as a test of a
 * whole item: a KEYS_ONLY index holds none of the attributes filtered on, so its items are filtered once fetched.
 */
export interface Filter {
  expression: string;
  names: Record<string, string>;
  values: Record<string, AttributeValue>;
  test: (item: Item) => boolean;
}

/** A string attribute of an item (undefined when absent: every comparison with it is false, as in DynamoDB). */
const textOf = (item: Item, attribute: string): string | undefined => item[attribute]?.S;

/** One index partition, optionally narrowed to a sort key range and filtered. */
export interface Stream {
  index: IndexDefinition;
  partition: string;
  /** Inclusive sort key bounds; undefined is open. */
  lo?: string;
  hi?: string;
  filter?: Filter;
}

/** The partitions one query reads: all share the index's sort order, so their merge is the answer. */
export interface QueryPlan {
  index: string;
  streams: Stream[];
  /** What a position in this order looks like (a cursor for another order is refused). */
  keyPattern: RegExp;
}

const CREATED = String.raw`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z#[0-9a-f-]{36}`;
export const KEY_PATTERNS = {
  created: new RegExp(`^${CREATED}$`),
  date: new RegExp(`^\\d{8}#${CREATED}$`),
  study: /^\d{8}#[0-9.]{1,64}$/,
} as const;

const shards = (): number[] => Array.from({ length: TABLE.shards }, (_, i) => i);

/** Builds one AND-ed FilterExpression with unique placeholders. */
class FilterBuilder {
  private readonly parts: string[] = [];
  private readonly tests: ((item: Item) => boolean)[] = [];
  readonly names: Record<string, string> = {};
  readonly values: Record<string, AttributeValue> = {};
  private count = 0;

  name(attribute: string): string {
    const placeholder = `#f${Object.keys(this.names).length}`;
    this.names[placeholder] = attribute;
    return placeholder;
  }

  value(text: string): string {
    const placeholder = `:f${this.count++}`;
    this.values[placeholder] = { S: text };
    return placeholder;
  }

  /** One condition: the expression DynamoDB evaluates and the same test of a whole item. */
  add(expression: string, test: (item: Item) => boolean): this {
    this.parts.push(expression);
    this.tests.push(test);
    return this;
  }

  equals(attribute: string, text: string): this {
    return this.add(`${this.name(attribute)} = ${this.value(text)}`, (item) => textOf(item, attribute) === text);
  }

  build(): Filter | undefined {
    if (this.parts.length === 0) return undefined;
    const tests = [...this.tests];
    return {
      expression: this.parts.map((p) => `(${p})`).join(' AND '),
      names: this.names,
      values: this.values,
      test: (item) => tests.every((test) => test(item)),
    };
  }
}

type StatusFilter = FileFilters['status'];

/**
 * Status as readers see it (records.ts withDeadlineApplied): PROCESSING past its deadline is FAILED.
 * `only` narrows a stream of PROCESSING items to those past (or not past) the deadline.
 */
function addStatus(filter: FilterBuilder, status: StatusFilter, now: string, only?: 'past' | 'current'): void {
  const deadline = (): string => filter.name('processing_deadline');
  const past = (item: Item): boolean => {
    const at = textOf(item, 'processing_deadline');
    return at !== undefined && at <= now;
  };
  const current = (item: Item): boolean => {
    const at = textOf(item, 'processing_deadline');
    return at === undefined || at > now;
  };
  const is = (item: Item, value: string): boolean => textOf(item, 'status') === value;
  if (only === 'past') {
    filter.add(`${deadline()} <= ${filter.value(now)}`, past);
    return;
  }
  if (only === 'current') {
    const name = deadline();
    filter.add(`attribute_not_exists(${name}) OR ${name} > ${filter.value(now)}`, current);
    return;
  }
  if (!status) return;
  const statusName = filter.name('status');
  if (status === 'READY') filter.add(`${statusName} = ${filter.value('READY')}`, (item) => is(item, 'READY'));
  else if (status === 'PROCESSING') {
    const name = deadline();
    filter.add(
      `${statusName} = ${filter.value('PROCESSING')} AND (attribute_not_exists(${name}) OR ${name} > ${filter.value(now)})`,
      (item) => is(item, 'PROCESSING') && current(item),
    );
  } else {
    filter.add(
      `${statusName} = ${filter.value('FAILED')} OR (${statusName} = ${filter.value('PROCESSING')} AND ${deadline()} <= ${filter.value(now)})`,
      (item) => is(item, 'FAILED') || (is(item, 'PROCESSING') && past(item)),
    );
  }
}

function addStudyDate(filter: FilterBuilder, range: FileFilters['study_date']): void {
  if (!range) return;
  const name = filter.name('study_date');
  const { from, to } = range;
  const date = (item: Item): string | undefined => textOf(item, 'study_date');
  if (from && to) {
    filter.add(`${name} BETWEEN ${filter.value(from)} AND ${filter.value(to)}`, (item) => {
      const d = date(item);
      return d !== undefined && d >= from && d <= to;
    });
  } else if (from) filter.add(`${name} >= ${filter.value(from)}`, (item) => (date(item) ?? '') >= from);
  else if (to) filter.add(`${name} <= ${filter.value(to)}`, (item) => date(item) !== undefined && date(item)! <= to);
}

/** Sort key bounds of a date-ordered index (`date_key` = study_date#created_at#id) for a study date range. */
function dateBounds(range: FileFilters['study_date']): Pick<Stream, 'lo' | 'hi'> {
  return {
    ...(range?.from ? { lo: range.from } : {}),
    ...(range?.to ? { hi: `${range.to}#~` } : {}),
  };
}

/**
 * Which index serves a filter set, and what (bounded) rest a FilterExpression checks:
 * - series_uid, study_uid, patient_id lead in that order: their partitions hold one series, study or
 *   patient, so filtering the other fields in them reads at most that many items;
 * - otherwise a status other than READY leads (its sparse index holds only files in flight or
 *   failed); READY as a rest excludes only those few;
 * - otherwise modality, then study_date, then all files; with study_date the order is newest study
 *   date first, served by the date-ordered twin of the index, the range a key condition.
 * `listing` is how the deployment projects these indexes: readPage filters a KEYS_ONLY index's items once fetched.
 */
export function planFileQuery(filters: FileFilters, now: string, listing: ListingIndexes = 'all'): QueryPlan {
  const I = indexDefinitions(listing);
  const rest = new FilterBuilder();
  const byDate = Boolean(filters.study_date);
  const single = (index: IndexDefinition, partition: string, bounds: Pick<Stream, 'lo' | 'hi'> = {}): QueryPlan => {
    const filter = rest.build();
    return {
      index: index.name,
      streams: [{ index, partition, ...bounds, ...(filter ? { filter } : {}) }],
      keyPattern: index.sortKey === I.filesByDate.sortKey ? KEY_PATTERNS.date : KEY_PATTERNS.created,
    };
  };

  if (filters.series_uid) {
    if (filters.study_uid) rest.equals('study_instance_uid', filters.study_uid);
    if (filters.patient_id) rest.equals('patient_id', filters.patient_id);
    if (filters.modality) rest.equals('modality', filters.modality);
    addStudyDate(rest, filters.study_date);
    addStatus(rest, filters.status, now);
    return single(I.filesBySeries, filters.series_uid);
  }
  if (filters.study_uid) {
    if (filters.patient_id) rest.equals('patient_id', filters.patient_id);
    if (filters.modality) rest.equals('modality', filters.modality);
    addStudyDate(rest, filters.study_date);
    addStatus(rest, filters.status, now);
    return single(I.filesByStudy, filters.study_uid);
  }
  if (filters.patient_id) {
    if (filters.modality) rest.equals('modality', filters.modality);
    addStatus(rest, filters.status, now);
    return byDate
      ? single(I.filesByPatientDate, filters.patient_id, dateBounds(filters.study_date))
      : single(I.filesByPatient, filters.patient_id);
  }

  const bounds = byDate ? dateBounds(filters.study_date) : {};
  const keyPattern = byDate ? KEY_PATTERNS.date : KEY_PATTERNS.created;
  if (filters.status && filters.status !== 'READY') {
    const index = byDate ? I.filesByStatusDate : I.filesByStatus;
    const stream = (status: 'PROCESSING' | 'FAILED', shard: number, only?: 'past' | 'current'): Stream => {
      const filter = new FilterBuilder();
      if (filters.modality) filter.equals('modality', filters.modality);
      if (only) addStatus(filter, undefined, now, only);
      const built = filter.build();
      return { index, partition: statusPartition(status, shard), ...bounds, ...(built ? { filter: built } : {}) };
    };
    const streams =
      filters.status === 'PROCESSING'
        ? shards().map((s) => stream('PROCESSING', s, 'current'))
        : [...shards().map((s) => stream('FAILED', s)), ...shards().map((s) => stream('PROCESSING', s, 'past'))];
    return { index: index.name, streams, keyPattern };
  }

  addStatus(rest, filters.status, now);
  const filter = rest.build();
  const sharded = (index: IndexDefinition, partition: (shard: number) => string): QueryPlan => ({
    index: index.name,
    streams: shards().map((s) => ({ index, partition: partition(s), ...bounds, ...(filter ? { filter } : {}) })),
    keyPattern,
  });
  const modality = filters.modality;
  if (modality) {
    return sharded(byDate ? I.filesByModalityDate : I.filesByModality, (s) => modalityPartition(modality, s));
  }
  return sharded(byDate ? I.filesByDate : I.filesByCreated, allFilesPartition);
}

/** All study rows, newest study date first. */
/**
 * Studies newest study date first (study_sort = study_date#uid); a date range is a key condition on
 * that order. A study without a date sorts as 00000000 and is in no range.
 */
export function planStudyQuery(range?: FileFilters['study_date']): QueryPlan {
  const index = TABLE.indexes.studiesByDate;
  const bounds = range ? { ...dateBounds(range), lo: range.from ?? '00000001' } : {};
  return {
    index: index.name,
    streams: shards().map((s) => ({ index, partition: studyPartition(s), ...bounds })),
    keyPattern: KEY_PATTERNS.study,
  };
}

export const studyPartition = (shard: number): string => `STUDY#${shard}`;
export const seriesPartition = (shard: number): string => `SERIES#${shard}`;

/** A study's series in series-number order (one partition), or every series newest first (the write shards). */
export function planSeriesQuery(studyUid?: string): QueryPlan {
  if (studyUid) {
    const index = TABLE.indexes.seriesByStudy;
    return {
      index: index.name,
      streams: [{ index, partition: studyUid }],
      keyPattern: /^\d{10}#[0-9.]{1,64}$/,
    };
  }
  const index = TABLE.indexes.seriesByCreated;
  return {
    index: index.name,
    streams: shards().map((s) => ({ index, partition: seriesPartition(s) })),
    keyPattern: new RegExp(`^${CREATED.replace('[0-9a-f-]{36}', '[0-9.]{1,64}')}$`),
  };
}

/** Where a page starts: after (exclusive) or at (inclusive) a sort key of the plan's order. */
interface Position {
  key: string;
  inclusive: boolean;
}

function encodePosition(position: Position): string {
  return `${position.inclusive ? 'i' : 'x'}:${position.key}`;
}

function decodePosition(text: string, plan: QueryPlan): Position {
  const key = text.slice(2);
  if (!/^[ix]:/.test(text) || !plan.keyPattern.test(key)) {
    throw new InvalidPagePosition('the cursor does not belong to this query; start again without a cursor');
  }
  return { key, inclusive: text.startsWith('i') };
}

interface StreamState {
  stream: Stream;
  /** Matching items read but not yet returned, in descending sort key order. */
  buffer: Item[];
  startKey?: Item;
  /** The lowest sort key examined so far: everything not yet read is below it. */
  frontier?: string;
  done: boolean;
  /** Items examined and kept by the filter so far: how much to read next time. */
  examined: number;
  kept: number;
}

const sortKeyOf = (item: Item, index: IndexDefinition): string => item[index.sortKey]?.S ?? '';

/**
 * One page, newest first, from every stream of the plan (a k-way merge that reads each shard lazily:
 * about limit/shards + 2 items from each). A position is a sort key, so pages neither skip nor
 * repeat items while others are inserted (new items sort above the first page). Reads stop at
 * MAX_EXAMINED_PER_PAGE items; then the page may be short, its `next` continues exactly.
 */
export async function readPage(
  client: DynamoDBClient,
  tableName: string,
  plan: QueryPlan,
  page: PageRequest,
): Promise<Page<Item>> {
  const position = page.after ? decodePosition(page.after, plan) : undefined;
  const limit = Math.min(Math.max(1, page.limit), MAX_PAGE_LIMIT);
  const states: StreamState[] = plan.streams.map((stream) => ({
    stream,
    buffer: [],
    done: false,
    examined: 0,
    kept: 0,
  }));
  const out: Item[] = [];
  let examined = 0;
  let readUnits = 0;

  async function fetch(state: StreamState, count: number): Promise<void> {
    const { index, partition } = state.stream;
    // A KEYS_ONLY index holds none of the attributes filtered on: its items are filtered once fetched whole.
    const filterLater = index.projection === 'KEYS_ONLY' ? state.stream.filter : undefined;
    const filter = filterLater ? undefined : state.stream.filter;
    let hi = state.stream.hi;
    if (position && (hi === undefined || position.key < hi)) hi = position.key;
    const lo = state.stream.lo;
    if (lo !== undefined && hi !== undefined && lo > hi) {
      state.done = true;
      return;
    }
    const names: Record<string, string> = { '#pk': index.partitionKey, ...filter?.names };
    const values: Record<string, AttributeValue> = { ':pk': { S: partition }, ...filter?.values };
    let keyCondition = '#pk = :pk';
    if (lo !== undefined || hi !== undefined) {
      names['#sk'] = index.sortKey;
      if (lo !== undefined) values[':lo'] = { S: lo };
      if (hi !== undefined) values[':hi'] = { S: hi };
      keyCondition +=
        lo !== undefined && hi !== undefined
          ? ' AND #sk BETWEEN :lo AND :hi'
          : lo !== undefined
            ? ' AND #sk >= :lo'
            : ' AND #sk <= :hi';
    }
    const response = await client.send(
      new QueryCommand({
        TableName: tableName,
        IndexName: index.name,
        KeyConditionExpression: keyCondition,
        ...(filter ? { FilterExpression: filter.expression } : {}),
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ScanIndexForward: false,
        Limit: count,
        ...(state.startKey ? { ExclusiveStartKey: state.startKey } : {}),
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    readUnits += response.ConsumedCapacity?.CapacityUnits ?? 0;
    // Index keys only (a KEYS_ONLY index): the whole items, in the index's order, those deleted meanwhile dropped.
    const whole = await withWholeItems(client, tableName, index, response.Items ?? []);
    readUnits += whole.readUnits;
    const items = filterLater ? whole.items.filter(filterLater.test) : whole.items;
    examined += response.ScannedCount ?? 0;
    state.examined += response.ScannedCount ?? 0;
    state.kept += items.length;
    for (const item of items) {
      // The key condition is inclusive; an exclusive position drops its own item.
      if (position && !position.inclusive && sortKeyOf(item, index) === position.key) continue;
      state.buffer.push(item);
    }
    state.startKey = response.LastEvaluatedKey;
    if (!state.startKey) state.done = true;
    else state.frontier = sortKeyOf(state.startKey, index);
  }

  const waiting = (): StreamState[] => states.filter((s) => !s.done && s.buffer.length === 0);
  let budgetSpent = false;

  /** Refills every drained stream that has more, until each has an item, is done, or the budget is spent. */
  async function refill(): Promise<void> {
    for (let drained = waiting(); drained.length > 0 && !budgetSpent; drained = waiting()) {
      if (examined >= MAX_EXAMINED_PER_PAGE) {
        budgetSpent = true;
        return;
      }
      const active = states.filter((s) => !s.done).length;
      const needed = limit + 1 - out.length; // one more than the page: tells whether a next page exists
      const share = Math.ceil(needed / active) + (active > 1 ? 2 : 0);
      await Promise.all(
        drained.map((s) => {
          // A filtered stream reads more next time in proportion to how little it kept so far.
          const keptShare = s.examined > 0 ? Math.max(s.kept / s.examined, 0.05) : 1;
          const count = Math.ceil(share / keptShare);
          return fetch(s, Math.max(2, Math.min(count, MAX_PAGE_LIMIT + 1, MAX_EXAMINED_PER_PAGE - examined)));
        }),
      );
    }
  }

  /** The stream whose next item is newest; with the budget spent, only if no drained stream may hold newer. */
  function newest(): StreamState | undefined {
    let best: StreamState | undefined;
    for (const state of states) {
      const head = state.buffer[0];
      if (head && (!best || sortKeyOf(head, state.stream.index) > sortKeyOf(best.buffer[0]!, best.stream.index))) {
        best = state;
      }
    }
    return best;
  }

  for (;;) {
    await refill();
    const best = newest();
    if (!best || out.length === limit) break;
    if (budgetSpent) {
      const key = sortKeyOf(best.buffer[0]!, best.stream.index);
      if (waiting().some((s) => s.frontier === undefined || s.frontier >= key)) break;
    }
    out.push(best.buffer.shift()!);
  }

  let next: Position | undefined;
  const more = states.some((s) => s.buffer.length > 0 || !s.done);
  if (more && out.length > 0) {
    // Everything above the last item returned has been returned or filtered out.
    const last = out[out.length - 1]!;
    next = { key: sortKeyOf(last, plan.streams[0]!.index), inclusive: false };
  } else if (more) {
    // Budget spent before any item was safe to return: resume at the highest unread point.
    const keys = states.flatMap((s) => [
      ...(s.buffer[0] ? [sortKeyOf(s.buffer[0], s.stream.index)] : []),
      ...(!s.done && s.frontier !== undefined ? [s.frontier] : []),
    ]);
    next = { key: keys.reduce((a, b) => (a > b ? a : b)), inclusive: true };
  }
  return { items: out, next: next ? encodePosition(next) : null, examined, readUnits, index: plan.index };
}
