// The embedded local runtime: emulated S3 + DynamoDB, the route table served over HTTP, S3 events to the processor.
import type { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { createStores, getStores, setStores } from '../lambdas/commons.js';
import { ENV, KEYS, LARGE_UPLOAD_ROUTE, MAX_UPLOAD_BODY_BYTES } from '../lambdas/config.js';
import { apiKeyOf, INVALID_API_KEY, localApiKeyId } from '../lambdas/http/access.js';
import { corsHeaders, preflightHeaders } from '../lambdas/http/cors.js';
import { handlerOf, PROCESSING_FAILED, PROCESSOR, ROUTES } from '../lambdas/routes.js';
import type { FileRecord } from '../lambdas/store/records.js';
import { reportingRecordWrites } from '../lambdas/store/wait.js';
import { deadLetterEvent, deliverDeadLetter, type DeadLetterHandler } from './dead-letters.js';
import { RouteMatcher, toProxyEvent, writeGatewayError, writeProxyResult } from './api-gateway.js';
import { localCursorSecret } from './cursor-secret.js';
import { InProcessHttpHandler, serveRelay } from './in-process-transport.js';
import { LOCAL_REGION, startEmulators, storageEnvironment, type Emulators } from './emulators.js';
import { ProcessorPool } from './processor-pool.js';
import { encodeEventKey, toProcessorEvent } from './s3-events.js';
import { PROCESSOR_APP_ID, type CallCounts } from './storage-calls.js';
import { trace } from './trace.js';
import { serveViewer } from './viewer.js';

/** The methods of the route table: a path any of them serves answers a CORS preflight. */
const ROUTE_METHODS = ['GET', 'POST', 'DELETE'] as const;
/** API Gateway's own request limit: bigger bodies are refused before any Lambda runs. */
const GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024;
/** A body this far past the limit is no upload gone wrong: the connection is cut. */
const MAX_DRAINED_BYTES = 2 * 1024 * 1024 * 1024;

/** The 413 of a body larger than POST /dicom takes (the stack's gateway answers alike); it names the large-file route. */
function tooLargeError(res: ServerResponse, headers: Record<string, string>): void {
  writeGatewayError(
    res,
    413,
    'PAYLOAD_TOO_LARGE',
    `request larger than one request may carry (${MAX_UPLOAD_BODY_BYTES} bytes through a Lambda, as POST /dicom and STOW-RS take; API Gateway takes at most ${GATEWAY_MAX_BODY_BYTES}); upload large files with ${LARGE_UPLOAD_ROUTE}`,
    { ...headers, Connection: 'close' },
  );
}
const BUCKET = 'dicom-api-local';
const TABLE_NAME = 'dicom-api-local';

export interface LocalRuntimeOptions {
  port?: number;
  host?: string;
  /** Where S3 objects and DynamoDB data live; a restart with the same folder keeps everything. */
  dataDir?: string;
  processorWorkers?: number;
  /**
   * Require this key in `x-api-key` on every non-public route, as the deployed API does (403 JSON when missing or
   * wrong); unset: the API is open. `npm start` takes it from API_KEY.
   */
  apiKey?: string;
  /** Browser origins allowed by CORS (preflight, response headers, the bucket's rule); `npm start`: CORS_ORIGINS. */
  corsOrigins?: readonly string[];
  /** The OHIF build served at /viewer/; default OHIF_VIEWER_DIR or the install script's cache (local/viewer.ts). */
  viewerDir?: string;
}

export interface LocalRuntime {
  url: string;
  port: number;
  dataDir: string;
  /** Resolves when no storage event is waiting for or inside the processor. */
  processorIdle(): Promise<void>;
  /** The storage requests served since the last call, by caller (`api`, `processor`) and operation. */
  takeStorageCalls(): Record<string, CallCounts>;
  close(): Promise<void>;
}

type Handler = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;

/** Two runtimes on one DynamoDB folder corrupt it: refuse a second one while the first lives. */
function acquireLock(dataDir: string): () => void {
  const lockFile = join(dataDir, 'runtime.lock');
  if (existsSync(lockFile)) {
    const pid = Number(readFileSync(lockFile, 'utf8'));
    let alive = false;
    try {
      if (pid && pid !== process.pid) {
        process.kill(pid, 0);
        alive = true;
      }
    } catch {
      alive = false;
    }
    if (alive) throw new Error(`another local runtime (pid ${pid}) is using ${dataDir}; stop it or set DATA_DIR`);
  }
  writeFileSync(lockFile, String(process.pid));
  return () => rmSync(lockFile, { force: true });
}

/**
 * Reads a body up to `limit`; past it the rest is read and dropped (up to MAX_DRAINED_BYTES), so the client that
 * sent it all can read the 413 that follows instead of seeing its connection reset mid-upload.
 */
function readBody(req: IncomingMessage, limit: number): Promise<{ body: Buffer; tooLarge: boolean; total: number }> {
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    req.on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (total <= limit) chunks.push(chunk);
      else if (total > MAX_DRAINED_BYTES) req.destroy();
    });
    req.on('end', () => resolveBody({ body: Buffer.concat(chunks), tooLarge: total > limit, total }));
    req.on('close', () => resolveBody({ body: Buffer.alloc(0), tooLarge: total > limit, total }));
    req.on('error', reject);
  });
}

