// The monthly bill of a workload, from the stack's settings, the measured requests of each operation and the list
// prices: pure arithmetic, no AWS calls. Every figure it prints traces back to one of those three inputs or to an
// assumption named in ASSUMPTIONS.
import type { CallCounts } from '../../local/storage-calls.js';
import { storedBytes, writeUnits, type WireItem } from './dynamo-units.js';
import type { FunctionSettings, StackSettings } from './stack-settings.js';

/** The list prices (scripts/cost/prices.json). */
export interface Prices {
  readonly as_of: string;
  readonly region: string;
  readonly lambda: { readonly gb_second: Record<string, number>; readonly per_million_requests: number };
  readonly api_gateway: { readonly rest_per_million: number };
  readonly s3: {
    readonly storage_gb_month: Record<string, number>;
    readonly put_per_1000: number;
    readonly get_per_1000: Record<string, number>;
    readonly retrieval_per_gb: Record<string, number>;
    readonly transition_per_1000: Record<string, number>;
    readonly minimum_billable_kb: Record<string, number>;
    readonly intelligent_tiering_monitoring_per_1000_objects: number;
  };
  readonly dynamodb: {
    readonly write_per_million: number;
    readonly read_per_million: number;
    readonly storage_gb_month: number;
    readonly pitr_gb_month: number;
  };
  readonly cloudwatch: { readonly logs_ingest_gb: number; readonly alarm_month: number };
  readonly secrets_manager: { readonly secret_month: number };
  readonly kms: { readonly key_month: number };
  readonly healthimaging: {
    readonly frequent_gb_month: number;
    readonly archive_gb_month: number;
    readonly per_1000_calls: number;
  };
}

export interface Workload {
  readonly files: number;
  readonly uploadsPerDay: number;
  readonly pngReadsPerDay: number;
  /** Average file size, MB (10^6 bytes). */
  readonly avgMb: number;
  /**
   * Share of the files older than 30 days (ASSUMPTIONS.coldAfterDays). Default: as if uploads had always arrived at
   * uploadsPerDay, so the archive spans files / uploadsPerDay days.
   */
  readonly coldShare?: number;
  /**
   * How clients read PNGs: `urls` (default when the stack has GET /dicom/image-urls) straight from S3 with presigned
   * URLs, one API call per `imagesPerUrlCall` images; `api` every read through GET /dicom/{id}/png.
   */
  readonly pngReadsVia?: 'urls' | 'api';
  /** Images a client asks URLs for in one call (1-100; default DEFAULT_IMAGES_PER_URL_CALL). */
  readonly imagesPerUrlCall?: number;
}

/**
 * A page of a listing or a study's series in a viewer shows some tens of images; 20 is a modest page (the web page
 * lists 25 files a page). A client that asks for one image at a time pays the API call per image (--images-per-url-call 1).
 */
export const DEFAULT_IMAGES_PER_URL_CALL = 20;

/** What the measurement gives the model (scripts/cost/measure.ts Measurement, or a synthetic one in tests). */
export interface MeasuredOperation {
  readonly calls: CallCounts;
  readonly wallMs: number;
  readonly logBytes: number;
  readonly logLines: number;
  readonly readUnits: number;
}

export interface MeasuredCosts {
  readonly uploadedBytes: number;
  readonly upload: MeasuredOperation;
  readonly processing: MeasuredOperation;
  readonly png: MeasuredOperation;
  readonly listingPage: MeasuredOperation;
  /** One GET /dicom/image-urls call for `imageUrlsImages` files (absent: the stack has no such route to measure). */
  readonly imageUrls?: MeasuredOperation;
  readonly imageUrlsImages?: number;
  readonly ingestWrites: readonly { readonly before?: WireItem; readonly after?: WireItem }[];
  readonly storedItems: readonly WireItem[];
  readonly representative: { readonly bytes: number };
  readonly derivedBytes: Readonly<Record<string, number>>;
  readonly authorizerMs: number;
  /** One API Gateway access log line (the stage's format with typical values), bytes. */
  readonly accessLogLineBytes: number;
}

