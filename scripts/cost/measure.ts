// What one file's life costs in requests, measured on the real code: scripts/round-trips.ts runs the local runtime
// in this process (storage requests counted at the emulators); this module also records, at the same emulators, the
// item images of every DynamoDB write (what write units are billed on), the read units of every read, the log bytes
// each operation writes, and each request's time; and it times the processor's DICOM work on a representative file.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { CallCounts } from '../../local/storage-calls.js';
import type { WireItem } from './dynamo-units.js';

const require = createRequire(import.meta.url);

/** One API request of the run and everything the emulators saw until the next one (the processor's work included). */
interface Segment {
  operation: string;
  wallMs: number;
  writes: { before?: WireItem; after?: WireItem }[];
  readUnits: number;
  logBytes: number;
  logLines: number;
}

export interface OperationMeasure {
  /** Storage requests by operation (`S3 PutObject`, `DynamoDB UpdateItem`), counted at the emulators. */
  readonly calls: CallCounts;
  /** Wall time of the request through the local runtime (ms): handler, emulated storage and HTTP. */
  readonly wallMs: number;
  /** Log bytes the handler (and, for an upload, the processor) wrote: audit and `processed` lines. */
  readonly logBytes: number;
  readonly logLines: number;
  /** DynamoDB read units (Query and GetItem, as DynamoDB bills them). */
  readonly readUnits: number;
}

export interface Measurement {
  /** The file whose upload is measured: the second slice of a phantom series (a typical upload into a series). */
  readonly uploadedBytes: number;
  readonly upload: OperationMeasure;
  readonly processing: OperationMeasure;
  readonly png: OperationMeasure;
  readonly listingPage: OperationMeasure;
  readonly qidoPage: OperationMeasure;
  /** One GET /dicom/image-urls for `imageUrlsImages` processed files: their records in one batch read, URLs signed. */
  readonly imageUrls: OperationMeasure;
  readonly imageUrlsImages: number;
  /** Every DynamoDB write of the upload and its processing: the item before and after (absent: none). */
  readonly ingestWrites: readonly { before?: WireItem; after?: WireItem }[];
  /** The items one file leaves in the table once processed (its record and its instance counter). */
  readonly storedItems: readonly WireItem[];
  /** The processor's DICOM work on the representative file (parse, attributes, PNG, thumbnail, metadata), ms (fastest run). */
  readonly processingCpuMs: number;
  /** Which file that is: a real CT of the shared corpus when present, else the phantom slice. */
  readonly representative: { readonly source: string; readonly bytes: number };
  /** What the processor derives from it (bytes): `image.png`, `thumbnail.png`, `documents.json` (both JSON documents). */
  readonly derivedBytes: Readonly<Record<string, number>>;
  /** The API key authorizer's handler, fastest of several runs, ms (it runs before every keyed request). */
  readonly authorizerMs: number;
}

interface DynaliteDb {
  updateIndexes(store: unknown, table: unknown, before: unknown, after: unknown, cb: unknown): void;
  addConsumedCapacity(data: { ConsistentRead?: boolean }, isRead: boolean, item?: unknown, old?: unknown): unknown;
  queryTable(...args: unknown[]): void;
}

/** The path of a request as an operation name (ids replaced), e.g. `GET /dicom/{id}/png`. */
function operationOf(method: string, url: string): string {
  const path = new URL(url).pathname.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '{id}');
  return `${method} ${path}`;
}

/**
 * Installs the recorders, runs `work`, removes them: every emulator event lands in the segment of the last API
 * request made (the processor's writes after an upload land in the upload's, as round-trips.ts awaits the processor
 * before the next request).
 */
