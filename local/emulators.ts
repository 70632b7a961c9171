// In-process S3 (s3rver) and DynamoDB (dynalite) on loopback ports, with the stack's bucket and table.
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutBucketCorsCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import dynalite from 'dynalite';
import { S3_CHECKSUMS } from '../lambdas/commons.js';
import { ENV, S3_FORCE_PATH_STYLE_ENV } from '../lambdas/config.js';
import { BUCKET_CORS } from '../lambdas/http/cors.js';
import { batchDynaliteIndexWrites, cacheDynaliteTables } from './dynalite-speedups.js';
import { FastFilesystemStore, s3ConditionalRequests } from './s3-store.js';
import type { EmulatorName, RequestListener } from './in-process-transport.js';
import { StorageCallCounter } from './storage-calls.js';
import { ensureTable } from './table.js';

const require = createRequire(import.meta.url);

// Installed when this module loads, before anything wraps dynalite's index writer (the cost measurement records every
// write through it: scripts/cost/measure.ts).
batchDynaliteIndexWrites();

/** The emulators accept any credentials except s3rver, which wants these. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export const LOCAL_REGION = 'us-east-1';

/** The storage part of the environment CDK gives the Lambdas, pointed at these emulators. */
export function storageEnvironment(
  emulators: Emulators,
  bucketName: string,
  tableName: string,
): Record<string, string> {
  return {
    [ENV.bucketName]: bucketName,
    [ENV.tableName]: tableName,
    [S3_FORCE_PATH_STYLE_ENV]: 'true',
    AWS_ENDPOINT_URL_S3: emulators.s3Endpoint,
    AWS_ENDPOINT_URL_DYNAMODB: emulators.dynamoEndpoint,
    AWS_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

/** An S3 client for scripts and tests that talk to the emulator directly (handlers build theirs from storageEnvironment). */
export function emulatorS3Client(emulators: Pick<Emulators, 's3Endpoint'>): S3Client {
  return new S3Client({
    endpoint: emulators.s3Endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    forcePathStyle: true,
    ...S3_CHECKSUMS,
  });
}

/** A DynamoDB client for scripts and tests that talk to the emulator directly. */
export function emulatorDynamoClient(emulators: Pick<Emulators, 'dynamoEndpoint'>): DynamoDBClient {
  return new DynamoDBClient({
    endpoint: emulators.dynamoEndpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
}

export interface Emulators {
  s3Endpoint: string;
  dynamoEndpoint: string;
  /** s3rver's notification emitter (S3-event-shaped records). */
  s3: S3rver;
  /** Every request either emulator served, by caller and operation (local/storage-calls.ts). */
  calls: StorageCallCounter;
  /** Each emulator's request listener, for clients that reach it without a socket (local/in-process-transport.ts). */
  listeners: Record<EmulatorName, RequestListener>;
  /**
   * The bucket's CORS rule, as the stack sets it: the web page's origin (known once the runtime listens) and the
   * configured ones may PUT large uploads and GET presigned redirects; any other origin is refused.
   */
  allowBrowserOrigins(origins: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

/** The marker patches/s3rver+3.7.1.patch (postinstall, patch-package) leaves in s3rver; without it listings past one page fail. */
const S3RVER_PATCH_MARKER = 'patched by dicom-api: continuation tokens without DES';

function requirePatchedS3rver(): void {
  const controller = join(dirname(require.resolve('s3rver/package.json')), 'lib/controllers/bucket.js');
  if (!readFileSync(controller, 'utf8').includes(S3RVER_PATCH_MARKER)) {
    throw new Error('s3rver is not patched (patches/s3rver+3.7.1.patch): run `npm install` (or `npm ci`) first');
  }
}

/**
 * s3rver with `silent` still formats a log line for every request and object it serves (winston: ~1.2 ms of the
 * runtime's thread a loop, measured by `npm run trace:loop` with TRACE_CPU_PROF), and its koa-logger middleware pipes
 * every response body through a byte-counting stream to log its length. Both are dropped: nothing is printed anyway.
 */
function quietS3rver(s3: S3rver): void {
  const app = s3 as unknown as {
    middleware: { name: string }[];
    logger: Record<string, unknown>;
  };
  const at = app.middleware.findIndex((middleware) => middleware.name === 'logger');
  if (at >= 0) app.middleware.splice(at, 1);
  for (const level of ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly', 'log']) {
    app.logger[level] = () => app.logger;
  }
}

export async function startEmulators(dataDir: string, bucketName: string, tableName: string): Promise<Emulators> {
  requirePatchedS3rver();
  const s3Dir = join(dataDir, 's3');
  const dynamoDir = join(dataDir, 'dynamodb');
  mkdirSync(s3Dir, { recursive: true });
  mkdirSync(dynamoDir, { recursive: true });

  const s3 = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: s3Dir,
    configureBuckets: [{ name: bucketName, configs: [] }],
  });
  // Same files on disk, fewer thread-pool round trips, concurrency-safe deletes: see FastFilesystemStore.
  const store = new FastFilesystemStore(s3Dir);
  const koa = s3 as unknown as { store: unknown; context: { store: unknown } };
  koa.store = koa.context.store = store;
  quietS3rver(s3);
  const calls = new StorageCallCounter();
  // First in the chain (Koa composes on listen): conditional writes and signed-header checks S3 makes; before them,
  // the request is counted.
  (s3 as unknown as { middleware: unknown[] }).middleware.unshift(
    async (ctx: { req: IncomingMessage }, next: () => Promise<unknown>) => {
      calls.record('S3', ctx.req);
      return next();
    },
    s3ConditionalRequests(store),
  );
  const s3Address = (await s3.run()) as AddressInfo;
  cacheDynaliteTables();
  const dynamo = dynalite({ path: dynamoDir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const [serveDynamo] = dynamo.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  dynamo.removeAllListeners('request');
  const dynamoListener = (req: IncomingMessage, res: ServerResponse) => {
    calls.record('DynamoDB', req);
    serveDynamo!(req, res);
  };
  dynamo.on('request', dynamoListener);
  const dynamoPort = await listen(dynamo);
  const dynamoEndpoint = `http://127.0.0.1:${dynamoPort}`;
  await ensureTable(dynamoEndpoint, tableName, dataDir);

  const s3Endpoint = `http://127.0.0.1:${s3Address.port}`;
  return {
    s3Endpoint,
    dynamoEndpoint,
    s3,
    calls,
    listeners: { s3: (s3 as unknown as { callback(): RequestListener }).callback(), dynamodb: dynamoListener },
    async allowBrowserOrigins(origins) {
      const client = emulatorS3Client({ s3Endpoint });
      try {
        await client.send(
          new PutBucketCorsCommand({
            Bucket: bucketName,
            CORSConfiguration: {
              CORSRules: [
                {
                  AllowedOrigins: [...origins],
                  AllowedMethods: [...BUCKET_CORS.allowedMethods],
                  AllowedHeaders: [...BUCKET_CORS.allowedHeaders],
                  ExposeHeaders: [...BUCKET_CORS.exposedHeaders],
                  MaxAgeSeconds: BUCKET_CORS.maxAgeSeconds,
                },
              ],
            },
          }),
        );
      } finally {
        client.destroy();
      }
    },
    async close() {
      await s3.close();
      await new Promise<void>((resolve) => dynamo.close(() => resolve()));
    },
  };
}