/** What the model assumes beyond code and prices: in-region latencies and log framing, stated with the output. */
export const ASSUMPTIONS = {
  /** 730 hours: AWS's month. */
  daysPerMonth: 730 / 24,
  /** Lambda gives a function one full vCPU at 1,769 MB and a proportional share below (AWS Lambda docs). */
  fullVcpuMb: 1769,
  /** Added to each measured operation per storage request it makes (in-region first byte), ms. */
  s3RequestMs: 15,
  dynamodbRequestMs: 5,
  /** S3 transfer rate within the region for one object, MB/s. */
  s3MbPerSecond: 100,
  /** Lambda's START, END and REPORT lines per invocation, bytes. */
  lambdaPlatformLogBytes: 260,
  /** CloudWatch Logs counts 26 bytes per log event besides its text. */
  logEventOverheadBytes: 26,
  /**
   * What "cold" means in --cold-share: older than 30 days (HealthImaging moves an image set to its archive tier after
   * 30 days without access; the default lifecycle moves originals at the same age).
   */
  coldAfterDays: 30,
  /** S3 lifecycle leaves objects under 128 KiB where they are (its default since September 2024). */
  lifecycleMinimumBytes: 128 * 1024,
} as const;

export type Service = 'API Gateway' | 'Lambda' | 'S3 storage' | 'S3 requests' | 'DynamoDB' | 'CloudWatch' | 'Fixed';

export interface BillLine {
  readonly service: Service;
  readonly item: string;
  readonly quantity: number;
  readonly unit: string;
  readonly usd: number;
}

export interface PerOperation {
  /** USD per operation, by bill line item. */
  readonly items: readonly BillLine[];
  readonly usd: number;
}

export interface Bill {
  readonly lines: readonly BillLine[];
  readonly monthly_usd_total: number;
  readonly usd_per_million_ingested: number;
  readonly usd_per_million_png_reads: number;
  readonly usd_per_million_png_reads_via_api: number;
  /** Absent when the stack has no GET /dicom/image-urls. */
  readonly usd_per_million_png_reads_via_urls?: number;
  readonly usd_per_million_listing_pages: number;
  readonly by_service: Readonly<Record<string, number>>;
  readonly details: {
    readonly ingest: PerOperation;
    readonly png_read: PerOperation;
    /** GET /dicom/{id}/png through API Gateway and Lambda: every read, for clients that keep using it. */
    readonly png_read_via_api: PerOperation;
    /** A read with image URLs: an S3 GET, plus a share of the GET /dicom/image-urls call (absent without the route). */
    readonly png_read_via_urls?: PerOperation;
    /** How the bill's PNG reads are made, and the images per URL call. */
    readonly png_reads_via: 'urls' | 'api';
    readonly images_per_url_call: number;
    readonly listing_page: PerOperation;
    readonly write_units_per_file: {
      readonly table: number;
      readonly indexes: number;
      readonly by_index: Record<string, number>;
    };
    readonly stored_bytes_per_file: {
      readonly s3_original: number;
      readonly s3_derived: number;
      readonly dynamodb: number;
    };
    readonly lambda_ms: {
      readonly upload: number;
      readonly processor: number;
      readonly png: number;
      /** One GET /dicom/image-urls call of images_per_url_call images. */
      readonly image_urls?: number;
    };
    /** Share of the files older than 30 days, and share of the originals the lifecycle has moved. */
    readonly cold_share: number;
    readonly moved_share: number;
    readonly api_requests_per_day: number;
  };
  readonly healthimaging: {
    readonly monthly_usd_total: number;
    readonly storage_usd: number;
    readonly calls_usd: number;
  };
  readonly capacity: readonly { readonly check: string; readonly fits: boolean; readonly detail: string }[];
}

const GB = 1024 ** 3;
const MB = 1e6;

/** Milliseconds an operation bills in Lambda: measured CPU at this memory's share of a vCPU, plus storage latency. */
export function lambdaMs(
  operation: MeasuredOperation,
  fn: FunctionSettings,
  transferBytes: number,
  assumptions = ASSUMPTIONS,
): number {
  const cpuShare = Math.min(1, fn.memoryMb / assumptions.fullVcpuMb);
  let waitMs = (transferBytes / (assumptions.s3MbPerSecond * MB)) * 1000;
  for (const [call, n] of Object.entries(operation.calls)) {
    waitMs += n * (call.startsWith('S3') ? assumptions.s3RequestMs : assumptions.dynamodbRequestMs);
  }
  return Math.max(1, Math.ceil(operation.wallMs / cpuShare + waitMs));
}

function lambdaLines(name: string, fn: FunctionSettings, ms: number, prices: Prices): BillLine[] {
  const gbSeconds = (fn.memoryMb / 1024) * (ms / 1000);
  return [
    {
      service: 'Lambda',
      item: `${name} requests`,
      quantity: 1,
      unit: 'requests',
      usd: prices.lambda.per_million_requests / 1e6,
    },
    {
      service: 'Lambda',
      item: `${name} compute (${fn.memoryMb} MB ${fn.architecture}, ${ms} ms)`,
      quantity: gbSeconds,
      unit: 'GB-s',
      usd: gbSeconds * prices.lambda.gb_second[fn.architecture]!,
    },
  ];
}

