// Environment variable names and storage layout shared by the CDK stack, the local runtime and the handlers.

/** Environment variables every Lambda reads; CDK sets them, the local runtime sets them the same way. */
export const ENV = {
  bucketName: 'BUCKET_NAME',
  tableName: 'TABLE_NAME',
  /** How long a read waits for a file still being processed before answering 202 (ms). */
  processingWaitMs: 'PROCESSING_WAIT_MS',
} as const;

/** S3 key layout: every key is derived from the service-made UUID, never from client input. */
export const KEYS = {
  /** Prefix of uploaded originals; the processor's S3 notification filters on it. */
  uploadPrefix: 'uploads/',
  /** Prefix of everything the processor derives from an upload. */
  derivedPrefix: 'derived/',
  upload: (id: string): string => `uploads/${id}`,
  derivedFolder: (id: string): string => `derived/${id}/`,
  png: (id: string): string => `derived/${id}/image.png`,
  attributes: (id: string): string => `derived/${id}/attributes.json`,
  /** Everything stored for one file (what DELETE removes). */
  allObjects: (id: string): string[] => [`uploads/${id}`, `derived/${id}/image.png`, `derived/${id}/attributes.json`],
  derivedObjects: (id: string): string[] => [`derived/${id}/image.png`, `derived/${id}/attributes.json`],
} as const;

/** DynamoDB table layout, used by CDK, by the local runtime to create the table, and by the record store. */
export const TABLE = {
  partitionKey: 'id',
  /** Global secondary index that lists files newest first without a Scan. */
  listIndex: { name: 'by-created', partitionKey: 'list_pk', sortKey: 'created_at' },
  /** Constant partition of the list index (one listing of all files). */
  listPartition: 'FILE',
} as const;

/**
 * The largest raw request body POST /dicom accepts: a Lambda request carries 6 MB, and API
 * Gateway hands a binary body over base64-encoded (4/3), plus the event's own JSON around it.
 */
export const MAX_UPLOAD_BODY_BYTES = 4_300_000;

/** Above this a PNG is served as a 302 to a short-lived presigned URL (Lambda responses carry 6 MB, base64 inflates 4/3). */
export const MAX_INLINE_PNG_BYTES = 4_000_000;

/** Default wait of a read for a file still being processed. */
export const DEFAULT_PROCESSING_WAIT_MS = 8_000;

/** The route large files must use instead of POST /dicom (named in the 413 error). */
export const LARGE_UPLOAD_ROUTE = 'POST /dicom/uploads';

/** Local/emulator-only switch: s3rver (and LocalStack) need path-style bucket addressing. */
export const S3_FORCE_PATH_STYLE_ENV = 'S3_FORCE_PATH_STYLE';
