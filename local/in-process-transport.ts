// The AWS SDK's transport for the local runtime, without sockets: each request is handed to the emulator's own
// request listener (dynalite's, s3rver's) through light request and response objects in this thread, or, from a
// processor worker thread, posted to the thread that runs the emulators. The SDK, the store adapters and the
// emulators are unchanged: only the bytes skip the loopback HTTP stack.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable, Writable } from 'node:stream';
import type { MessagePort } from 'node:worker_threads';
import { HttpResponse, type HttpRequest } from '@smithy/core/transport';
import { TABLE } from '../lambdas/config.js';
import { anyWaits, recordWritten } from '../lambdas/store/wait.js';
import { s3Operation } from './storage-calls.js';
import { trace, tracing } from './trace.js';

/** A Node HTTP request listener: what dynalite's server and s3rver's Koa app run for each request. */
export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/** A request as it crosses threads (structured-clone friendly). */
export interface WireRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: Uint8Array;
}

export interface WireResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: Uint8Array;
}

function urlOf(request: HttpRequest): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(request.query ?? {})) {
    if (Array.isArray(value)) for (const item of value) query.append(name, item);
    else query.append(name, value ?? '');
  }
  const search = query.toString();
  return `${request.path}${search ? `?${search}` : ''}`;
}

async function bodyBytes(body: unknown): Promise<Uint8Array | undefined> {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body instanceof Uint8Array) return body;
  if (body instanceof Readable || typeof (body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === 'function') {
    const chunks: Buffer[] = [];
    for await (const chunk of body as AsyncIterable<Uint8Array | string>) chunks.push(Buffer.from(chunk));
    return Buffer.concat(chunks);
  }
  throw new Error(`in-process transport: unsupported request body (${typeof body})`);
}

/** The request an emulator sees: a readable body with the method, URL and headers of an IncomingMessage. */
class LocalRequest extends Readable {
  readonly httpVersion = '1.1';
  readonly socket = { encrypted: false, remoteAddress: '127.0.0.1', writable: true };
  readonly connection = this.socket;
  constructor(
    readonly method: string,
    readonly url: string,
    readonly headers: Record<string, string>,
    private body: Uint8Array | undefined,
  ) {
    super();
  }
  override _read(): void {
    if (this.body?.length) this.push(this.body);
    this.body = undefined;
    this.push(null);
  }
}

/** The response an emulator writes: headers and body collected, resolved when it ends. */
class LocalResponse extends Writable {
  statusCode = 200;
  statusMessage = '';
  headersSent = false;
  readonly socket = null;
  private readonly headerMap = new Map<string, string | number | readonly string[]>();
  private readonly chunks: Buffer[] = [];
  constructor(private readonly done: (response: WireResponse) => void) {
    super();
    this.on('finish', () => {
      const headers: Record<string, string> = {};
      for (const [name, value] of this.headerMap)
        headers[name] = Array.isArray(value) ? value.join(', ') : String(value);
      done({ statusCode: this.statusCode, headers, body: Buffer.concat(this.chunks) });
    });
  }
  setHeader(name: string, value: string | number | readonly string[]): this {
    this.headerMap.set(name.toLowerCase(), value);
    return this;
  }
  getHeader(name: string): string | number | readonly string[] | undefined {
    return this.headerMap.get(name.toLowerCase());
  }
  getHeaders(): Record<string, string | number | readonly string[]> {
    return Object.fromEntries(this.headerMap);
  }
  getHeaderNames(): string[] {
    return [...this.headerMap.keys()];
  }
  hasHeader(name: string): boolean {
    return this.headerMap.has(name.toLowerCase());
  }
  removeHeader(name: string): void {
    this.headerMap.delete(name.toLowerCase());
  }
  writeHead(statusCode: number, headers?: Record<string, string | number>): this {
    this.statusCode = statusCode;
    for (const [name, value] of Object.entries(headers ?? {})) this.setHeader(name, value);
    return this;
  }
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: () => void): void {
    this.headersSent = true;
    // Kept as written (the body is copied once, by the concat on finish): a second copy per chunk cost a 0.5 MB
    // memcpy and its garbage on every GetObject of an upload.
    this.chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    callback();
  }
}

/** `S3 PutObject`, `DynamoDB GetItem`: what the trace names a call (no key, no body). */
function operationOf(method: string, url: string, headers: Record<string, string>): string {
  const target = headers['x-amz-target'];
  return target ? `DynamoDB ${target.split('.')[1]}` : `S3 ${s3Operation(method, url)}`;
}

/** Serves one request with a request listener, in this thread. */
export function serveLocally(listener: RequestListener, request: WireRequest): Promise<WireResponse> {
  return new Promise((resolve, reject) => {
    const req = new LocalRequest(request.method, request.url, request.headers, request.body);
    const res = new LocalResponse(resolve);
    res.on('error', reject);
    listener(req as unknown as IncomingMessage, res as unknown as ServerResponse);
  });
}

function toSdkResponse(response: WireResponse): { response: HttpResponse } {
  return {
    response: new HttpResponse({
      statusCode: response.statusCode,
      headers: response.headers,
      body: Readable.from([Buffer.from(response.body.buffer, response.body.byteOffset, response.body.byteLength)]),
    }),
  };
}

