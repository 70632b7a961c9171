// The ObjectStore interface (S3 in AWS and, through the same adapter, the embedded emulator locally).

/** Headers a presigned download answers with, so a browser or curl saves the file under its name. */
export interface DownloadOptions {
  contentType: string;
  contentDisposition: string;
}

/** One uploaded part of a multipart upload, as the client reports it. */
export interface UploadedPart {
  partNumber: number;
  etag: string;
}

/** Why S3 refused to assemble a multipart upload (a client mistake, not a bug). */
export type MultipartCompletion =
  | { ok: true }
  | {
      ok: false;
      /** ALREADY_EXISTS: the key holds an object already (completion is conditional: If-None-Match: *). */
      code: 'NO_SUCH_UPLOAD' | 'INVALID_PART' | 'PART_TOO_SMALL' | 'ALREADY_EXISTS';
      message: string;
    };

/** A presigned request: the client must send exactly these headers with it (they are signed). */
export interface PresignedRequest {
  url: string;
  headers: Record<string, string>;
}

export interface ObjectStore {
  /** `metadata` becomes S3 user metadata (x-amz-meta-*). */
  put(key: string, body: Uint8Array, contentType: string, metadata?: Record<string, string>): Promise<void>;
  /** The object's bytes (of `versionId` when given), or undefined when there is no such object. */
  get(key: string, versionId?: string): Promise<Uint8Array | undefined>;
  /** The object's bytes and its ETag (which changes whenever the object does), or undefined when there is none. */
  getTagged(key: string): Promise<{ bytes: Uint8Array; etag: string } | undefined>;
  /**
   * Bytes [start, end) of the object (fewer at its end) and its total size, or undefined when there
   * is no such object: one frame of a large file without reading the rest.
   */
  getRange(
    key: string,
    start: number,
    end: number,
    versionId?: string,
  ): Promise<{ bytes: Uint8Array; size: number } | undefined>;
  /** Every key under `prefix` (s3:ListBucket, granted only with a prefix condition). */
  listKeys(prefix: string): Promise<string[]>;
  /** Size and user metadata without the bytes, or undefined when there is no such object. */
  head(key: string, versionId?: string): Promise<{ sizeBytes: number; metadata: Record<string, string> } | undefined>;
  /** Deletes the keys that exist; missing keys are not an error. */
  delete(keys: readonly string[]): Promise<void>;
  /** A short-lived URL that GETs one object (one version of it when `versionId` is given). */
  presignGet(key: string, expiresInSeconds: number, download?: DownloadOptions, versionId?: string): Promise<string>;
  /**
   * A short-lived, single-use URL that PUTs exactly `sizeBytes` bytes to one key: the size and
   * `If-None-Match: *` are signed, so a second PUT (the key exists) answers 412 and a PUT without
   * the headers 403. The client must send `headers`.
   */
  presignPut(key: string, sizeBytes: number, expiresInSeconds: number): Promise<PresignedRequest>;
  /** Starts a multipart upload; returns its UploadId. */
  startMultipartUpload(key: string, contentType: string): Promise<string>;
  /** A short-lived URL that PUTs one part of exactly `sizeBytes` bytes. */
  presignUploadPart(
    key: string,
    uploadId: string,
    partNumber: number,
    sizeBytes: number,
    expiresInSeconds: number,
  ): Promise<string>;
  /** Conditional (If-None-Match: *): never replaces an object already at `key`. */
  completeMultipartUpload(key: string, uploadId: string, parts: readonly UploadedPart[]): Promise<MultipartCompletion>;
  /**
   * Copies an object onto itself with new metadata: S3 announces it again (ObjectCreated:Copy),
   * which re-runs whatever its storage event triggers.
   */
  copyInPlace(key: string, contentType: string, metadata: Record<string, string>): Promise<void>;
}
