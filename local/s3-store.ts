// s3rver's filesystem store, sped up for the upload -> process -> read loop: same files on disk, fewer round trips.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, type Dirent } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';

const require = createRequire(import.meta.url);

/** s3rver's object model: what its controllers read from a store. */
interface S3rverObject {
  bucket: string;
  key: string;
  content: Readable | Buffer | null;
  metadata: Record<string, string | number>;
  range?: { start: number; end: number };
}

interface ListOptions {
  delimiter?: string;
  startAfter?: string;
  prefix?: string;
  maxKeys?: number;
}

interface FilesystemStore {
  getBucket(bucket: string): Promise<unknown>;
  putBucket(bucket: string): Promise<unknown>;
  deleteBucket(bucket: string): Promise<unknown>;
  getSubresource(bucket: string, key: string | undefined, resourceType: string): Promise<unknown>;
  putSubresource(bucket: string, key: string | undefined, resource: { type: string }): Promise<unknown>;
  deleteSubresource(bucket: string, key: string | undefined, resourceType: string): Promise<unknown>;
  getBucketPath(bucket: string): string;
  getResourcePath(bucket: string, key: string, resource: string): string;
  getMetadata(bucket: string, key: string): Promise<Record<string, string | number>>;
  existsObject(bucket: string, key: string): Promise<boolean>;
  getObject(bucket: string, key: string, options?: { start?: number; end?: number }): Promise<S3rverObject | null>;
  putObject(object: S3rverObject): Promise<{ size: number; md5: string }>;
  copyObject(...args: unknown[]): Promise<unknown>;
  deleteObject(bucket: string, key: string): Promise<void>;
}

type FilesystemStoreClass = (new (rootDirectory: string) => FilesystemStore) & {
  decodeKeyPath(keyPath: string): string;
  encodeKeyPath(key: string): string;
};
type S3ObjectClass = new (
  bucket: string,
  key: string,
  content: Readable | null,
  metadata: Record<string, string | number>,
) => S3rverObject;

const FilesystemStoreBase = require('s3rver/lib/stores/filesystem') as FilesystemStoreClass;
const S3Object = require('s3rver/lib/models/object') as S3ObjectClass;
const S3Error = require('s3rver/lib/models/error') as new (code: string, message: string) => Error;
/** The query parameters that make an object request a subresource's (s3rver's bucket and object controllers). */
const OBJECT_SUBRESOURCES = [
  ...new Set([
    ...(require('s3rver/lib/controllers/bucket') as { METHODS: string[] }).METHODS,
    ...(require('s3rver/lib/controllers/object') as { METHODS: string[] }).METHODS,
  ]),
];

interface KoaContext {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  query: Record<string, string | string[] | undefined>;
  req: Readable;
}

/** Bucket and key of a path-style object URL (`/bucket/key`), as the runtime's clients and presigned URLs send them. */
function objectOf(path: string): { bucket: string; key: string } | undefined {
  const cut = path.indexOf('/', 1);
  if (cut < 0 || cut === path.length - 1) return undefined;
  try {
    return { bucket: decodeURIComponent(path.slice(1, cut)), key: decodeURIComponent(path.slice(cut + 1)) };
  } catch {
    return undefined; // malformed escapes: s3rver answers it
  }
}

/**
 * Whether a request stores an object through the store's putObject: PutObject (not a copy, not a part, not a
 * subresource such as ?tagging) and CompleteMultipartUpload.
 */
function storesObject(ctx: KoaContext): boolean {
  // s3rver routes an object request by the first of these it finds in the query (none: the object itself).
  const subresource = OBJECT_SUBRESOURCES.find((name) => name in ctx.query);
  if (ctx.method === 'POST') return subresource === 'uploadId';
  return ctx.method === 'PUT' && subresource === undefined && ctx.headers['x-amz-copy-source'] === undefined;
}

/**
 * Koa middleware for s3rver (install it first): S3's conditional writes and presigned headers, which
 * s3rver ignores. A write with `If-None-Match: *` (PutObject, CompleteMultipartUpload) answers 412 when the key holds
 * an object, as S3 does, and holds the key while it stores (a second such write answers 412 meanwhile); a presigned
 * request that lacks a header its URL signs is refused, as S3 does (403 SignatureDoesNotMatch): a client that
 * forgets `If-None-Match: *` fails here as on AWS. (Done here, not in the store, which s3rver passes no headers: an
 * AsyncLocalStorage carrying them turned on promise hooks for every promise of the runtime's thread.)
 */