/** S3 request charges of a set of calls; GETs priced by the class the object is in. */
function s3RequestLines(calls: CallCounts, prices: Prices, getClass = 'STANDARD'): BillLine[] {
  const lines: BillLine[] = [];
  for (const [call, n] of Object.entries(calls)) {
    if (!call.startsWith('S3 ')) continue;
    const operation = call.slice(3);
    if (/^(Get|Head)Object$/.test(operation)) {
      lines.push({
        service: 'S3 requests',
        item: `${operation} (${getClass})`,
        quantity: n,
        unit: 'requests',
        usd: (n * prices.s3.get_per_1000[getClass]!) / 1000,
      });
    } else if (/^(Delete|Abort)/.test(operation)) {
      lines.push({ service: 'S3 requests', item: operation, quantity: n, unit: 'requests (free)', usd: 0 });
    } else {
      lines.push({
        service: 'S3 requests',
        item: operation,
        quantity: n,
        unit: 'requests',
        usd: (n * prices.s3.put_per_1000) / 1000,
      });
    }
  }
  return lines;
}

function readUnitsLine(units: number, prices: Prices): BillLine {
  return {
    service: 'DynamoDB',
    item: 'read units',
    quantity: units,
    unit: 'RRU',
    usd: (units * prices.dynamodb.read_per_million) / 1e6,
  };
}

function logLine(bytes: number, prices: Prices): BillLine {
  return {
    service: 'CloudWatch',
    item: 'logs ingested',
    quantity: bytes,
    unit: 'bytes',
    usd: (bytes / GB) * prices.cloudwatch.logs_ingest_gb,
  };
}

/** Log bytes of `invocations` Lambda runs writing `lines` app lines of `bytes` in all. */
function logBytes(operation: MeasuredOperation, invocations: number, assumptions = ASSUMPTIONS): number {
  return (
    operation.logBytes +
    operation.logLines * assumptions.logEventOverheadBytes +
    invocations * (assumptions.lambdaPlatformLogBytes + 3 * assumptions.logEventOverheadBytes)
  );
}

const sum = (lines: readonly BillLine[]): number => lines.reduce((total, line) => total + line.usd, 0);
/** One operation's lines, the same item (e.g. the upload's and the processor's PutObject) summed into one. */
function perOperation(lines: BillLine[]): PerOperation {
  const merged = new Map<string, BillLine>();
  for (const line of lines) {
    const key = `${line.service}|${line.item}|${line.unit}`;
    const seen = merged.get(key);
    merged.set(key, seen ? { ...seen, quantity: seen.quantity + line.quantity, usd: seen.usd + line.usd } : line);
  }
  const items = [...merged.values()];
  return { items, usd: sum(items) };
}

/** Scales per-operation lines to a monthly count. */
function monthly(per: PerOperation, count: number, label: string): BillLine[] {
  return per.items.map((line) => ({
    ...line,
    item: `${label}: ${line.item}`,
    quantity: line.quantity * count,
    usd: line.usd * count,
  }));
}

/** Share of files older than `days` in an archive whose ages spread evenly over `spanDays`. */
const olderThan = (days: number, spanDays: number): number => (spanDays <= days ? 0 : 1 - days / spanDays);

