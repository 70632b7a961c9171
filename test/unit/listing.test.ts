// Paging internals: sealed cursors, filter parsing, which index serves which filters, and the sharded merge.
import type { AttributeValue, DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENV, TABLE } from '../../lambdas/config.js';
import { CURSOR_MAX_AGE_SECONDS, openCursor, queryFingerprint, sealCursor } from '../../lambdas/http/cursor.js';
import { HttpError } from '../../lambdas/http/errors.js';
import { parseStudyDate } from '../../lambdas/http/listing.js';
import { planFileQuery, readPage, type QueryPlan } from '../../lambdas/store/dynamo-queries.js';
import { derivedKeys, keyUpdates, shardOf } from '../../lambdas/store/index-keys.js';
import { MAX_EXAMINED_PER_PAGE, type FileFilters } from '../../lambdas/store/queries.js';

const SECRET = 'unit-test-cursor-secret-0123456789abcdef';
let saved: string | undefined;
beforeAll(() => {
  saved = process.env[ENV.cursorSecret];
  process.env[ENV.cursorSecret] = SECRET;
});
afterAll(() => {
  if (saved === undefined) delete process.env[ENV.cursorSecret];
  else process.env[ENV.cursorSecret] = saved;
});

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof HttpError) return error.code;
    throw error;
  }
  return undefined;
}

describe('cursors', () => {
  const fingerprint = queryFingerprint('files', { modality: 'CT' });
  const position = 'x:2024-01-01T00:00:00.000Z#5efb7e40-5880-4a82-88c3-b52644c4f703';

  it('round-trips the position for the same query', () => {
    expect(openCursor(sealCursor(position, fingerprint), fingerprint)).toBe(position);
  });

  it('any altered character is refused (authenticated encryption)', () => {
    const cursor = sealCursor(position, fingerprint);
    for (let i = 0; i < cursor.length; i += 7) {
      const altered = `${cursor.slice(0, i)}${cursor[i] === 'A' ? 'B' : 'A'}${cursor.slice(i + 1)}`;
      expect(
        codeOf(() => openCursor(altered, fingerprint)),
        `at ${i}`,
      ).toBe('INVALID_CURSOR');
    }
    expect(codeOf(() => openCursor(cursor.slice(0, 30), fingerprint))).toBe('INVALID_CURSOR');
  });

  it('a cursor sealed under another deployment secret is refused', () => {
    const cursor = sealCursor(position, fingerprint);
    process.env[ENV.cursorSecret] = `${SECRET}-rotated`;
    try {
      expect(codeOf(() => openCursor(cursor, fingerprint))).toBe('INVALID_CURSOR');
    } finally {
      process.env[ENV.cursorSecret] = SECRET;
    }
  });

  it('belongs to its filters (the same filters in any order match) and expires after a day', () => {
    const cursor = sealCursor(position, queryFingerprint('files', { modality: 'CT', patient_id: 'P1' }));
    expect(openCursor(cursor, queryFingerprint('files', { patient_id: 'P1', modality: 'CT' }))).toBe(position);
    expect(codeOf(() => openCursor(cursor, queryFingerprint('files', { modality: 'CT' })))).toBe('CURSOR_MISMATCH');
    expect(codeOf(() => openCursor(cursor, queryFingerprint('studies', {})))).toBe('CURSOR_MISMATCH');
    const old = sealCursor(position, fingerprint, Date.now() - (CURSOR_MAX_AGE_SECONDS + 60) * 1000);
    expect(codeOf(() => openCursor(old, fingerprint))).toBe('CURSOR_EXPIRED');
  });

  it('without a configured secret it is a server bug, not a client error', () => {
    delete process.env[ENV.cursorSecret];
    try {
      expect(() => sealCursor(position, fingerprint)).toThrow(/CURSOR_SECRET/);
    } finally {
      process.env[ENV.cursorSecret] = SECRET;
    }
  });
});

describe('study_date', () => {
  it.each([
    ['20231215', { from: '20231215', to: '20231215' }],
    ['20230101-20231231', { from: '20230101', to: '20231231' }],
    ['20230101-', { from: '20230101', to: null }],
    ['-20231231', { from: null, to: '20231231' }],
    ['20240229', { from: '20240229', to: '20240229' }],
  ])('%s', (text, range) => {
    expect(parseStudyDate(text)).toEqual(range);
  });

  it.each(['2023-12-15', '20231315', '20230229', '20231301-20231302', '20231231-20230101', '-', '', '2023121'])(
    '%s is refused naming study_date',
    (text) => {
      expect(() => parseStudyDate(text)).toThrow(/study_date/);
    },
  );
});