export async function startLocalRuntime(options: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
  const dataDir = resolve(options.dataDir ?? '.data');
  mkdirSync(dataDir, { recursive: true });
  const releaseLock = acquireLock(dataDir);
  let emulators: Emulators | undefined;
  try {
    emulators = await startEmulators(dataDir, BUCKET, TABLE_NAME);
  } catch (error) {
    releaseLock();
    throw error;
  }

  // The same variables CDK gives the Lambdas, pointed at the emulators.
  const lambdaEnv: Record<string, string> = {
    ...storageEnvironment(emulators, BUCKET, TABLE_NAME),
    // CDK resolves a generated secret into the listing functions; locally one lives in the data folder.
    [ENV.cursorSecret]: process.env[ENV.cursorSecret] ?? localCursorSecret(dataDir),
    // The stack gives every function the allowed origins; the handler wrapper adds the headers (lambdas/http/cors.ts).
    [ENV.corsOrigins]: (options.corsOrigins ?? []).join(','),
  };
  Object.assign(process.env, lambdaEnv);

  // The handlers' SDK clients reach the emulators in this thread without a socket (configured by the environment
  // above otherwise: the same clients and store adapters as in Lambda).
  const listeners = emulators.listeners;
  setStores(
    createStores({
      s3: new InProcessHttpHandler(listeners.s3),
      dynamodb: new InProcessHttpHandler(listeners.dynamodb, true),
    }),
  );
  // Every record write passes the emulator here (the handlers' above, the processor's through serveRelay) and wakes
  // the reads waiting for its file: they need not poll between writes.
  reportingRecordWrites();

  const handlers = new Map<string, Handler>();
  for (const route of ROUTES) {
    // The handler module the route table names, the same file CDK bundles for that route's Lambda.
    const modulePath = new URL(`../lambdas/handlers/${handlerOf(route)}.ts`, import.meta.url).href;
    const module = (await import(/* @vite-ignore */ modulePath)) as { handler: Handler };
    handlers.set(route.name, module.handler);
  }
  const matcher = new RouteMatcher(ROUTES);
  const workers = options.processorWorkers ?? Math.max(1, Math.min(2, availableParallelism()));
  // An event that fails every attempt goes where Lambda would send it: the dead-letter consumer.
  const deadLetters = (await import(
    /* @vite-ignore */ new URL(`../lambdas/handlers/${PROCESSING_FAILED.name}.ts`, import.meta.url).href
  )) as { handler: DeadLetterHandler };
  // The processor's SDK names itself in its user agent, so the emulators count its requests apart (storage-calls.ts).
  const pool = new ProcessorPool(
    workers,
    { ...lambdaEnv, AWS_SDK_UA_APP_ID: PROCESSOR_APP_ID },
    {
      serveStorage: (port) => serveRelay(port, emulators!.listeners),
      onExhausted: (event, error, attempts) =>
        deliverDeadLetter(deadLetters.handler, deadLetterEvent(event, error, attempts)),
    },
  );

  // @types/s3rver omits that S3rver is an EventEmitter.
  (emulators.s3 as unknown as EventEmitter).on('event', (raw: { Records?: unknown[] }) => {
    const event = toProcessorEvent(raw, PROCESSOR.triggerPrefix);
    trace(`s3 event${event ? ' -> processor' : ''}`);
    if (event) pool.submit(event);
  });

  const corsOrigins = [...(options.corsOrigins ?? [])];
  const apiKey = options.apiKey ? Buffer.from(options.apiKey, 'utf8') : undefined;
  const apiKeyId = options.apiKey ? localApiKeyId(options.apiKey) : undefined;
  /** The key check API Gateway makes before any Lambda runs (constant time: the key is a secret). */
  const keyAccepted = (sent: string | undefined): boolean => {
    if (!apiKey) return true;
    const given = Buffer.from(sent ?? '', 'utf8');
    return given.length === apiKey.length && timingSafeEqual(given, apiKey);
  };

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    trace(`http> ${req.method} ${url.pathname}`);
    res.once('finish', () => trace(`http< ${res.statusCode}`));
    if (await serveViewer(req, res, url, { apiKeyRequired: apiKey !== undefined, distDir: options.viewerDir })) return;
    const matched = matcher.match(req.method ?? 'GET', url.pathname);
    const { body, tooLarge } = await readBody(req, MAX_UPLOAD_BODY_BYTES);
    // API Gateway's own answers carry the CORS headers too (the stack's gateway responses), so a page can read them.
    const cors = corsHeaders(req.headers.origin, corsOrigins);
    if (
      req.method === 'OPTIONS' &&
      corsOrigins.length > 0 &&
      ROUTE_METHODS.some((m) => matcher.match(m, url.pathname))
    ) {
      // The stack's preflight: a mock integration on every resource, no key needed.
      res.writeHead(204, preflightHeaders(req.headers.origin, corsOrigins));
      res.end();
      return;
    }
    if (!matched) {
      writeGatewayError(res, 404, 'ROUTE_NOT_FOUND', `no route for ${req.method} ${url.pathname}`, cors);
      return;
    }
    // The stack's authorizer takes the key from x-api-key or Authorization: Bearer (lambdas/http/access.ts).
    if (!matched.route.public && !keyAccepted(apiKeyOf(req.headers))) {
      writeGatewayError(res, INVALID_API_KEY.status, INVALID_API_KEY.code, INVALID_API_KEY.error, cors);
      return;
    }
    if (tooLarge) {
      // Deployed, Lambda refuses a request this size; the error names the large-file route.
      tooLargeError(res, cors);
      return;
    }
    const handler = handlers.get(matched.route.name)!;
    const event = toProxyEvent(req, url, matched, body);
    // API Gateway names the key that was used (its id, not its value): the audit trail's principal.
    if (apiKeyId && !matched.route.public) {
      event.requestContext.identity.apiKey = options.apiKey!;
      event.requestContext.identity.apiKeyId = apiKeyId;
    }
    trace(`handler> ${matched.route.name}`);
    const result = await handler(event);
    trace(`handler< ${matched.route.name} ${result.statusCode}`);
    writeProxyResult(res, result);
  }

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    serve(req, res).catch((error: Error) => {
      process.stderr.write(`local runtime error: ${error.message}\n`);
      if (!res.headersSent) writeGatewayError(res, 500, 'INTERNAL_ERROR', 'internal error');
      else res.destroy();
    });
  };
  const server: Server = createServer(handle);
  // `Expect: 100-continue` (curl sends it for large bodies): a body declared too large is refused before it is
  // sent, so the client reads the 413 JSON instead of a reset connection mid-upload.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    if (Number(req.headers['content-length']) > MAX_UPLOAD_BODY_BYTES) {
      tooLargeError(res, corsHeaders(req.headers.origin, corsOrigins));
      return;
    }
    res.writeContinue();
    handle(req, res);
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 5000, options.host ?? '127.0.0.1', () => resolveListen());
  });
  const port = (server.address() as AddressInfo).port;
  // The page's large uploads PUT straight to the bucket: allow its own origin (known now) and the configured ones.
  await emulators.allowBrowserOrigins([`http://127.0.0.1:${port}`, `http://localhost:${port}`, ...corsOrigins]);

  // Uploads whose processing was cut short by a stop are delivered again, as S3 would have.
  await redeliverUnprocessed(pool);

  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    dataDir,
    processorIdle: () => pool.idle(),
    takeStorageCalls: () => emulators!.calls.take(),
    async close() {
      await new Promise<void>((resolveClose) => {
        server.close(() => resolveClose());
        server.closeAllConnections();
      });
      await pool.close();
      await emulators!.close();
      setStores(undefined);
      reportingRecordWrites(false);
      releaseLock();
    },
  };
}

