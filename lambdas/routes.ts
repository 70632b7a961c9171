// THE route table: the CDK api construct and the local runtime both read it, so local == deployed.
import type { AuditAction } from './http/access.js';

/** What a route's Lambda may do to storage; CDK turns it into least-privilege IAM grants. */
export interface StorageAccess {
  /** S3 object-key prefixes (from KEYS) the function reads, writes or deletes. */
  readonly s3Read?: readonly string[];
  readonly s3Write?: readonly string[];
  readonly s3Delete?: readonly string[];
  /** S3 prefixes under which the function lists keys: s3:ListBucket on the bucket, only with that prefix. */
  readonly s3List?: readonly string[];
  /** DynamoDB: read items and query the indexes; write (put/update/delete) items. */
  readonly tableRead?: boolean;
  readonly tableWrite?: boolean;
}

export interface RouteDefinition {
  /** Logical name: also the handler module `lambdas/handlers/<name>.ts` and the CDK construct id, unless `handler` says otherwise. */
  readonly name: string;
  /**
   * The handler module (`lambdas/handlers/<handler>.ts`) and Lambda when several routes share one (DICOMweb's many
   * resources: one warm function per kind of work, fewer stack resources). Sharing routes have the same access,
   * memory, timeout, audit and cursors.
   */
  readonly handler?: string;
  readonly method: 'GET' | 'POST' | 'DELETE';
  /** API Gateway resource path; `{id}` is a path parameter. */
  readonly path: string;
  readonly access: StorageAccess;
  /** Lambda memory (MB) and timeout (s): only routes that differ from the defaults say so. */
  readonly memoryMb?: number;
  readonly timeoutSeconds?: number;
  /** Needs no API key when access control is on: the web page carries no patient data (it asks for the key). */
  readonly public?: boolean;
  /** Issues and accepts paging cursors: gets the deployment's cursor secret (nothing else does). */
  readonly cursors?: boolean;
  /** Writes an audit line per request (who did this to which file; lambdas/http/access.ts); its logs are kept long. */
  readonly audit?: AuditAction;
}

/** The handler module and Lambda that serve a route. */
export function handlerOf(route: RouteDefinition): string {
  return route.handler ?? route.name;
}

/**
 * Storing one file (POST /dicom, STOW-RS; lambdas/ingest/store-file.ts). s3Delete + s3List (derived/): the undo after
 * a failed store removes the original and whatever the processor derived meanwhile; tableRead: a count cut short by
 * a fault is recounted from the records (lambdas/store/dynamo-recount.ts).
 */
const STORE_FILE_ACCESS: StorageAccess = {
  s3Write: ['uploads/'],
  s3Delete: ['uploads/', 'derived/'],
  s3List: ['derived/'],
  tableRead: true,
  tableWrite: true,
};

/**
 * Deleting one file (DELETE /dicom/{id}, DICOMweb DELETE). s3List: cached renderings under derived/<id>/ are found by
 * listing; tableRead: to recount a record whose counting a fault cut short (DeleteItem returns the old item itself).
 */
const DELETE_FILE_ACCESS: StorageAccess = {
  s3Delete: ['uploads/', 'derived/'],
  s3List: ['derived/'],
  tableRead: true,
  tableWrite: true,
};

/** An instance under a study (paths relative to `/dicomweb/studies/{study}`). */
const INSTANCE = '/series/{series}/instances/{instance}';

/** GET routes under `/dicomweb/studies/{study}` served by one shared handler module (its name prefixes theirs). */
function dicomwebRoutes(
  handler: string,
  suffixes: readonly string[],
  settings: Pick<RouteDefinition, 'access' | 'memoryMb' | 'audit'>,
): RouteDefinition[] {
  return suffixes.map((suffix, i) => ({
    name: `${handler}${i}`,
    handler,
    method: 'GET',
    path: `/dicomweb/studies/{study}${suffix}`,
    ...settings,
  }));
}