async function recordSegments(work: () => Promise<void>): Promise<Segment[]> {
  const segments: Segment[] = [];
  const open = (operation: string): Segment => {
    const segment = { operation, wallMs: 0, writes: [], readUnits: 0, logBytes: 0, logLines: 0 };
    segments.push(segment);
    return segment;
  };
  let current = open('start');
  const db = require('dynalite/db') as DynaliteDb;
  const { updateIndexes, addConsumedCapacity, queryTable } = db;
  db.updateIndexes = (store, table, before, after, cb) => {
    current.writes.push({
      ...(before ? { before: structuredClone(before) as WireItem } : {}),
      ...(after ? { after: structuredClone(after) as WireItem } : {}),
    });
    updateIndexes(store, table, before, after, cb);
  };
  db.addConsumedCapacity = (data, isRead, item, old) => {
    if (isRead) {
      const { itemSize } = require('dynalite/db') as { itemSize(i: unknown): number };
      const size = item ? itemSize(item) : 0;
      current.readUnits += Math.max(1, Math.ceil(size / 4096)) * (data.ConsistentRead ? 1 : 0.5);
    }
    return addConsumedCapacity(data, isRead, item, old);
  };
  db.queryTable = (...args: unknown[]) => {
    // dynalite sums the items a query reads when asked: ask, take the figure, hand the caller what it asked for.
    const data = args[2] as { ReturnConsumedCapacity?: string };
    const asked = data.ReturnConsumedCapacity;
    data.ReturnConsumedCapacity = 'TOTAL';
    const cb = args[7] as (error: unknown, result?: { ConsumedCapacity?: { CapacityUnits: number } }) => void;
    args[7] = (error: unknown, result?: { ConsumedCapacity?: { CapacityUnits: number } }) => {
      if (result?.ConsumedCapacity) current.readUnits += result.ConsumedCapacity.CapacityUnits;
      if (result && asked === undefined) delete result.ConsumedCapacity;
      data.ReturnConsumedCapacity = asked;
      cb(error, result);
    };
    queryTable(...args);
  };

  // round-trips.ts replaces process.stdout.write with a filter that drops log lines; count them before it does.
  const stdout = process.stdout;
  const original = stdout.write;
  let inner = original;
  const counting = function (this: unknown, chunk: string | Uint8Array, ...rest: unknown[]): boolean {
    const text = String(chunk);
    for (const line of text.split('\n')) {
      if (!line.startsWith('{"level"')) continue;
      current.logBytes += Buffer.byteLength(line) + 1;
      current.logLines += 1;
    }
    return (inner as (...a: unknown[]) => boolean).call(stdout, chunk, ...rest);
  };
  Object.defineProperty(stdout, 'write', {
    configurable: true,
    get: () => (inner === original ? original : counting),
    set: (fn: typeof original) => {
      inner = fn;
    },
  });

  const fetchBefore = globalThis.fetch;
  globalThis.fetch = async (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
    const segment = open(operationOf(init?.method ?? 'GET', String(input)));
    current = segment;
    const started = performance.now();
    const response = await fetchBefore(input, init);
    segment.wallMs = performance.now() - started;
    return response;
  };

  try {
    await work();
  } finally {
    globalThis.fetch = fetchBefore;
    Object.defineProperty(stdout, 'write', { configurable: true, writable: true, value: original });
    Object.assign(db, { updateIndexes, addConsumedCapacity, queryTable });
  }
  return segments;
}

/** The fastest of several runs: on a shared machine the others measure its other work, not ours. */
const fastest = (values: number[]): number => Math.min(...values);

/** A DICOM UID under 2.25 (a UUID as a decimal): the length real UIDs have. */
const uid = (): string => `2.25.${BigInt(`0x${randomUUID().replaceAll('-', '')}`).toString()}`;

/** The shared corpus' 512 x 512 CT, when present: a real image compresses to PNG as real archives do. */
function representativeFile(phantom: Uint8Array): { source: string; bytes: Uint8Array } {
  const samples = process.env.DICOM_SAMPLES ?? join(import.meta.dirname, '..', '..', '..', 'shared', 'dicom-samples');
  const ct = join(samples, 'ct-explicit-le-window.dcm');
  if (existsSync(ct)) return { source: 'ct-explicit-le-window.dcm (shared corpus)', bytes: readFileSync(ct) };
  return { source: 'phantom slice (no shared corpus: its PNG compresses far better than a real CT)', bytes: phantom };
}

/**
 * Measures a 5-slice series of `avgMb` files (square 16-bit slices of that size): the 2nd file's upload, processing
 * and PNG read are a typical upload into an existing series and a typical read (wall times: the fastest of files 2-5).
 */