async function redeliverUnprocessed(pool: ProcessorPool): Promise<void> {
  // Stored PROCESSING, whether readers still see it so or (past its deadline) as FAILED.
  const pending: FileRecord[] = [];
  for (const status of ['PROCESSING', 'FAILED'] as const) {
    let after: string | undefined;
    do {
      const page = await getStores().records.listFiles({ status }, { limit: 1000, ...(after ? { after } : {}) });
      pending.push(...page.items.filter((r) => r.status === 'PROCESSING'));
      after = page.next ?? undefined;
    } while (after);
  }
  for (const record of pending) {
    const key = KEYS.upload(record.id);
    pool.submit({
      Records: [
        {
          eventVersion: '2.1',
          eventSource: 'aws:s3',
          awsRegion: LOCAL_REGION,
          eventTime: new Date().toISOString(),
          eventName: 'ObjectCreated:Put',
          userIdentity: { principalId: 'local' },
          requestParameters: { sourceIPAddress: '127.0.0.1' },
          responseElements: { 'x-amz-request-id': 'local', 'x-amz-id-2': 'local' },
          s3: {
            s3SchemaVersion: '1.0',
            configurationId: 'redelivery',
            bucket: { name: BUCKET, ownerIdentity: { principalId: 'local' }, arn: `arn:aws:s3:::${BUCKET}` },
            object: { key: encodeEventKey(key), size: record.size_bytes, eTag: '', sequencer: '0' },
          },
        },
      ],
    });
  }
}
