// ObjectStore on S3 with the AWS SDK v3; clients are injected so tests and the local runtime share it.
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type GetObjectCommandOutput,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { DownloadOptions, MultipartCompletion, ObjectStore, PresignedRequest, UploadedPart } from './objects.js';

/**
 * A missing key: 404 (NoSuchKey; NotFound from HeadObject) only. A 403 is a fault (a missing grant, a KMS key the
 * role may not use) and is thrown, so the processor fails, retries and reaches the dead-letter queue instead of
 * leaving a file PROCESSING as if its bytes had not arrived. Reading functions hold s3:ListBucket so that S3 answers
 * a missing key with 404, not 403 (lib/constructs/function-defaults.ts).
 */
function isMissing(error: unknown): boolean {
  const name = (error as { name?: string }).name;
  if (error instanceof NoSuchKey || name === 'NoSuchKey' || name === 'NotFound') return true;
  return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404;
}

/** Reads a body into one buffer of the announced length: no second copy of a file of hundreds of MB. */
async function readBody(response: GetObjectCommandOutput): Promise<Uint8Array> {
  const length = response.ContentLength;
  if (length === undefined) return response.Body!.transformToByteArray();
  const out = new Uint8Array(length);
  let offset = 0;
  for await (const chunk of response.Body as AsyncIterable<Uint8Array>) {
    if (offset + chunk.length > length) throw new Error(`S3 body longer than its Content-Length (${length})`);
    out.set(chunk, offset);
    offset += chunk.length;
  }
  if (offset !== length) throw new Error(`S3 body ended after ${offset} of ${length} bytes`);
  return out;
}

const DELETE_BATCH = 1000;

const MULTIPART_ERRORS: Record<string, Exclude<MultipartCompletion, { ok: true }>['code']> = {
  NoSuchUpload: 'NO_SUCH_UPLOAD',
  InvalidPart: 'INVALID_PART',
  InvalidPartOrder: 'INVALID_PART',
  EntityTooSmall: 'PART_TOO_SMALL',
  PreconditionFailed: 'ALREADY_EXISTS',
};

/** Conditional writes: S3 answers 412 PreconditionFailed when the key already holds an object. */
const IF_NONE_MATCH = '*';