export async function measure(avgMb: number): Promise<Measurement> {
  const { measureRoundTrips } = await import('../round-trips.js');
  const { headPhantomSeries } = await import('../../test/fixtures/phantom.js');
  const { processDicom } = await import('../../lambdas/dicom/process.js');
  const { packDocuments } = await import('../../lambdas/store/derived-documents.js');
  const { handler: authorize } = await import('../../lambdas/handlers/apiKeyAuthorizer.js');

  const size = Math.max(64, Math.round(Math.sqrt((avgMb * 1e6) / 2)));
  const studyUid = uid();
  const files = headPhantomSeries({
    slices: 5,
    size,
    studyInstanceUid: studyUid,
    seriesInstanceUid: uid(),
    sopInstanceUidPrefix: uid(),
    frameOfReferenceUid: uid(),
  });

  let roundTrips: Awaited<ReturnType<typeof measureRoundTrips>> | undefined;
  const segments = await recordSegments(async () => {
    roundTrips = await measureRoundTrips(files);
  });
  const bySegment = (operation: string) => segments.filter((s) => s.operation === operation);
  const typical = 1;
  const uploads = bySegment('POST /dicom');
  const pngs = bySegment('GET /dicom/{id}/png');
  const listing = bySegment('GET /dicom')[0]!;
  const qido = bySegment('GET /dicomweb/studies')[0]!;
  const urlCalls = bySegment('GET /dicom/image-urls');
  const trips = roundTrips!;
  const file = trips.files[typical]!;
  const typicalUpload = uploads[typical]!;
  // Wall times: the fastest of the files after the first (the first also warms the code up).
  const wall = (list: Segment[]) => fastest(list.slice(1).map((s) => s.wallMs));
  const operation = (
    calls: CallCounts,
    segment: Pick<Segment, 'logBytes' | 'logLines' | 'readUnits'>,
    wallMs: number,
  ): OperationMeasure => ({
    calls,
    wallMs,
    logBytes: segment.logBytes,
    logLines: segment.logLines,
    readUnits: segment.readUnits,
  });

  // The upload's segment holds the processor's events too; its read units and logs are split by who read/logged
  // only in total (both are billed alike), so the processing operation carries none of them.
  const latest = new Map<string, WireItem>();
  for (const { after } of typicalUpload.writes) if (after) latest.set(String(after.id?.S), after);
  // Study and series items are shared by the many files of a study: left out of a file's share.
  const storedItems = [...latest].filter(([id]) => !/^(STUDY|SERIES)#/.test(id)).map(([, item]) => item);

  const { source, bytes } = representativeFile(files[typical]!);
  const cpu: number[] = [];
  let outcome: Awaited<ReturnType<typeof processDicom>> | undefined;
  for (let i = 0; i < 9; i++) {
    const started = performance.now();
    outcome = await processDicom(bytes);
    if (i > 0) cpu.push(performance.now() - started); // the first run loads codecs and warms the JIT up
  }
  const derivedBytes = {
    'image.png': outcome!.png?.length ?? 0,
    'thumbnail.png': outcome!.thumbnail?.length ?? 0,
    'documents.json': packDocuments(outcome!.metadataJson, outcome!.attributesJson).length,
  };

  const authorizer: number[] = [];
  const event = {
    type: 'REQUEST',
    methodArn: 'arn:aws:execute-api:us-east-1:123456789012:abcdef/v1/GET/dicom/x/png',
    headers: { 'x-api-key': 'k'.repeat(40) },
  } as unknown as Parameters<typeof authorize>[0];
  for (let i = 0; i < 200; i++) {
    const started = performance.now();
    await authorize(event);
    authorizer.push(performance.now() - started);
  }

  return {
    uploadedBytes: files[typical]!.length,
    upload: operation(file.upload, typicalUpload, wall(uploads)),
    processing: operation(file.processing, { logBytes: 0, logLines: 0, readUnits: 0 }, fastest(cpu)),
    png: operation(file.png, pngs[typical]!, wall(pngs)),
    listingPage: operation(trips.listing, listing, listing.wallMs),
    qidoPage: operation(trips.qido, qido, qido.wallMs),
    imageUrls: operation(trips.imageUrls, urlCalls.at(-1)!, wall(urlCalls)),
    imageUrlsImages: files.length,
    ingestWrites: typicalUpload.writes,
    storedItems,
    processingCpuMs: fastest(cpu),
    representative: { source, bytes: bytes.length },
    derivedBytes,
    authorizerMs: fastest(authorizer),
  };
}
