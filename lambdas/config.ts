// Environment variable names and storage layout shared by the CDK stack, the local runtime and the handlers.

/** Environment variables every Lambda reads; CDK sets them, the local runtime sets them the same way. */
export const ENV = {
  bucketName: 'BUCKET_NAME',
  tableName: 'TABLE_NAME',
  /** How long a read waits for a file still being processed before answering 202 (ms). */
  processingWaitMs: 'PROCESSING_WAIT_MS',
  /** The per-deployment secret paging cursors are sealed with (listing routes only). */
  cursorSecret: 'CURSOR_SECRET',
  /** Browser origins allowed to call the API (comma-separated); unset or empty: CORS off. */
  corsOrigins: 'CORS_ORIGINS',
  /**
   * How the ten file listing indexes project the item (LISTING_INDEXES): `all` (default) or `keysOnly`
   * (`-c listingIndexes=keysOnly`; `npm start` reads the same variable). Readers fetch what a keys-only copy lacks.
   */
  listingIndexes: 'LISTING_INDEXES',
} as const;

/** S3 key layout: every key is derived from the service-made UUID, never from client input. */
export const KEYS = {
  /** Prefix of uploaded originals; the processor's S3 notification filters on it. */
  uploadPrefix: 'uploads/',
  /** Prefix of everything the processor derives from an upload. */
  derivedPrefix: 'derived/',
  /**
   * Answers too large for one Lambda response (a big series' DICOMweb metadata), served as a 302 to a presigned
   * GET; the bucket's lifecycle removes them after a day. Named by a hash of what they answer, never by client text.
   */
  answerPrefix: 'answers/',
  answer: (name: string): string => `answers/${name}`,
  upload: (id: string): string => `uploads/${id}`,
  derivedFolder: (id: string): string => `derived/${id}/`,
  png: (id: string): string => `derived/${id}/image.png`,
  /**
   * The two JSON documents the processor makes, in one object (one PUT): the instance's DICOM JSON (PS3.18 Annex F,
   * WADO-RS metadata) and the attributes document of GET /dicom/{id}/attributes. A small header at its start gives
   * each part's byte range, so a reader takes only its own part (lambdas/store/derived-documents.ts).
   */
  documents: (id: string): string => `derived/${id}/documents.json`,
  /**
   * The attributes document on its own: written only when it is too large for a Lambda response (the route answers
   * a presigned redirect to it), and by versions before DERIVED_SCHEMA_VERSION 5, which wrote every file's.
   */
  attributes: (id: string): string => `derived/${id}/attributes.json`,
  /** The instance's DICOM JSON on its own, as versions before DERIVED_SCHEMA_VERSION 5 wrote it (read, never written). */
  metadata: (id: string): string => `derived/${id}/metadata.json`,
  /** The default rendering scaled to fit THUMBNAIL_MAX_PIXELS (the processor makes it; absent when the image is that small). */
  thumbnail: (id: string): string => `derived/${id}/thumbnail.png`,
  /** On-demand renderings (GET /png with parameters), cached by the png Lambda under their normalised name. */
  renderingPrefix: (id: string): string => `derived/${id}/render/`,
  rendering: (id: string, name: string): string => `derived/${id}/render/${name}.png`,
  /**
   * The fixed keys of one file; cached renderings are found by listing derivedFolder (s3:ListBucket
   * limited to the derived/ prefix), see lambdas/store/file-objects.ts.
   */
  allObjects: (id: string): string[] => [`uploads/${id}`, ...KEYS.derivedObjects(id)],
  /** Old layout included: a file processed before schema 5 still has attributes.json and metadata.json. */
  derivedObjects: (id: string): string[] => [
    `derived/${id}/image.png`,
    `derived/${id}/documents.json`,
    `derived/${id}/thumbnail.png`,
    `derived/${id}/attributes.json`,
    `derived/${id}/metadata.json`,
  ],
} as const;

/**
 * A Lambda response is at most 6 MB: a larger attributes document is stored on its own (KEYS.attributes) and GET
 * /dicom/{id}/attributes answers with a redirect to it.
 */
export const MAX_INLINE_ATTRIBUTES_BYTES = 5_000_000;

/** The thumbnail's bounding box (pixels): the record links it as `/dicom/{id}/png?max=256`. */
export const THUMBNAIL_MAX_PIXELS = 256;