export class S3ObjectStore implements ObjectStore {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  async put(key: string, body: Uint8Array, contentType: string, metadata?: Record<string, string>): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: body,
        ContentType: contentType,
        ContentLength: body.length,
        ...(metadata ? { Metadata: metadata } : {}),
      }),
    );
  }

  async get(key: string, versionId?: string): Promise<Uint8Array | undefined> {
    try {
      const response = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: key, ...(versionId ? { VersionId: versionId } : {}) }),
      );
      return await readBody(response);
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  async getTagged(key: string): Promise<{ bytes: Uint8Array; etag: string } | undefined> {
    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return { bytes: await readBody(response), etag: (response.ETag ?? '').replaceAll('"', '') };
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  async getRange(
    key: string,
    start: number,
    end: number,
    versionId?: string,
  ): Promise<{ bytes: Uint8Array; size: number } | undefined> {
    if (end <= start) throw new Error(`empty byte range ${start}-${end}`);
    try {
      const response = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Range: `bytes=${start}-${end - 1}`,
          ...(versionId ? { VersionId: versionId } : {}),
        }),
      );
      const bytes = await readBody(response);
      // "bytes 0-65535/7200342"; S3 answers a range that covers the whole object without one.
      const total = /\/(\d+)$/.exec(response.ContentRange ?? '')?.[1];
      return { bytes, size: total === undefined ? bytes.length : Number(total) };
    } catch (error) {
      if (isMissing(error)) return undefined;
      // A start at or past the end (the caller knew no size yet): nothing there.
      if ((error as { name?: string }).name === 'InvalidRange') return { bytes: new Uint8Array(0), size: start };
      throw error;
    }
  }

  async listKeys(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: prefix,
          ...(token ? { ContinuationToken: token } : {}),
        }),
      );
      for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }

  async head(
    key: string,
    versionId?: string,
  ): Promise<{ sizeBytes: number; metadata: Record<string, string> } | undefined> {
    try {
      const response = await this.client.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: key, ...(versionId ? { VersionId: versionId } : {}) }),
      );
      return { sizeBytes: response.ContentLength ?? 0, metadata: response.Metadata ?? {} };
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  async delete(keys: readonly string[]): Promise<void> {
    // DeleteObjects takes at most 1,000 keys (a file with many cached renderings has more).
    for (let from = 0; from < keys.length; from += DELETE_BATCH) {
      const response = await this.client.send(
        new DeleteObjectsCommand({
          Bucket: this.bucket,
          Delete: { Objects: keys.slice(from, from + DELETE_BATCH).map((Key) => ({ Key })), Quiet: true },
        }),
      );
      const failed = response.Errors?.filter((e) => e.Code !== 'NoSuchKey') ?? [];
      if (failed.length > 0) throw new Error(`S3 DeleteObjects failed for ${failed.length} key(s): ${failed[0]?.Code}`);
    }
  }

  presignGet(key: string, expiresInSeconds: number, download?: DownloadOptions, versionId?: string): Promise<string> {
    const overrides = {
      ...(download
        ? { ResponseContentType: download.contentType, ResponseContentDisposition: download.contentDisposition }
        : {}),
      ...(versionId ? { VersionId: versionId } : {}),
    };
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: key, ...overrides }), {
      expiresIn: expiresInSeconds,
    });
  }

  async presignPut(key: string, sizeBytes: number, expiresInSeconds: number): Promise<PresignedRequest> {
    // Content-Length and If-None-Match are signed (X-Amz-SignedHeaders=content-length;host;if-none-match):
    // S3 refuses any other size, a second PUT once the object exists (412), and a PUT without the header (403).
    const url = await getSignedUrl(
      this.client,
      new PutObjectCommand({ Bucket: this.bucket, Key: key, ContentLength: sizeBytes, IfNoneMatch: IF_NONE_MATCH }),
      { expiresIn: expiresInSeconds },
    );
    return { url, headers: { 'If-None-Match': IF_NONE_MATCH } };
  }

  async startMultipartUpload(key: string, contentType: string): Promise<string> {
    const response = await this.client.send(
      new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key, ContentType: contentType }),
    );
    if (!response.UploadId) throw new Error('S3 CreateMultipartUpload returned no UploadId');
    return response.UploadId;
  }

  presignUploadPart(
    key: string,
    uploadId: string,
    partNumber: number,
    sizeBytes: number,
    expiresInSeconds: number,
  ): Promise<string> {
    return getSignedUrl(
      this.client,
      new UploadPartCommand({
        Bucket: this.bucket,
        Key: key,
        UploadId: uploadId,
        PartNumber: partNumber,
        ContentLength: sizeBytes,
      }),
      { expiresIn: expiresInSeconds },
    );
  }

  async completeMultipartUpload(
    key: string,
    uploadId: string,
    parts: readonly UploadedPart[],
  ): Promise<MultipartCompletion> {
    try {
      await this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: key,
          UploadId: uploadId,
          IfNoneMatch: IF_NONE_MATCH,
          MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
        }),
      );
      return { ok: true };
    } catch (error) {
      const { name, message } = error as { name?: string; message?: string };
      const code = name ? MULTIPART_ERRORS[name] : undefined;
      if (code) return { ok: false, code, message: message ?? name! };
      throw error;
    }
  }

  async copyInPlace(key: string, contentType: string, metadata: Record<string, string>): Promise<void> {
    // S3 refuses a copy onto itself unless something changes: REPLACE with fresh metadata does.
    await this.client.send(
      new CopyObjectCommand({
        Bucket: this.bucket,
        Key: key,
        CopySource: `${this.bucket}/${encodeURIComponent(key).replace(/%2F/g, '/')}`,
        MetadataDirective: 'REPLACE',
        ContentType: contentType,
        Metadata: metadata,
      }),
    );
  }
}
