// The cost model (npm run cost): its arithmetic on a tiny synthetic case, DynamoDB's write-unit rules, the settings it
// reads from the synthesized stack, and the measurement of the real code on the local runtime.
import { describe, expect, it } from 'vitest';
import { tableIndexes } from '../../lambdas/config.js';
import { PROCESSOR } from '../../lambdas/routes.js';
import { DEFAULT_API_LIMITS } from '../../lib/constructs/api.js';
import { DEFAULT_ARCHIVE_AFTER_DAYS } from '../../lib/constructs/storage.js';
import { itemSize, writeUnits, type TableShape, type WireItem } from '../../scripts/cost/dynamo-units.js';
import { measure } from '../../scripts/cost/measure.js';
import { ASSUMPTIONS, computeBill, lambdaMs, type MeasuredCosts, type Workload } from '../../scripts/cost/model.js';
import { loadPrices } from '../../scripts/cost/prices.js';
import { readStackSettings, type StackSettings } from '../../scripts/cost/stack-settings.js';

const prices = loadPrices();
const MONTH = ASSUMPTIONS.daysPerMonth;
const GB = 1024 ** 3;

/** A string attribute of `bytes` bytes. */
const text = (bytes: number) => ({ S: 'x'.repeat(bytes) });

const TABLE: TableShape = {
  partitionKey: 'id',
  indexes: [
    { name: 'by-a', partitionKey: 'a', sortKey: 'k', projection: 'ALL' },
    { name: 'by-b', partitionKey: 'b', sortKey: 'k', projection: 'KEYS_ONLY' },
    { name: 'by-c', partitionKey: 'c', sortKey: 'k', projection: 'INCLUDE', nonKeyAttributes: ['status'] },
  ],
};

/** A 1,500-byte item in all three indexes. */
const ITEM: WireItem = {
  id: { S: 'f1' },
  a: { S: 'A' },
  b: { S: 'B' },
  c: { S: 'C' },
  k: { S: 'K' },
  status: { S: 'PROCESSING' },
};
ITEM.blob = text(1500 - itemSize(ITEM) - 'blob'.length);

const STACK: StackSettings = {
  context: {},
  auth: 'none',
  functions: {
    upload: { memoryMb: 1024, architecture: 'arm64' },
    png: { memoryMb: 1024, architecture: 'arm64' },
    processor: { memoryMb: 1769, architecture: 'arm64' },
  },
  table: TABLE,
  pointInTimeRecovery: false,
  originals: [],
  derivedStorageClass: 'STANDARD',
  fixed: { secrets: 0, alarms: 0, kmsKeys: 0 },
};

/** The stack with GET /dicom/image-urls (a 512 MB function). */
const WITH_URLS: StackSettings = {
  ...STACK,
  functions: { ...STACK.functions, imageUrls: { memoryMb: 512, architecture: 'arm64' } },
};

const quiet = { logBytes: 0, logLines: 0, readUnits: 0 };
/** One upload: a PutObject and the item's first write; processing: a GET, a PUT and a status update; a read: a GET. */
const MEASURED: MeasuredCosts = {
  uploadedBytes: 1e6,
  upload: { calls: { 'S3 PutObject': 1, 'DynamoDB PutItem': 1 }, wallMs: 10, ...quiet },
  processing: { calls: { 'S3 GetObject': 1, 'S3 PutObject': 1, 'DynamoDB UpdateItem': 1 }, wallMs: 100, ...quiet },
  png: { calls: { 'S3 GetObject': 1 }, wallMs: 5, ...quiet },
  listingPage: { calls: { 'DynamoDB Query': 4 }, wallMs: 5, ...quiet, readUnits: 2 },
  // URLs for 5 files: one batch read of their 5 records, no S3 request (presigning is local).
  imageUrls: { calls: { 'DynamoDB BatchGetItem': 1 }, wallMs: 5, ...quiet, readUnits: 5 },
  imageUrlsImages: 5,
  ingestWrites: [{ after: ITEM }, { before: ITEM, after: { ...ITEM, status: { S: 'READY' } } }],
  storedItems: [{ ...ITEM, status: { S: 'READY' } }],
  representative: { bytes: 1e6 },
  derivedBytes: { 'image.png': 100_000 },
  authorizerMs: 1,
  accessLogLineBytes: 0,
};