abstract class WireHttpHandler {
  readonly metadata = { handlerProtocol: 'http/1.1' };
  protected abstract send(request: WireRequest): Promise<WireResponse>;
  async handle(request: HttpRequest): Promise<{ response: HttpResponse }> {
    const body = await bodyBytes(request.body);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) headers[name.toLowerCase()] = value;
    if (body && headers['content-length'] === undefined) headers['content-length'] = String(body.length);
    const url = urlOf(request);
    const operation = tracing ? operationOf(request.method, url, headers) : '';
    trace(`call> ${operation}`);
    const response = await this.send({ method: request.method, url, headers, ...(body ? { body } : {}) });
    trace(`call< ${operation} ${response.statusCode}`);
    return toSdkResponse(response);
  }
  updateHttpClientConfig(): void {}
  httpHandlerConfigs(): Record<string, never> {
    return {};
  }
  destroy(): void {}
}

/**
 * The SDK's requestHandler for a client in the emulators' own thread. `wakesWaits`: the DynamoDB emulator's, whose
 * record writes (the dead-letter handler failing a file, a reprocess) wake the reads waiting for that file.
 */
export class InProcessHttpHandler extends WireHttpHandler {
  constructor(
    private readonly listener: RequestListener,
    private readonly wakesWaits = false,
  ) {
    super();
  }
  protected async send(request: WireRequest): Promise<WireResponse> {
    const response = await serveLocally(this.listener, request);
    if (this.wakesWaits) wakeWaits(request, response.statusCode);
    return response;
  }
}

/** Which emulator a relayed request is for. */
export type EmulatorName = 's3' | 'dynamodb';

interface RelayMessage {
  id: number;
  emulator: EmulatorName;
  request: WireRequest;
}

/** A body's memory handed over to the other thread instead of copied, when the body owns all of it. */
function transferable(body: Uint8Array | undefined): ArrayBuffer[] {
  return body &&
    body.byteOffset === 0 &&
    body.byteLength === body.buffer.byteLength &&
    body.buffer instanceof ArrayBuffer
    ? [body.buffer]
    : [];
}

/** DynamoDB operations that change a record: their `Key` (or `Item`) names the file. */
const RECORD_WRITES = new Set([
  'DynamoDB_20120810.UpdateItem',
  'DynamoDB_20120810.PutItem',
  'DynamoDB_20120810.DeleteItem',
]);

/**
 * After a worker's write to a file record (the processor marking it READY or FAILED), wakes the reads waiting for that
 * file (lambdas/store/wait.ts) instead of leaving them to their back-off: a gap only polling has. Parsed only while
 * some read waits.
 */
function wakeWaits(request: WireRequest, statusCode: number): void {
  if (statusCode !== 200 || !anyWaits() || !request.body) return;
  if (!RECORD_WRITES.has(request.headers['x-amz-target'] ?? '')) return;
  try {
    type Wire = Record<string, { S?: string } | undefined>;
    const { Key, Item } = JSON.parse(Buffer.from(request.body).toString('utf8')) as { Key?: Wire; Item?: Wire };
    const id = (Key ?? Item)?.[TABLE.partitionKey]?.S;
    if (id) recordWritten(id);
  } catch {
    // Not JSON: the emulator answered it anyway; nothing to wake.
  }
}

/** In the emulators' thread: answers the requests a worker posts on `port`. */
export function serveRelay(port: MessagePort, listeners: Record<EmulatorName, RequestListener>): void {
  port.on('message', ({ id, emulator, request }: RelayMessage) => {
    trace(`relay> ${emulator}`);
    serveLocally(listeners[emulator], request).then(
      (response) => {
        trace(`relay< ${emulator}`);
        if (emulator === 'dynamodb') wakeWaits(request, response.statusCode);
        port.postMessage({ id, response }, transferable(response.body));
      },
      (error: Error) => port.postMessage({ id, error: error.message }),
    );
  });
}

/** In a worker thread: the SDK's requestHandler that posts each request to the emulators' thread. */
export class RelayHttpHandler extends WireHttpHandler {
  private static readonly pending = new Map<
    number,
    { resolve: (r: WireResponse) => void; reject: (e: Error) => void }
  >();
  private static nextId = 1;
  private static listening = new WeakSet<MessagePort>();

  constructor(
    private readonly port: MessagePort,
    private readonly emulator: EmulatorName,
  ) {
    super();
    if (!RelayHttpHandler.listening.has(port)) {
      RelayHttpHandler.listening.add(port);
      port.on('message', ({ id, response, error }: { id: number; response?: WireResponse; error?: string }) => {
        const waiting = RelayHttpHandler.pending.get(id);
        RelayHttpHandler.pending.delete(id);
        if (error !== undefined) waiting?.reject(new Error(error));
        else waiting?.resolve(response!);
      });
      port.unref();
    }
  }

  protected send(request: WireRequest): Promise<WireResponse> {
    return new Promise((resolve, reject) => {
      const id = RelayHttpHandler.nextId++;
      RelayHttpHandler.pending.set(id, { resolve, reject });
      this.port.postMessage({ id, emulator: this.emulator, request } satisfies RelayMessage);
    });
  }
}