export function s3ConditionalRequests(store: FastFilesystemStore) {
  return async (ctx: KoaContext, next: () => Promise<unknown>): Promise<unknown> => {
    const signed = ctx.query['X-Amz-SignedHeaders'];
    if (typeof signed === 'string' && ctx.method !== 'OPTIONS') {
      const missing = signed.split(';').filter((name) => name && ctx.headers[name.toLowerCase()] === undefined);
      if (missing.length > 0) {
        throw new S3Error(
          'SignatureDoesNotMatch',
          `The request signature we calculated does not match the signature you provided: the URL signs ${missing.join(', ')}, which the request does not send`,
        );
      }
    }
    const ifNoneMatch = ctx.headers['if-none-match'];
    const object = ifNoneMatch !== undefined && storesObject(ctx) ? objectOf(ctx.path) : undefined;
    if (!object) return next();
    if (ifNoneMatch !== '*') throw new S3Error('NotImplemented', 'If-None-Match on a write supports only "*"');
    const release = await store.claimAbsent(object.bucket, object.key, () => ctx.req.resume());
    try {
      return await next();
    } finally {
      release();
    }
  };
}

/** The metadata s3rver keeps in metadata.json (its ALLOWED_METADATA plus user metadata). */
const STORED_METADATA = new Set([
  'cache-control',
  'content-disposition',
  'content-encoding',
  'content-language',
  'content-type',
  'expires',
  'x-amz-storage-class',
  'x-amz-website-redirect-location',
]);

/** How s3rver names an object's file: `<last key segment>._S3rver_object`. */
const OBJECT_FILE_SUFFIX = '._S3rver_object';

/** What one cached entry costs beyond its bytes (key, metadata, Map slot): counted against the bound. */
const ENTRY_OVERHEAD_BYTES = 1024;

/** Objects up to this size are written in one step and kept in memory; larger ones stream as s3rver does. */
const CACHED_OBJECT_BYTES = 8 * 1024 * 1024;

interface Cached {
  metadata: Record<string, string | number>;
  content: Buffer;
}

/**
 * The body in a buffer of its own: small buffers from Node's shared pool would keep a whole pool
 * slab alive in the cache for a few bytes of object.
 */
async function readAll(content: Readable | Buffer): Promise<Buffer> {
  const chunks: Buffer[] = [];
  if (Buffer.isBuffer(content)) chunks.push(content);
  else for await (const chunk of content) chunks.push(chunk as Buffer);
  const length = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
  const out = Buffer.allocUnsafeSlow(length);
  let offset = 0;
  for (const chunk of chunks) offset += chunk.copy(out, offset);
  return out;
}

/**
 * s3rver's FilesystemStore spends ~4 ms on a 1 KB PutObject (mkdirp, a write stream, two more
 * writes, each a thread-pool round trip, one after the other) and ~1 ms on every read (stat, two reads). This store
 * writes the same three files (so data written by either store reads back in the other) side by side in the thread
 * pool for objects up to 8 MB (one key's writes and deletes in order; its reads wait for them), and answers reads of
 * recently written objects from a bounded in-memory copy. Larger objects (and completed multipart uploads, which
 * s3rver hands to putObject without a length) take s3rver's own streaming path.
 *
 * Deletes remove only the object's own files: s3rver's version also removes parent folders it
 * finds empty, which races with concurrent deletes (ENOENT) and with puts into the same folder
 * (the put fails) - 500s that real S3 never gives.
 */
export class FastFilesystemStore extends FilesystemStoreBase {
  private readonly cache = new Map<string, Cached>();
  private cachedBytes = 0;

  constructor(
    rootDirectory: string,
    private readonly cacheLimitBytes = 64 * 1024 * 1024,
  ) {
    super(rootDirectory);
  }

  private cacheKey(bucket: string, key: string): string {
    return `${bucket}/${key}`;
  }

  private forget(bucket: string, key: string): void {
    const name = this.cacheKey(bucket, key);
    const cached = this.cache.get(name);
    if (!cached) return;
    this.cachedBytes -= cached.content.length + ENTRY_OVERHEAD_BYTES;
    this.cache.delete(name);
  }