describe('which index serves which filters', () => {
  const NOW = '2026-01-01T00:00:00.000Z';
  const cases: [FileFilters, string, number, boolean][] = [
    // filters, index, streams, FilterExpression on the rest
    [{}, 'files-by-created', TABLE.shards, false],
    [{ study_date: { from: '20230101', to: '20231231' } }, 'files-by-date', TABLE.shards, false],
    [{ modality: 'CT' }, 'files-by-modality', TABLE.shards, false],
    [{ modality: 'CT', study_date: { from: '20230101', to: null } }, 'files-by-modality-date', TABLE.shards, false],
    [{ status: 'PROCESSING' }, 'files-by-status', TABLE.shards, true],
    [{ status: 'FAILED' }, 'files-by-status', 2 * TABLE.shards, false],
    [{ status: 'FAILED', study_date: { from: null, to: '20231231' } }, 'files-by-status-date', 2 * TABLE.shards, false],
    [{ status: 'READY', modality: 'MR' }, 'files-by-modality', TABLE.shards, true],
    [{ patient_id: 'P1' }, 'files-by-patient', 1, false],
    [{ patient_id: 'P1', study_date: { from: '20230101', to: '20230101' } }, 'files-by-patient-date', 1, false],
    [{ patient_id: 'P1', modality: 'CT' }, 'files-by-patient', 1, true],
    [{ study_uid: '1.2', patient_id: 'P1', modality: 'CT' }, 'files-by-study', 1, true],
    [{ series_uid: '1.2.3', study_uid: '1.2', status: 'READY' }, 'files-by-series', 1, true],
  ];

  it.each(cases)('%j -> %s', (filters, index, streams, filtered) => {
    const plan = planFileQuery(filters, NOW);
    expect(plan.index).toBe(index);
    expect(plan.streams).toHaveLength(streams);
    expect(
      plan.streams.some((s) => s.filter),
      'rest as FilterExpression',
    ).toBe(filtered || plan.streams.some((s) => s.partition.startsWith('PROCESSING#')));
  });

  it('a date range is a key condition on the date-ordered index, not a filter', () => {
    const [stream] = planFileQuery({ modality: 'CT', study_date: { from: '20230101', to: '20230131' } }, NOW).streams;
    expect(stream).toMatchObject({ lo: '20230101', hi: '20230131#~' });
    expect(stream!.filter).toBeUndefined();
  });
});

describe('index keys', () => {
  const record = {
    id: '5efb7e40-5880-4a82-88c3-b52644c4f703',
    created_at: '2025-01-26T15:06:35.474Z',
    status: 'PROCESSING' as const,
    modality: 'CT',
    study_date: '20231215',
  };

  it('derives sharded partitions and unique, ordered sort keys', () => {
    const shard = shardOf(record.id);
    expect(derivedKeys(record)).toEqual({
      all_shard: `FILE#${shard}`,
      created_key: `${record.created_at}#${record.id}`,
      date_key: `20231215#${record.created_at}#${record.id}`,
      modality_shard: `CT#${shard}`,
      status_shard: `PROCESSING#${shard}`,
    });
    // READY records leave the sparse status index; a missing date or modality leaves those indexes.
    expect(derivedKeys({ ...record, status: 'READY', modality: null, study_date: null })).toEqual({
      all_shard: `FILE#${shard}`,
      created_key: `${record.created_at}#${record.id}`,
    });
  });

  it('an update removes null key fields and recomputes the keys that depend on changed fields', () => {
    expect(keyUpdates({ status: 'READY', patient_id: null, modality: 'MR', study_date: '20240101' }, record)).toEqual({
      set: {
        status: 'READY',
        modality: 'MR',
        study_date: '20240101',
        modality_shard: `MR#${shardOf(record.id)}`,
        date_key: `20240101#${record.created_at}#${record.id}`,
      },
      remove: ['patient_id', 'status_shard'],
    });
  });

  it('spreads ids evenly over the shards', () => {
    const counts = new Array<number>(TABLE.shards).fill(0);
    for (let i = 0; i < 4000; i++) counts[shardOf(`00000000-0000-4000-8000-${String(i).padStart(12, '0')}`)]!++;
    for (const count of counts) expect(count).toBeGreaterThan((4000 / TABLE.shards) * 0.85);
  });
});

/** Index partitions in memory, answering Query the way DynamoDB does (Limit before filter, LastEvaluatedKey). */
class FakeIndex {
  queries = 0;
  constructor(private readonly partitions: Map<string, { sk: string; match: boolean }[]>) {}