/** The largest `max` or `size` side GET /png accepts (renderings are never larger than the image anyway). */
export const MAX_RENDER_PIXELS = 4096;

/** DynamoDB table layout, used by CDK, by the local runtime to create the table, and by the record store. */
export const TABLE = {
  partitionKey: 'id',
  /** DynamoDB TTL attribute (epoch seconds): set only while a direct upload's bytes are awaited. */
  ttlAttribute: 'expires_at_epoch',
  /**
   * Write shards of the partitions every upload lands in (all files, one modality, a status, all
   * studies): a GSI partition takes 1,000 WCU/s and a rising sort key defeats split-for-heat, so
   * these spread over `shards` partitions and reads merge them. Raising it later is safe (readers
   * query 0..shards-1, old items keep their shard); lowering it strands items.
   */
  shards: 4,
  /**
   * The global secondary indexes (README "Index design"). Sort keys are unique composites so a
   * position in one is a cursor: `created_key` = created_at#id (newest upload first), `date_key`
   * = study_date#created_at#id (newest study first), `study_sort` = study_date#study_uid.
   */
  indexes: {
    filesByCreated: { name: 'files-by-created', partitionKey: 'all_shard', sortKey: 'created_key', projection: 'ALL' },
    filesByDate: { name: 'files-by-date', partitionKey: 'all_shard', sortKey: 'date_key', projection: 'ALL' },
    filesByModality: {
      name: 'files-by-modality',
      partitionKey: 'modality_shard',
      sortKey: 'created_key',
      projection: 'ALL',
    },
    filesByModalityDate: {
      name: 'files-by-modality-date',
      partitionKey: 'modality_shard',
      sortKey: 'date_key',
      projection: 'ALL',
    },
    /** Sparse: only records not READY carry `status_shard` (in flight or failed: few). */
    filesByStatus: { name: 'files-by-status', partitionKey: 'status_shard', sortKey: 'created_key', projection: 'ALL' },
    filesByStatusDate: {
      name: 'files-by-status-date',
      partitionKey: 'status_shard',
      sortKey: 'date_key',
      projection: 'ALL',
    },
    filesByPatient: { name: 'files-by-patient', partitionKey: 'patient_id', sortKey: 'created_key', projection: 'ALL' },
    filesByPatientDate: {
      name: 'files-by-patient-date',
      partitionKey: 'patient_id',
      sortKey: 'date_key',
      projection: 'ALL',
    },
    filesByStudy: {
      name: 'files-by-study',
      partitionKey: 'study_instance_uid',
      sortKey: 'created_key',
      projection: 'ALL',
    },
    filesBySeries: {
      name: 'files-by-series',
      partitionKey: 'series_instance_uid',
      sortKey: 'created_key',
      projection: 'ALL',
    },
    /** Duplicate look-ups need ids only. */
    filesBySopInstance: {
      name: 'files-by-sop-instance',
      partitionKey: 'sop_instance_uid',
      sortKey: 'created_key',
      projection: 'KEYS_ONLY',
    },
    filesBySha256: { name: 'files-by-sha256', partitionKey: 'sha256', sortKey: 'created_key', projection: 'KEYS_ONLY' },
    studiesByDate: { name: 'studies-by-date', partitionKey: 'study_shard', sortKey: 'study_sort', projection: 'ALL' },
    /**
     * Series items (DICOMweb QIDO): a study's series by series number (`series_sort` = number#uid), and every
     * series newest first (`series_created` = created_at#uid) over the write shards.
     */
    seriesByStudy: { name: 'series-by-study', partitionKey: 'series_study', sortKey: 'series_sort', projection: 'ALL' },
    seriesByCreated: {
      name: 'series-by-created',
      partitionKey: 'series_shard',
      sortKey: 'series_created',
      projection: 'ALL',
    },
  },
} as const;

/** One global secondary index of TABLE: string keys, ALL, KEYS_ONLY or INCLUDE (keys plus nonKeyAttributes) projection. */
export interface IndexDefinition {
  readonly name: string;
  readonly partitionKey: string;
  readonly sortKey: string;
  readonly projection: 'ALL' | 'KEYS_ONLY' | 'INCLUDE';
  readonly nonKeyAttributes?: readonly string[];
}