const WORKLOAD: Workload = { files: 1000, uploadsPerDay: 10, pngReadsPerDay: 100, avgMb: 1 };

const line = (bill: ReturnType<typeof computeBill>, item: string) => bill.lines.find((l) => l.item.startsWith(item))!;

describe('DynamoDB write units', () => {
  it('item size: UTF-8 names and strings, numbers by digits', () => {
    expect(itemSize({ name: { S: 'é' } })).toBe(4 + 2);
    expect(itemSize({ n: { N: '12345' } })).toBe(1 + 4);
    expect(itemSize({ m: { M: { a: { S: 'x' } } } })).toBe(1 + 3 + 1 + 2);
  });

  it('a new item: the table and every index it appears in, each by its own copy', () => {
    const units = writeUnits(undefined, ITEM, TABLE);
    // 1,500 bytes: two units in the table and in the ALL index; keys (and status) alone fit in one.
    expect(units).toEqual({ table: 2, indexes: { 'by-a': 2, 'by-b': 1, 'by-c': 1 } });
  });

  it('an update touches only the indexes whose copy changes; moving a key costs a delete and a put', () => {
    const ready = { ...ITEM, status: { S: 'READY' } };
    expect(writeUnits(ITEM, ready, TABLE)).toEqual({ table: 2, indexes: { 'by-a': 2, 'by-c': 1 } });
    const moved = { ...ITEM, k: { S: 'K2' } };
    expect(writeUnits(ITEM, moved, TABLE).indexes).toEqual({ 'by-a': 4, 'by-b': 2, 'by-c': 2 });
    const { c: _gone, ...leaving } = ITEM;
    expect(writeUnits(ITEM, leaving, TABLE).indexes['by-c']).toBe(1);
  });
});

