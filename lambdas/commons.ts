// Shared per-container state: configuration, logger and storage clients, created once per Lambda instance.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { Logger } from '@aws-lambda-powertools/logger';
import {
  DEFAULT_PROCESSING_WAIT_MS,
  ENV,
  parseListingIndexes,
  S3_FORCE_PATH_STYLE_ENV,
  type ListingIndexes,
} from './config.js';
import { DynamoRecordStore } from './store/dynamo-record-store.js';
import type { ObjectStore } from './store/objects.js';
import type { RecordStore } from './store/records.js';
import { S3ObjectStore } from './store/s3-object-store.js';

export const logger = new Logger({ serviceName: 'dicom-api' });

function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}

/** How the deployment projects the file listing indexes (ENV.listingIndexes; unset: `all`). */
export function listingIndexesFromEnv(): ListingIndexes {
  const text = process.env[ENV.listingIndexes];
  const listing = parseListingIndexes(text);
  if (!listing) throw new Error(`${ENV.listingIndexes}=${text}: use all (default) or keysOnly`);
  return listing;
}

export interface Stores {
  objects: ObjectStore;
  records: RecordStore;
}

let stores: Stores | undefined;

/** Without these, the SDK's default checksums corrupt streamed bodies on S3-compatible emulators. */
export const S3_CHECKSUMS = {
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
} as const;

/**
 * The SDK resolves a command's middleware stack anew on every send unless told to keep it per command class; these
 * clients never change their stack after the first send, so they keep it. A GetItem's client-side CPU 0.35-0.42 ->
 * 0.23-0.26 ms (a transport that answers at once, 5,000 calls; docs/performance.md): in Lambda as locally.
 */
const SDK_CALL_COST = { cacheMiddleware: true } as const;

/** An SDK transport (a smithy HttpHandler); unset, the SDK's own HTTPS handler. */
type RequestHandler = NonNullable<ConstructorParameters<typeof S3Client>[0]>['requestHandler'];

/**
 * The storage adapters on SDK clients configured from the environment (endpoints via AWS_ENDPOINT_URL_*). Lambda uses
 * the SDK's own transport; the local runtime passes one that hands requests to the emulators without a socket.
 */
export function createStores(transport: { s3?: RequestHandler; dynamodb?: RequestHandler } = {}): Stores {
  const s3 = new S3Client({
    forcePathStyle: process.env[S3_FORCE_PATH_STYLE_ENV] === 'true',
    ...S3_CHECKSUMS,
    ...SDK_CALL_COST,
    ...(transport.s3 ? { requestHandler: transport.s3 } : {}),
  });
  const dynamo = new DynamoDBClient({
    ...SDK_CALL_COST,
    ...(transport.dynamodb ? { requestHandler: transport.dynamodb } : {}),
  });
  return {
    objects: new S3ObjectStore(s3, requireEnv(ENV.bucketName)),
    records: new DynamoRecordStore(dynamo, requireEnv(ENV.tableName), listingIndexesFromEnv()),
  };
}

/** The storage adapters, built on first use (createStores). */
export function getStores(): Stores {
  stores ??= createStores();
  return stores;
}

/** Replaces the adapters (tests inject their own). */
export function setStores(replacement: Stores | undefined): void {
  stores = replacement;
}

export function processingWaitMs(): number {
  const configured = Number(process.env[ENV.processingWaitMs]);
  return Number.isFinite(configured) && configured >= 0 ? configured : DEFAULT_PROCESSING_WAIT_MS;
}