  private remember(bucket: string, key: string, entry: Cached): void {
    this.forget(bucket, key);
    if (entry.content.length + ENTRY_OVERHEAD_BYTES > this.cacheLimitBytes) return;
    this.cache.set(this.cacheKey(bucket, key), entry);
    this.cachedBytes += entry.content.length + ENTRY_OVERHEAD_BYTES;
    // Map order is insertion order: the oldest writes go first.
    for (const [name, old] of this.cache) {
      if (this.cachedBytes <= this.cacheLimitBytes) break;
      this.cache.delete(name);
      this.cachedBytes -= old.content.length + ENTRY_OVERHEAD_BYTES;
    }
  }

  private recall(bucket: string, key: string): Cached | undefined {
    return this.cache.get(this.cacheKey(bucket, key));
  }

  /** Per key, the last write or delete still touching its files (settled, never rejected). */
  private readonly inFlight = new Map<string, Promise<void>>();

  /**
   * Runs `task` after every earlier write or delete of the key: the files are written off the runtime's thread, so
   * two operations on one key must not interleave, and a delete must not be overtaken by a put sent before it.
   */
  private inOrder<T>(bucket: string, key: string, task: () => Promise<T>): Promise<T> {
    const name = this.cacheKey(bucket, key);
    const run = (this.inFlight.get(name) ?? Promise.resolve()).then(task);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.inFlight.set(name, settled);
    void settled.then(() => {
      if (this.inFlight.get(name) === settled) this.inFlight.delete(name);
    });
    return run;
  }

  /** Waits until no write or delete of the key is touching its files (a read must not see half a file). */
  private async settled(bucket: string, key: string): Promise<void> {
    for (let pending = this.inFlight.get(this.cacheKey(bucket, key)); pending;) {
      await pending;
      pending = this.inFlight.get(this.cacheKey(bucket, key));
    }
  }

  /** Keys a conditional write is storing right now: a second one must not pass the existence check meanwhile. */
  private readonly conditionalWrites = new Set<string>();

  /**
   * For a write with `If-None-Match: *`: throws 412 PreconditionFailed when the key holds an object or another such
   * write holds it (after `refused`, which drains the unread body so the client reads the answer), else holds the key
   * until the returned release. The check and the claim are one synchronous step.
   */
  async claimAbsent(bucket: string, key: string, refused: () => void): Promise<() => void> {
    const name = this.cacheKey(bucket, key);
    // A write or delete in flight decides whether the key holds an object: wait for it (unless a conditional write
    // claimed the key meanwhile: that one answers 412 at once below).
    while (this.inFlight.has(name) && !this.conditionalWrites.has(name)) await this.settled(bucket, key);
    if (
      this.conditionalWrites.has(name) ||
      this.recall(bucket, key) ||
      existsSync(this.getResourcePath(bucket, key, 'object'))
    ) {
      refused();
      throw new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
    }
    this.conditionalWrites.add(name);
    return () => this.conditionalWrites.delete(name);
  }

  override putObject(object: S3rverObject): Promise<{ size: number; md5: string }> {
    return this.storeObject(object);
  }

  private async storeObject(object: S3rverObject): Promise<{ size: number; md5: string }> {
    const announced = Number(object.metadata['content-length']);
    // A completed multipart upload arrives with the CreateMultipartUpload headers (content-length 0,
    // whatever its size): only a body whose length was announced takes the one-step path.
    if (!object.content || !(announced > 0 && announced <= CACHED_OBJECT_BYTES)) {
      return this.inOrder(object.bucket, object.key, async () => {
        this.forget(object.bucket, object.key);
        try {
          return await super.putObject(object);
        } finally {
          this.forget(object.bucket, object.key);
        }
      });
    }
    const content = await readAll(object.content);
    const md5 = createHash('md5').update(content).digest('hex');
    const stored: Record<string, string | number> = {};
    for (const [name, value] of Object.entries(object.metadata)) {
      if (STORED_METADATA.has(name) || name.startsWith('x-amz-meta-')) stored[name] = value;
    }
    const objectPath = this.getResourcePath(object.bucket, object.key, 'object');
    // Written in the thread pool, the three files side by side: done synchronously they held the runtime's thread
    // (its HTTP, the handlers, both emulators) 2-7 ms a PutObject on this disk (measured: see docs/performance.md).
    await this.inOrder(object.bucket, object.key, async () => {
      await mkdir(dirname(objectPath), { recursive: true });
      await Promise.all([
        writeFile(objectPath, content),
        writeFile(`${objectPath}.md5`, md5),
        writeFile(this.getResourcePath(object.bucket, object.key, 'metadata.json'), JSON.stringify(stored, null, 2)),
      ]);
      this.remember(object.bucket, object.key, {
        content,
        metadata: {
          ...stored,
          etag: JSON.stringify(md5),
          'last-modified': new Date().toUTCString(),
          'content-length': content.length,
        },
      });
    });
    return { size: content.length, md5 };
  }