describe('the bill of a tiny synthetic workload', () => {
  const bill = computeBill(WORKLOAD, STACK, MEASURED, prices);
  const uploads = 10 * MONTH;
  const reads = 100 * MONTH;

  it('API Gateway: one REST request per upload and per PNG read', () => {
    expect(bill.by_service['API Gateway']).toBeCloseTo((uploads + reads) * 3.5e-6, 9);
  });

  it('S3: originals and derived files in Standard, PUTs and GETs at their prices', () => {
    expect(line(bill, 'originals (STANDARD)').usd).toBeCloseTo(((1000 * 1e6) / GB) * 0.023, 9);
    expect(line(bill, 'derived').usd).toBeCloseTo(((1000 * 1e5) / GB) * 0.023, 9);
    expect(line(bill, 'ingest: PutObject').quantity).toBeCloseTo(uploads * 2, 6);
    expect(line(bill, 'ingest: PutObject').usd).toBeCloseTo((uploads * 2 * 0.005) / 1000, 9);
  });

  it('DynamoDB: the write units of the measured writes, at the on-demand price', () => {
    // Put: 2 + (2 + 1 + 1); status update: 2 + (2 + 1).
    expect(bill.details.write_units_per_file).toEqual({
      table: 4,
      indexes: 7,
      by_index: { 'by-a': 4, 'by-b': 1, 'by-c': 2 },
    });
    expect(line(bill, 'ingest: write units, indexes').usd).toBeCloseTo((uploads * 7 * 0.625) / 1e6, 9);
  });

  it('Lambda: GB-seconds of the measured time at the memory set, plus assumed storage latency', () => {
    const ms = lambdaMs(MEASURED.processing, STACK.functions.processor, 1e6 + 1e5);
    // 100 ms of work at a full vCPU, two S3 requests, one DynamoDB write, 1.1 MB moved at 100 MB/s.
    expect(ms).toBe(100 + 2 * ASSUMPTIONS.s3RequestMs + ASSUMPTIONS.dynamodbRequestMs + 11);
    const compute = bill.lines.find((l) => l.item.startsWith('ingest: processor compute'))!;
    expect(compute.usd).toBeCloseTo(uploads * (1769 / 1024) * (ms / 1000) * prices.lambda.gb_second.arm64!, 9);
    expect(bill.monthly_usd_total).toBeCloseTo(
      bill.lines.reduce((sum, l) => sum + l.usd, 0),
      9,
    );
  });

  it('a memory size in the input moves its Lambda line: half the memory, a half-vCPU, twice the CPU time', () => {
    const smaller = {
      ...STACK,
      functions: { ...STACK.functions, processor: { memoryMb: 884, architecture: 'arm64' } },
    } as const;
    const at884 = computeBill(WORKLOAD, smaller, MEASURED, prices).details.lambda_ms.processor;
    expect(at884).toBeGreaterThan(bill.details.lambda_ms.processor + 99);
    expect(line(computeBill(WORKLOAD, smaller, MEASURED, prices), 'ingest: processor compute').usd).not.toBeCloseTo(
      line(bill, 'ingest: processor compute').usd,
      6,
    );
  });

  it('a lifecycle to Glacier Instant Retrieval after 30 days bills the older originals there, and each move', () => {
    const archived = computeBill(
      WORKLOAD,
      { ...STACK, originals: [{ days: 30, storageClass: 'GLACIER_IR' }] },
      MEASURED,
      prices,
    );
    // 1,000 files at 10 a day span 100 days: 70% are past 30 days; 10 a day move.
    expect(archived.details.moved_share).toBeCloseTo(0.7, 9);
    expect(line(archived, 'originals (GLACIER_IR)').usd).toBeCloseTo(((700 * 1e6) / GB) * 0.004, 9);
    expect(line(archived, 'lifecycle transitions').usd).toBeCloseTo((10 * MONTH * 0.02) / 1000, 9);
    expect(line(archived, 'originals (STANDARD)').usd).toBeCloseTo(((300 * 1e6) / GB) * 0.023, 9);
  });

  it('with image URLs a PNG read is an S3 GET plus a share of one API call per 20 images', () => {
    const urls = computeBill(WORKLOAD, WITH_URLS, MEASURED, prices);
    expect(urls.details.png_reads_via).toBe('urls');
    expect(urls.details.images_per_url_call).toBe(20);
    // API Gateway: one request per upload and one per 20 reads.
    expect(urls.by_service['API Gateway']).toBeCloseTo((uploads + reads / 20) * 3.5e-6, 9);
    expect(urls.details.api_requests_per_day).toBe(10 + 100 / 20);
    // Each read: one GET of the PNG at the Standard price, and a twentieth of the call's request and batch read.
    const read = urls.details.png_read_via_urls!;
    expect(read.items.find((l) => l.item === 'GetObject (STANDARD)')!.usd).toBeCloseTo(0.0004 / 1000, 12);
    expect(read.items.find((l) => l.item === 'image-urls call: REST requests')!.usd).toBeCloseTo(3.5e-6 / 20, 12);
    // The batch read's 5 units for 5 files: one a file, so 1 unit a read.
    expect(read.items.find((l) => l.item === 'image-urls call: read units')!.quantity).toBeCloseTo(1, 9);
    expect(urls.usd_per_million_png_reads).toBeCloseTo(read.usd * 1e6, 6);
    expect(urls.usd_per_million_png_reads).toBeLessThan(urls.usd_per_million_png_reads_via_api / 4);
    // The old path's figure stays available, and is the bill's when asked for.
    expect(urls.usd_per_million_png_reads_via_api).toBeCloseTo(bill.usd_per_million_png_reads, 9);
    const api = computeBill({ ...WORKLOAD, pngReadsVia: 'api' }, WITH_URLS, MEASURED, prices);
    expect(api.monthly_usd_total).toBeCloseTo(bill.monthly_usd_total, 9);
    expect(api.monthly_usd_total).toBeGreaterThan(urls.monthly_usd_total);
  });

  it('fewer images per URL call cost more per read; without the route, urls cannot be asked for', () => {
    const perRead = (imagesPerUrlCall: number) =>
      computeBill({ ...WORKLOAD, imagesPerUrlCall }, WITH_URLS, MEASURED, prices).usd_per_million_png_reads;
    expect(perRead(1)).toBeGreaterThan(perRead(20));
    expect(perRead(20)).toBeGreaterThan(perRead(100));
    // Even at 100 a call, a read costs at least its S3 GET.
    expect(perRead(100)).toBeGreaterThan(0.4);
    expect(() => computeBill({ ...WORKLOAD, pngReadsVia: 'urls' }, STACK, MEASURED, prices)).toThrow(/image-urls/);
  });

  it('HealthImaging for the same archive: hot and archive tiers by age, one call per upload and per read', () => {
    const hot = 300 * 1e6;
    const cold = 700 * 1e6;
    expect(bill.healthimaging.storage_usd).toBeCloseTo((hot / GB) * 0.105 + (cold / GB) * 0.006, 9);
    expect(bill.healthimaging.calls_usd).toBeCloseTo(((uploads + reads) * 0.005) / 1000, 9);
  });
});