export const ROUTES: readonly RouteDefinition[] = [
  // The browser page and its scripts and stylesheet (web/, embedded in the bundles): it calls the routes below.
  { name: 'web', method: 'GET', path: '/', access: {}, public: true },
  { name: 'webAsset', method: 'GET', path: '/web/{file}', access: {}, public: true },
  {
    name: 'upload',
    method: 'POST',
    path: '/dicom',
    access: STORE_FILE_ACCESS,
    memoryMb: 1024,
    audit: 'upload',
  },
  // Listing and search: pages of records from the indexes (README "Listing, search and studies").
  { name: 'list', method: 'GET', path: '/dicom', access: { tableRead: true }, cursors: true, audit: 'list' },
  {
    name: 'search',
    method: 'POST',
    path: '/dicom/search',
    access: { tableRead: true },
    cursors: true,
    audit: 'list',
  },
  { name: 'studies', method: 'GET', path: '/studies', access: { tableRead: true }, cursors: true, audit: 'list' },
  { name: 'study', method: 'GET', path: '/studies/{study_uid}', access: { tableRead: true }, audit: 'list' },
  {
    name: 'studySeries',
    method: 'GET',
    path: '/studies/{study_uid}/series',
    access: { tableRead: true },
    audit: 'list',
  },
  {
    name: 'studyFiles',
    method: 'GET',
    path: '/studies/{study_uid}/files',
    access: { tableRead: true },
    cursors: true,
    audit: 'list',
  },
  { name: 'get', method: 'GET', path: '/dicom/{id}', access: { tableRead: true }, audit: 'read' },
  {
    name: 'attributes',
    method: 'GET',
    path: '/dicom/{id}/attributes',
    access: { s3Read: ['derived/'], tableRead: true },
    memoryMb: 1024,
    audit: 'read',
  },
  {
    name: 'png',
    method: 'GET',
    path: '/dicom/{id}/png',
    // Other frames, windows and sizes are rendered from the original (uploads/) and cached under
    // derived/<id>/render/; a rendering written after a concurrent DELETE is removed again.
    access: { s3Read: ['uploads/', 'derived/'], s3Write: ['derived/'], s3Delete: ['derived/'], tableRead: true },
    // Renders are CPU-bound (cost per render about the same at any size, latency halves from 512 MB).
    memoryMb: 1024,
    audit: 'read',
  },
  {
    name: 'delete',
    method: 'DELETE',
    path: '/dicom/{id}',
    access: DELETE_FILE_ACCESS,
    audit: 'delete',
  },
  // Large files: the client sends the bytes straight to S3 with presigned URLs (PutObject covers
  // PUT, CreateMultipartUpload, UploadPart and CompleteMultipartUpload), only under uploads/.
  {
    name: 'largeUpload',
    method: 'POST',
    path: '/dicom/uploads',
    access: { s3Write: ['uploads/'], tableWrite: true },
    audit: 'upload',
  },
  {
    name: 'completeUpload',
    method: 'POST',
    path: '/dicom/uploads/{id}/complete',
    access: { s3Read: ['uploads/'], s3Write: ['uploads/'], tableRead: true },
    audit: 'upload',
  },
  {
    name: 'file',
    method: 'GET',
    path: '/dicom/{id}/file',
    access: { s3Read: ['uploads/'], tableRead: true },
    audit: 'download',
  },
  {
    // Copies the original onto itself (GetObject + PutObject) so S3 announces it to the processor again.
    name: 'reprocess',
    method: 'POST',
    path: '/dicom/{id}/reprocess',
    access: { s3Read: ['uploads/'], s3Write: ['uploads/'], tableRead: true, tableWrite: true },
    // A server-side copy of a 1 GB original takes seconds; stay under API Gateway's 29 s.
    timeoutSeconds: 28,
    audit: 'reprocess',
  },
  // DICOMweb (PS3.18) under /dicomweb: QIDO-RS searches served from the study, series and file indexes.
  ...(
    [
      ['dicomwebStudies', '/dicomweb/studies'],
      ['dicomwebStudySeries', '/dicomweb/studies/{study}/series'],
      ['dicomwebSeries', '/dicomweb/series'],
      ['dicomwebStudyInstances', '/dicomweb/studies/{study}/instances'],
      ['dicomwebSeriesInstances', '/dicomweb/studies/{study}/series/{series}/instances'],
      ['dicomwebInstances', '/dicomweb/instances'],
    ] as const
  ).map(([name, path]): RouteDefinition => ({
    name,
    handler: 'dicomwebSearch',
    method: 'GET',
    path,
    access: { tableRead: true },
    audit: 'list',
  })),
  // WADO-RS: metadata made at ingest (derived/<id>/metadata.json; an older file's is parsed from its original),
  // with answers too large for one Lambda response written under answers/ and redirected to.
  ...dicomwebRoutes('dicomwebMetadata', ['/metadata', '/series/{series}/metadata', `${INSTANCE}/metadata`], {
    // answers/: assembled series and study answers, kept and reused until one of their instances changes.
    access: { s3Read: ['uploads/', 'derived/', 'answers/'], s3Write: ['answers/'], tableRead: true },
    memoryMb: 1024,
    audit: 'read',
  }),
  // The stored files (multipart application/dicom) and the bulk data the metadata's BulkDataURIs name.
  ...dicomwebRoutes('dicomwebRetrieve', ['', '/series/{series}', INSTANCE, `${INSTANCE}/bulkdata/{path}`], {
    access: { s3Read: ['uploads/'], tableRead: true },
    memoryMb: 1024,
    audit: 'download',
  }),
  // Frames as stored or decoded, read from the original by byte ranges.
  ...dicomwebRoutes('dicomwebFrames', [`${INSTANCE}/frames/{frames}`], {
    // answers/: frames too large for one Lambda answer, written once and redirected to.
    access: { s3Read: ['uploads/', 'answers/'], s3Write: ['answers/'], tableRead: true },
    memoryMb: 1024,
    audit: 'read',
  }),
  // Rendered images and thumbnails through the png route's pipeline and cache (derived/<id>/render/).
  ...dicomwebRoutes(
    'dicomwebRendered',
    [
      `${INSTANCE}/rendered`,
      `${INSTANCE}/frames/{frames}/rendered`,
      '/rendered',
      '/series/{series}/rendered',
      '/thumbnail',
      '/series/{series}/thumbnail',
      `${INSTANCE}/thumbnail`,
      `${INSTANCE}/frames/{frames}/thumbnail`,
    ],
    {
      access: { s3Read: ['uploads/', 'derived/'], s3Write: ['derived/'], s3Delete: ['derived/'], tableRead: true },
      memoryMb: 1024,
      audit: 'read',
    },
  ),
  // STOW-RS: each instance goes through POST /dicom's pipeline (lambdas/ingest/store-file.ts), with its grants; its
  // tableRead also serves the look-up of an already stored SOP Instance UID (files-by-sop-instance, GetItem).
  ...(['/dicomweb/studies/{study}', '/dicomweb/studies'] as const).map((path, i): RouteDefinition => ({
    name: `dicomwebStore${i}`,
    handler: 'dicomwebStore',
    method: 'POST',
    path,
    access: STORE_FILE_ACCESS,
    memoryMb: 1024,
    audit: 'upload',
  })),
  // DELETE of a study, series or instance (non-standard, as Orthanc, dcm4chee and Azure offer): DELETE /dicom/{id}'s
  // pipeline per file, with its grants; its tableRead also finds the files by UID (study, series and SOP indexes).
  ...(['', '/series/{series}', INSTANCE] as const).map((suffix, i): RouteDefinition => ({
    name: `dicomwebDelete${i}`,
    handler: 'dicomwebDelete',
    method: 'DELETE',
    path: `/dicomweb/studies/{study}${suffix}`,
    access: DELETE_FILE_ACCESS,
    audit: 'delete',
  })),
];