/**
 * How the file listing indexes project the item: `all` copies the whole item into each (a listing page is one Query
 * a stream), `keysOnly` only the keys (a page is the Query plus a BatchGetItem of the items; ~60% fewer index write
 * units and ~80% less index storage: docs/cost.md). The duplicate look-ups are KEYS_ONLY and the study and series
 * indexes ALL either way.
 */
export type ListingIndexes = 'all' | 'keysOnly';

export const LISTING_INDEXES: readonly ListingIndexes[] = ['all', 'keysOnly'];

/** The ten indexes the listing projection applies to (every file index but the duplicate look-ups). */
export const FILE_LISTING_INDEXES: readonly (keyof typeof TABLE.indexes)[] = [
  'filesByCreated',
  'filesByDate',
  'filesByModality',
  'filesByModalityDate',
  'filesByStatus',
  'filesByStatusDate',
  'filesByPatient',
  'filesByPatientDate',
  'filesByStudy',
  'filesBySeries',
];

/** A listing projection named by a flag or variable (case ignored; unset: `all`), or undefined when unknown. */
export function parseListingIndexes(text: string | undefined): ListingIndexes | undefined {
  const value = (text ?? '').trim().toLowerCase();
  if (value === '' || value === 'all') return 'all';
  if (value === 'keysonly') return 'keysOnly';
  return undefined;
}

/** The indexes of TABLE by their names there, with the file listing indexes projected as `listing` chooses. */
export function indexDefinitions(listing: ListingIndexes = 'all'): Record<keyof typeof TABLE.indexes, IndexDefinition> {
  const keys = Object.keys(TABLE.indexes) as (keyof typeof TABLE.indexes)[];
  const indexes = tableIndexes(listing);
  return Object.fromEntries(keys.map((key, i) => [key, indexes[i]!])) as Record<
    keyof typeof TABLE.indexes,
    IndexDefinition
  >;
}

/**
 * Every index of the table, in a stable order (CDK and the local runtime create exactly these), with the file
 * listing indexes projected as `listing` chooses.
 */
export function tableIndexes(listing: ListingIndexes = 'all'): IndexDefinition[] {
  return Object.entries(TABLE.indexes).map(([key, index]) =>
    listing === 'keysOnly' && FILE_LISTING_INDEXES.includes(key as keyof typeof TABLE.indexes)
      ? { ...index, projection: 'KEYS_ONLY' }
      : index,
  );
}

/** Every attribute that is a key of the table or of an index (all strings). */
export function tableKeyAttributes(): string[] {
  return [...new Set([TABLE.partitionKey, ...tableIndexes().flatMap((i) => [i.partitionKey, i.sortKey])])];
}

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

/** Above this, GET /dicom/{id}/file is a 302 to a presigned GET (same Lambda response limit as PNGs). */
export const MAX_INLINE_FILE_BYTES = 4_000_000;

const MIB = 1024 * 1024;

/**
 * The largest file POST /dicom/uploads accepts: the processor holds the whole file in memory
 * (1,769 MB Lambda; a 1 GiB file peaks at 1,128 MB); larger files need a streaming processor (see README, "Large files").
 */
export const MAX_DIRECT_UPLOAD_BYTES = 1024 * MIB;

/** From this size POST /dicom/uploads hands out multipart part URLs instead of one PUT URL. */
export const MULTIPART_THRESHOLD_BYTES = 100 * MIB;

/** Part size of a multipart upload (S3: at least 5 MiB except the last part, at most 10,000 parts). */
export const MULTIPART_PART_BYTES = 16 * MIB;
export const MULTIPART_MIN_PART_BYTES = 5 * MIB;
export const MULTIPART_MAX_PARTS = 10_000;

/** How long presigned upload URLs stay valid (Lambda role credentials outlive this comfortably). */
export const UPLOAD_URL_SECONDS = 3600;

/** After the upload URLs expire, how long a record waits for bytes that started arriving in time. */
export const UPLOAD_GRACE_SECONDS = 3600;

/**
 * A record still PROCESSING this long after its bytes arrived reads as FAILED: longer than the
 * processor's maximum event age (1 h) plus three attempts, so only lost work trips it.
 */
export const PROCESSING_DEADLINE_SECONDS = 90 * 60;

/** How long presigned download URLs (large originals, large PNGs) stay valid. */
export const DOWNLOAD_URL_SECONDS = 300;