describe('settings read from the synthesized stack', () => {
  it('Lambda memory, indexes and projections, the originals lifecycle, the usage plan', async () => {
    const stack = await readStackSettings();
    expect(stack.functions.processor).toEqual({ memoryMb: PROCESSOR.memoryMb, architecture: 'arm64' });
    expect(stack.table.indexes.map((i) => [i.name, i.projection])).toEqual(
      tableIndexes().map((i) => [i.name, i.projection]),
    );
    expect(stack.originals).toEqual([{ days: DEFAULT_ARCHIVE_AFTER_DAYS, storageClass: 'GLACIER_IR' }]);
    expect(stack.usagePlan).toEqual(DEFAULT_API_LIMITS);
    expect(stack.pointInTimeRecovery).toBe(true);
    // The image-URL route is deployed, and processed images stay in Standard (the lifecycle moves originals only).
    expect(stack.functions.imageUrls?.architecture).toBe('arm64');
    expect(stack.derivedStorageClass).toBe('STANDARD');
  });

  it('follows -c flags as cdk deploy does', async () => {
    const stack = await readStackSettings({ archiveOriginals: 'off', apiQuotaPerDay: 'none', apiRateLimit: '20' });
    expect(stack.originals).toEqual([]);
    expect(stack.usagePlan).toEqual({ rateLimit: 20, burstLimit: DEFAULT_API_LIMITS.burstLimit });
    expect(stack.stageThrottle?.rateLimit).toBe(20);
  });
});

describe('measurement of the real code on the local runtime', () => {
  it(
    'counts requests, write images and stored items of a typical upload into a series',
    { timeout: 60_000 },
    async () => {
      const measured = await measure(0.02);
      expect(measured.upload.calls['S3 PutObject']).toBe(1);
      // The PNG and the JSON documents' one object (a 100 x 100 image fits the thumbnail's box: none made).
      expect(measured.processing.calls['S3 PutObject']).toBe(2);
      expect(measured.png.calls['S3 GetObject']).toBe(1);
      // Every file's image URLs in one call: one batch read of their records, and no S3 request (signing is local).
      expect(measured.imageUrls.calls).toEqual({ 'DynamoDB BatchGetItem': 1 });
      expect(measured.imageUrlsImages).toBe(5);
      expect(measured.imageUrls.readUnits).toBeGreaterThanOrEqual(5);
      // The file's record is written, then updated by the processor; its counters join it.
      const ids = measured.ingestWrites.map((w) => String((w.after ?? w.before)!.id!.S));
      expect(ids.filter((id) => /^[0-9a-f-]{36}$/.test(id)).length).toBeGreaterThanOrEqual(2);
      expect(measured.storedItems.some((item) => item.status?.S === 'READY')).toBe(true);
      expect(measured.derivedBytes['image.png']).toBeGreaterThan(0);
      // The hooks are gone: fetch and stdout are the runtime's own again.
      expect(Object.getOwnPropertyDescriptor(process.stdout, 'write')?.get).toBeUndefined();
    },
  );
});