  /**
   * Every S3 request makes s3rver stat the bucket's folder and read its `cors.xml` and `website.xml` (the CORS and
   * website middleware; website.xml is absent, so that read throws ENOENT): three thread-pool round trips before the
   * request is served, ~0.8 ms of a 2 ms GetObject spent waiting (measured with --cpu-prof on a GetObject loop). Only
   * this runtime writes the folder (runtime.lock), so the answers are kept until it changes them itself.
   */
  private readonly buckets = new Map<string, Promise<unknown>>();
  private readonly bucketConfigs = new Map<string, Promise<unknown>>();

  override getBucket(bucket: string): Promise<unknown> {
    let known = this.buckets.get(bucket);
    if (!known) {
      known = super.getBucket(bucket);
      this.buckets.set(bucket, known);
      // Only an existing bucket is kept: a missing one is asked again (a PutBucket may create it).
      known.then(
        (found) => found ?? this.buckets.delete(bucket),
        () => this.buckets.delete(bucket),
      );
    }
    return known;
  }

  override async putBucket(bucket: string): Promise<unknown> {
    this.buckets.delete(bucket);
    return super.putBucket(bucket);
  }

  override async deleteBucket(bucket: string): Promise<unknown> {
    this.buckets.delete(bucket);
    for (const name of this.bucketConfigs.keys()) if (name.startsWith(`${bucket}/`)) this.bucketConfigs.delete(name);
    try {
      return await super.deleteBucket(bucket);
    } finally {
      this.buckets.delete(bucket);
    }
  }

  override getSubresource(bucket: string, key: string | undefined, resourceType: string): Promise<unknown> {
    // An object's own subresources (tagging) go to the files: only the bucket's configuration is kept.
    if (key !== undefined) return super.getSubresource(bucket, key, resourceType);
    const name = `${bucket}/${resourceType}`;
    let known = this.bucketConfigs.get(name);
    if (!known) {
      known = super.getSubresource(bucket, key, resourceType);
      this.bucketConfigs.set(name, known);
      known.catch(() => this.bucketConfigs.delete(name));
    }
    return known;
  }

  override async putSubresource(bucket: string, key: string | undefined, resource: { type: string }): Promise<unknown> {
    if (key === undefined) this.bucketConfigs.delete(`${bucket}/${resource.type}`);
    try {
      return await super.putSubresource(bucket, key, resource);
    } finally {
      if (key === undefined) this.bucketConfigs.delete(`${bucket}/${resource.type}`);
    }
  }

  override async deleteSubresource(bucket: string, key: string | undefined, resourceType: string): Promise<unknown> {
    if (key === undefined) this.bucketConfigs.delete(`${bucket}/${resourceType}`);
    try {
      return await super.deleteSubresource(bucket, key, resourceType);
    } finally {
      if (key === undefined) this.bucketConfigs.delete(`${bucket}/${resourceType}`);
    }
  }

  override async getMetadata(bucket: string, key: string): Promise<Record<string, string | number>> {
    if (this.inFlight.size > 0) await this.settled(bucket, key);
    const cached = this.recall(bucket, key);
    return cached ? { ...cached.metadata } : super.getMetadata(bucket, key);
  }

  override async existsObject(bucket: string, key: string): Promise<boolean> {
    if (this.inFlight.size > 0) await this.settled(bucket, key);
    return this.recall(bucket, key) !== undefined || super.existsObject(bucket, key);
  }