  send(command: QueryCommand): Promise<unknown> {
    this.queries++;
    const input = command.input;
    const values = input.ExpressionAttributeValues!;
    const lo = values[':lo']?.S;
    const hi = values[':hi']?.S;
    const start = input.ExclusiveStartKey?.sk?.S;
    const items = (this.partitions.get(values[':pk']!.S!) ?? [])
      .filter((i) => (lo === undefined || i.sk >= lo) && (hi === undefined || i.sk <= hi))
      .filter((i) => start === undefined || i.sk < start)
      .sort((a, b) => (a.sk < b.sk ? 1 : -1));
    const evaluated = items.slice(0, input.Limit);
    const kept = evaluated.filter((i) => !input.FilterExpression || i.match);
    const last = evaluated[evaluated.length - 1];
    return Promise.resolve({
      // An ALL index: the whole item (keys and the rest).
      Items: kept.map(
        (i) => ({ sk: { S: i.sk }, id: { S: i.sk }, status: { S: 'READY' } }) as Record<string, AttributeValue>,
      ),
      ScannedCount: evaluated.length,
      ...(evaluated.length === input.Limit && last
        ? { LastEvaluatedKey: { sk: { S: last.sk }, id: { S: last.sk } } }
        : {}),
      ConsumedCapacity: { CapacityUnits: evaluated.length / 10 },
    });
  }
}

describe('the sharded merge', () => {
  const index = { name: 'fake', partitionKey: 'pk', sortKey: 'sk', projection: 'ALL' } as const;
  const key = (n: number): string =>
    `2024-01-01T00:00:00.000Z#${String(n).padStart(8, '0')}-0000-4000-8000-000000000000`;

  function setup(sizes: number[], matchEvery: number): { fake: FakeIndex; plan: QueryPlan; matching: string[] } {
    const partitions = new Map<string, { sk: string; match: boolean }[]>();
    const matching: string[] = [];
    let n = 0;
    sizes.forEach((size, shard) => {
      const items = Array.from({ length: size }, () => {
        n++;
        const match = n % matchEvery === 0;
        if (match) matching.push(key(n));
        return { sk: key(n), match };
      });
      partitions.set(`S#${shard}`, items);
    });
    const filter = matchEvery > 1 ? { expression: 'match', names: {}, values: {}, test: () => true } : undefined;
    const plan: QueryPlan = {
      index: 'fake',
      streams: sizes.map((_, shard) => ({ index, partition: `S#${shard}`, ...(filter ? { filter } : {}) })),
      keyPattern: /^2024-01-01T00:00:00\.000Z#\d{8}-0000-4000-8000-000000000000$/,
    };
    return { fake: new FakeIndex(partitions), plan, matching: matching.sort().reverse() };
  }

  async function pageAll(fake: FakeIndex, plan: QueryPlan, limit: number) {
    const ids: string[] = [];
    const pages: { count: number; examined: number }[] = [];
    let after: string | undefined;
    do {
      const page = await readPage(fake as unknown as DynamoDBClient, 't', plan, { limit, ...(after ? { after } : {}) });
      ids.push(...page.items.map((i) => i.sk!.S!));
      pages.push({ count: page.items.length, examined: page.examined });
      after = page.next ?? undefined;
      expect(pages.length).toBeLessThan(10_000);
    } while (after);
    return { ids, pages };
  }

  it('merges uneven shards newest first, reading about one page plus a little per shard', async () => {
    const { fake, plan, matching } = setup([900, 0, 1400, 700], 1);
    const { ids, pages } = await pageAll(fake, plan, 100);
    expect(ids).toEqual(matching);
    expect(pages.slice(0, -1).every((p) => p.count === 100)).toBe(true);
    for (const page of pages) expect(page.examined).toBeLessThanOrEqual(100 + 4 * 30);
  });

  it('a sparse filter over big shards: every page stays within the read budget, the pages still add up exactly', async () => {
    const { fake, plan, matching } = setup([9000, 7000, 8000, 6000], 173);
    const { ids, pages } = await pageAll(fake, plan, 50);
    expect(ids).toEqual(matching);
    for (const page of pages) expect(page.examined).toBeLessThanOrEqual(MAX_EXAMINED_PER_PAGE + 1001);
    expect(pages.some((p) => p.count < 50 && p !== pages[pages.length - 1])).toBe(true);
  });

  it('a position that belongs to another order is refused', async () => {
    const { fake, plan } = setup([10], 1);
    await expect(
      readPage(fake as unknown as DynamoDBClient, 't', plan, { limit: 5, after: 'x:20231215#1.2.3' }),
    ).rejects.toThrow(/cursor/);
  });
});