export function computeBill(workload: Workload, stack: StackSettings, measured: MeasuredCosts, prices: Prices): Bill {
  const A = ASSUMPTIONS;
  const sizeScale = (workload.avgMb * MB) / measured.representative.bytes;
  const originalBytes = workload.avgMb * MB;
  const derivedBytes = Object.values(measured.derivedBytes).reduce((a, b) => a + b, 0) * sizeScale;
  const pngBytes = (measured.derivedBytes['image.png'] ?? 0) * sizeScale;
  const keyed = stack.auth === 'apiKey' && stack.functions.authorizer;

  // One API request: API Gateway, the authorizer (API key mode), the route's Lambda and the access log line.
  const apiRequest = (): BillLine[] => [
    {
      service: 'API Gateway',
      item: 'REST requests',
      quantity: 1,
      unit: 'requests',
      usd: prices.api_gateway.rest_per_million / 1e6,
    },
    ...(keyed
      ? lambdaLines(
          'authorizer',
          stack.functions.authorizer!,
          lambdaMs(
            { calls: {}, wallMs: measured.authorizerMs, logBytes: 0, logLines: 0, readUnits: 0 },
            stack.functions.authorizer!,
            0,
          ),
          prices,
        )
      : []),
  ];
  const invocationsPerRequest = keyed ? 2 : 1;

  // Ingest: the upload request and the processor run it triggers.
  const writes = measured.ingestWrites.map((w) => writeUnits(w.before, w.after, stack.table));
  const byIndex: Record<string, number> = {};
  for (const w of writes)
    for (const [name, units] of Object.entries(w.indexes)) byIndex[name] = (byIndex[name] ?? 0) + units;
  const tableUnits = writes.reduce((total, w) => total + w.table, 0);
  const indexUnits = Object.values(byIndex).reduce((a, b) => a + b, 0);
  const uploadMs = lambdaMs(measured.upload, stack.functions.upload, originalBytes);
  const processorMs = lambdaMs(measured.processing, stack.functions.processor, originalBytes + derivedBytes);
  const ingest = perOperation([
    ...apiRequest(),
    ...lambdaLines('upload', stack.functions.upload, uploadMs, prices),
    ...lambdaLines('processor', stack.functions.processor, processorMs, prices),
    ...s3RequestLines(measured.upload.calls, prices),
    ...s3RequestLines(measured.processing.calls, prices),
    {
      service: 'DynamoDB',
      item: 'write units, table',
      quantity: tableUnits,
      unit: 'WRU',
      usd: (tableUnits * prices.dynamodb.write_per_million) / 1e6,
    },
    {
      service: 'DynamoDB',
      item: 'write units, indexes',
      quantity: indexUnits,
      unit: 'WRU',
      usd: (indexUnits * prices.dynamodb.write_per_million) / 1e6,
    },
    readUnitsLine(measured.upload.readUnits + measured.processing.readUnits, prices),
    logLine(logBytes(measured.upload, invocationsPerRequest + 1) + measured.accessLogLineBytes, prices),
  ]);

  // A PNG read through the API: GET /dicom/{id}/png.
  const pngMs = lambdaMs(measured.png, stack.functions.png, pngBytes);
  const pngReadViaApi = perOperation([
    ...apiRequest(),
    ...lambdaLines('png', stack.functions.png, pngMs, prices),
    ...s3RequestLines(measured.png.calls, prices),
    readUnitsLine(measured.png.readUnits, prices),
    logLine(logBytes(measured.png, invocationsPerRequest) + measured.accessLogLineBytes, prices),
  ]);
  // A read with image URLs: one S3 GET of the PNG (priced by the class derived objects are in), plus its share of the
  // call that signed it: an API request, the route's Lambda, the batch read's units and the log lines.
  const perCall = workload.imagesPerUrlCall ?? DEFAULT_IMAGES_PER_URL_CALL;
  const urlsFn = stack.functions.imageUrls;
  const urlsMeasured = measured.imageUrls;
  const canUseUrls = urlsFn !== undefined && urlsMeasured !== undefined;
  if (workload.pngReadsVia === 'urls' && !canUseUrls) throw new Error('the stack has no GET /dicom/image-urls route');
  const viaUrls = canUseUrls && workload.pngReadsVia !== 'api';
  let imageUrlsMs: number | undefined;
  let pngReadViaUrls: PerOperation | undefined;
  if (canUseUrls) {
    // Measured for imageUrlsImages files; the call's time and read units scaled to perCall images (an upper bound:
    // its fixed part, the request and the batch read's round trip, is scaled too).
    const scale = perCall / Math.max(1, measured.imageUrlsImages ?? 1);
    const call: MeasuredOperation = {
      ...urlsMeasured,
      wallMs: urlsMeasured.wallMs * scale,
      readUnits: urlsMeasured.readUnits * scale,
    };
    imageUrlsMs = lambdaMs(call, urlsFn, 0);
    const share = 1 / perCall;
    const callLines = [
      ...apiRequest(),
      ...lambdaLines('image-urls', urlsFn, imageUrlsMs, prices),
      ...s3RequestLines(call.calls, prices),
      readUnitsLine(call.readUnits, prices),
      logLine(logBytes(call, invocationsPerRequest) + measured.accessLogLineBytes, prices),
    ].map((line) => ({
      ...line,
      item: `image-urls call: ${line.item}`,
      quantity: line.quantity * share,
      usd: line.usd * share,
    }));
    pngReadViaUrls = perOperation([
      ...s3RequestLines({ 'S3 GetObject': 1 }, prices, stack.derivedStorageClass),
      ...callLines,
    ]);
  }
  const pngRead = viaUrls ? pngReadViaUrls! : pngReadViaApi;

  const listingPage = perOperation([
    ...apiRequest(),
    readUnitsLine(measured.listingPage.readUnits, prices),
    logLine(logBytes(measured.listingPage, invocationsPerRequest) + measured.accessLogLineBytes, prices),
  ]);

  // Storage: originals by age (the lifecycle moves those past its transition), derived objects, table and indexes.
  const transition = stack.originals[0];
  // Files' ages spread evenly over the archive's span: files / uploads a day, or what --cold-share implies.
  const spanDays =
    workload.coldShare !== undefined
      ? A.coldAfterDays / Math.max(1e-9, 1 - workload.coldShare)
      : workload.files / Math.max(1e-9, workload.uploadsPerDay);
  const moves = transition !== undefined && originalBytes >= A.lifecycleMinimumBytes;
  const coldShare = moves ? olderThan(transition.days, spanDays) : 0;
  const files = workload.files;
  const lines: BillLine[] = [];
  const storageLine = (item: string, count: number, bytesEach: number, storageClass: string): BillLine => {
    const minimum = (prices.s3.minimum_billable_kb[storageClass] ?? 0) * 1024;
    const gbMonths = (count * Math.max(bytesEach, minimum)) / GB;
    return {
      service: 'S3 storage',
      item: `${item} (${storageClass})`,
      quantity: gbMonths,
      unit: 'GB-month',
      usd: gbMonths * prices.s3.storage_gb_month[storageClass]!,
    };
  };
  lines.push(storageLine('originals', files * (1 - coldShare), originalBytes, 'STANDARD'));
  if (moves && coldShare > 0) {
    const cold = files * coldShare;
    if (transition.storageClass === 'INTELLIGENT_TIERING') {
      // Intelligent-Tiering: Infrequent Access 30 days after the move without a read, Archive Instant Access after 90.
      const ia = files * (olderThan(transition.days + 30, spanDays) - olderThan(transition.days + 90, spanDays));
      const aia = files * olderThan(transition.days + 90, spanDays);
      lines.push(storageLine('originals', cold - ia - aia, originalBytes, 'INTELLIGENT_TIERING'));
      lines.push(storageLine('originals', ia, originalBytes, 'INTELLIGENT_TIERING_IA'));
      lines.push(storageLine('originals', aia, originalBytes, 'INTELLIGENT_TIERING_AIA'));
      lines.push({
        service: 'S3 storage',
        item: 'Intelligent-Tiering monitoring',
        quantity: cold,
        unit: 'objects',
        usd: (cold * prices.s3.intelligent_tiering_monitoring_per_1000_objects) / 1000,
      });
    } else {
      lines.push(storageLine('originals', cold, originalBytes, transition.storageClass));
    }
    const movedPerMonth = (files / spanDays) * A.daysPerMonth;
    lines.push({
      service: 'S3 requests',
      item: `lifecycle transitions to ${transition.storageClass}`,
      quantity: movedPerMonth,
      unit: 'requests',
      usd: (movedPerMonth * prices.s3.transition_per_1000[transition.storageClass]!) / 1000,
    });
  }
  lines.push(storageLine('derived PNG, thumbnail, JSON', files, derivedBytes, 'STANDARD'));
  let tableBytes = 0;
  let indexBytes = 0;
  for (const item of measured.storedItems) {
    const stored = storedBytes(item, stack.table);
    tableBytes += stored.table;
    indexBytes += stored.indexes;
  }
  const tableGb = (files * tableBytes) / GB;
  const indexGb = (files * indexBytes) / GB;
  lines.push({
    service: 'DynamoDB',
    item: 'storage, table',
    quantity: tableGb,
    unit: 'GB-month',
    usd: tableGb * prices.dynamodb.storage_gb_month,
  });
  lines.push({
    service: 'DynamoDB',
    item: 'storage, indexes',
    quantity: indexGb,
    unit: 'GB-month',
    usd: indexGb * prices.dynamodb.storage_gb_month,
  });
  if (stack.pointInTimeRecovery) {
    lines.push({
      service: 'DynamoDB',
      item: 'point-in-time recovery',
      quantity: tableGb,
      unit: 'GB-month',
      usd: tableGb * prices.dynamodb.pitr_gb_month,
    });
  }

  const uploadsPerMonth = workload.uploadsPerDay * A.daysPerMonth;
  const readsPerMonth = workload.pngReadsPerDay * A.daysPerMonth;
  lines.push(...monthly(ingest, uploadsPerMonth, 'ingest'), ...monthly(pngRead, readsPerMonth, 'PNG reads'));
  lines.push(
    {
      service: 'Fixed',
      item: 'Secrets Manager secrets',
      quantity: stack.fixed.secrets,
      unit: 'secrets',
      usd: stack.fixed.secrets * prices.secrets_manager.secret_month,
    },
    {
      service: 'Fixed',
      item: 'CloudWatch alarms',
      quantity: stack.fixed.alarms,
      unit: 'alarms',
      usd: stack.fixed.alarms * prices.cloudwatch.alarm_month,
    },
    {
      service: 'Fixed',
      item: 'KMS keys',
      quantity: stack.fixed.kmsKeys,
      unit: 'keys',
      usd: stack.fixed.kmsKeys * prices.kms.key_month,
    },
  );

  const total = sum(lines);
  const byService: Record<string, number> = {};
  for (const line of lines) byService[line.service] = (byService[line.service] ?? 0) + line.usd;

  // HealthImaging for the same archive and calls: one API call per stored file and per image read.
  const hiHotShare = 1 - olderThan(A.coldAfterDays, spanDays);
  const archiveGb = (files * originalBytes) / GB;
  const hiStorage =
    archiveGb *
    (hiHotShare * prices.healthimaging.frequent_gb_month + (1 - hiHotShare) * prices.healthimaging.archive_gb_month);
  const hiCalls = ((uploadsPerMonth + readsPerMonth) * prices.healthimaging.per_1000_calls) / 1000;

  const apiRequestsPerDay =
    workload.uploadsPerDay + (viaUrls ? workload.pngReadsPerDay / perCall : workload.pngReadsPerDay);
  const capacity: Bill['capacity'][number][] = [];
  const averageRate = apiRequestsPerDay / 86400;
  if (stack.usagePlan?.quotaPerDay !== undefined) {
    capacity.push({
      check: 'usage plan quota',
      fits: apiRequestsPerDay <= stack.usagePlan.quotaPerDay,
      detail: `${fmt(apiRequestsPerDay)} API requests a day against a quota of ${fmt(stack.usagePlan.quotaPerDay)} per key`,
    });
  }
  for (const [name, throttle] of [
    ['usage plan rate', stack.usagePlan],
    ['stage rate', stack.stageThrottle],
  ] as const) {
    if (!throttle) continue;
    capacity.push({
      check: name,
      fits: averageRate <= throttle.rateLimit,
      detail: `${averageRate.toFixed(1)} requests/s on average against ${throttle.rateLimit}/s (burst ${throttle.burstLimit})`,
    });
  }

  return {
    lines,
    monthly_usd_total: total,
    usd_per_million_ingested: ingest.usd * 1e6,
    usd_per_million_png_reads: pngRead.usd * 1e6,
    usd_per_million_png_reads_via_api: pngReadViaApi.usd * 1e6,
    ...(pngReadViaUrls ? { usd_per_million_png_reads_via_urls: pngReadViaUrls.usd * 1e6 } : {}),
    usd_per_million_listing_pages: listingPage.usd * 1e6,
    by_service: byService,
    details: {
      ingest,
      png_read: pngRead,
      png_read_via_api: pngReadViaApi,
      ...(pngReadViaUrls ? { png_read_via_urls: pngReadViaUrls } : {}),
      png_reads_via: viaUrls ? 'urls' : 'api',
      images_per_url_call: perCall,
      listing_page: listingPage,
      write_units_per_file: { table: tableUnits, indexes: indexUnits, by_index: byIndex },
      stored_bytes_per_file: {
        s3_original: originalBytes,
        s3_derived: derivedBytes,
        dynamodb: tableBytes + indexBytes,
      },
      lambda_ms: {
        upload: uploadMs,
        processor: processorMs,
        png: pngMs,
        ...(imageUrlsMs !== undefined ? { image_urls: imageUrlsMs } : {}),
      },
      cold_share: olderThan(A.coldAfterDays, spanDays),
      moved_share: coldShare,
      api_requests_per_day: apiRequestsPerDay,
    },
    healthimaging: { monthly_usd_total: hiStorage + hiCalls, storage_usd: hiStorage, calls_usd: hiCalls },
    capacity,
  };
}

/** 1,234,567 */
export const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