/** The processor: not an HTTP route; S3 ObjectCreated:* events on the upload prefix trigger it. */
export const PROCESSOR = {
  name: 'processor',
  triggerPrefix: 'uploads/',
  access: {
    s3Read: ['uploads/'],
    s3Write: ['derived/'],
    // uploads/: a file that is not DICOM, or whose record was deleted meanwhile, is removed.
    s3Delete: ['uploads/', 'derived/'],
    // A reprocess removes cached renderings; a deleted file's are found by listing derived/<id>/.
    s3List: ['derived/'],
    tableRead: true,
    tableWrite: true,
  } satisfies StorageAccess,
  memoryMb: 3008,
  timeoutSeconds: 120,
  /** Lambda's asynchronous retries after the first attempt; then the event goes to the dead-letter queue. */
  retryAttempts: 2,
  /** An event not processed within this long (e.g. throttled) also goes to the dead-letter queue. */
  maxEventAgeSeconds: 3600,
} as const;

/**
 * The dead-letter queue's consumer: not an HTTP route. It marks FAILED the file of every processor
 * event that failed all its attempts (locally the processor pool hands it the same record).
 */
export const PROCESSING_FAILED = {
  name: 'processingFailed',
  // Marking FAILED is one conditional UpdateItem (its old values come back with it); tableRead only to recount a
  // record whose counting a fault cut short.
  access: { tableRead: true, tableWrite: true } satisfies StorageAccess,
} as const;