  override async getObject(
    bucket: string,
    key: string,
    options?: { start?: number; end?: number },
  ): Promise<S3rverObject | null> {
    if (this.inFlight.size > 0) await this.settled(bucket, key);
    const cached = this.recall(bucket, key);
    if (!cached) return super.getObject(bucket, key, options);
    // The same range rules as s3rver's store: an unsatisfiable range is an object without content.
    const ranged = options !== undefined && (options.start !== undefined || Boolean(options.end));
    const lastByte = Math.max(0, cached.content.length - 1);
    // `||` as s3rver has it: a malformed Range (bytes=x-) gives NaN, read as the whole object.
    const range = { start: options?.start || 0, end: Math.min(options?.end || Infinity, lastByte) };
    const satisfiable = !(range.start < 0 || range.end < range.start);
    const content = satisfiable ? Readable.from([cached.content.subarray(range.start, range.end + 1)]) : null;
    const object = new S3Object(bucket, key, content, { ...cached.metadata });
    if (ranged) object.range = range;
    return object;
  }

  override async copyObject(...args: unknown[]): Promise<unknown> {
    const [, , destBucket, destKey] = args as [string, string, string, string];
    // Not queued behind the key's writes (a copy onto itself reads its source through getObject, which waits for
    // them): it starts once they are done.
    await this.settled(destBucket, destKey);
    this.forget(destBucket, destKey);
    try {
      return await super.copyObject(...args);
    } finally {
      this.forget(destBucket, destKey);
    }
  }

  /**
   * ListObjects as s3rver answers it (keys in order, prefix, delimiter, start-after, max-keys), but
   * reading only the folder the prefix names: s3rver walks from the bucket root and stats every
   * entry of each folder on the way, so listing `derived/<id>/` cost one stat per file ever stored.
   */
  async listObjects(
    bucket: string,
    { delimiter = '', startAfter = '', prefix = '', maxKeys = Infinity }: ListOptions,
  ): Promise<{ objects: S3rverObject[]; commonPrefixes: string[]; isTruncated: boolean }> {
    const folder = prefix.slice(0, prefix.lastIndexOf('/') + 1);
    // A folder path with an empty, "." or ".." segment names no folder of this bucket (the file
    // system would resolve it elsewhere, even into another bucket): no key can match it.
    if (
      folder &&
      folder
        .slice(0, -1)
        .split('/')
        .some((segment) => ['', '.', '..'].includes(segment))
    ) {
      return { objects: [], commonPrefixes: [], isTruncated: false };
    }
    const keys: string[] = [];
    const visit = (directory: string, keyBase: string): void => {
      let entries: Dirent[];
      try {
        entries = readdirSync(directory, { withFileTypes: true });
      } catch (error) {
        // No such folder, or the prefix runs through an object's file: nothing under it.
        if (['ENOENT', 'ENOTDIR'].includes((error as NodeJS.ErrnoException).code ?? '')) return;
        throw error;
      }
      for (const entry of entries) {
        const name = FilesystemStoreBase.decodeKeyPath(entry.name);
        if (entry.isDirectory()) {
          const below = `${keyBase}${name}/`;
          if (below.startsWith(prefix) || prefix.startsWith(below)) visit(join(directory, entry.name), below);
        } else if (name.endsWith(OBJECT_FILE_SUFFIX)) {
          const key = keyBase + name.slice(0, -OBJECT_FILE_SUFFIX.length);
          if (key.startsWith(prefix) && key > startAfter) keys.push(key);
        }
      }
    };
    visit(join(this.getBucketPath(bucket), FilesystemStoreBase.encodeKeyPath(folder)), folder);
    keys.sort();

    const listed: string[] = [];
    const commonPrefixes = new Set<string>();
    let isTruncated = false;
    for (const key of keys) {
      const cut = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
      if (cut !== -1) {
        commonPrefixes.add(key.slice(0, cut + delimiter.length));
        continue;
      }
      if (listed.length === maxKeys) {
        isTruncated = true;
        break;
      }
      listed.push(key);
    }
    const objects = await Promise.all(
      listed.map(async (key) => {
        try {
          return new S3Object(bucket, key, null, await this.getMetadata(bucket, key));
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // deleted meanwhile
          throw error;
        }
      }),
    );
    return {
      objects: objects.filter((object): object is S3rverObject => object !== undefined),
      commonPrefixes: [...commonPrefixes].sort(),
      isTruncated,
    };
  }

  override async deleteObject(bucket: string, key: string): Promise<void> {
    await this.inOrder(bucket, key, async () => {
      this.forget(bucket, key);
      await Promise.all(
        ['object', 'object.md5', 'metadata.json'].map((resource) =>
          rm(this.getResourcePath(bucket, key, resource), { force: true }),
        ),
      );
    });
  }
}
