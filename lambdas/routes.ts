// THE route table: the CDK api construct and the local runtime both read it, so local == deployed. It also declares
// what each route takes and answers: lambdas/http/query.ts checks query strings against it, lambdas/http/openapi.ts
// turns it into the OpenAPI document (GET /openapi.json, docs/openapi.json).
import {
  DOWNLOAD_URL_SECONDS,
  KEYS,
  MAX_DIRECT_UPLOAD_BYTES,
  MAX_RENDER_PIXELS,
  MAX_UPLOAD_BODY_BYTES,
  THUMBNAIL_MAX_PIXELS,
} from './config.js';
import type { AuditAction } from './http/access.js';
import { DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT, PROCESSING_STATUSES } from './store/queries.js';
import { MAX_RECORDS_PER_READ } from './store/records.js';

/** What a route's Lambda may do to storage; CDK turns it into least-privilege IAM grants. */
export interface StorageAccess {
  /**
   * S3 object-key prefixes (from KEYS) the function reads, writes or deletes; a `*` inside one matches any characters
   * (`KEYS.png('*')`: every file's default PNG and nothing else under derived/).
   */
  readonly s3Read?: readonly string[];
  readonly s3Write?: readonly string[];
  readonly s3Delete?: readonly string[];
  /** S3 prefixes under which the function lists keys: s3:ListBucket on the bucket, only with that prefix. */
  readonly s3List?: readonly string[];
  /** DynamoDB: read items and query the indexes; write (put/update/delete) items. */
  readonly tableRead?: boolean;
  readonly tableWrite?: boolean;
  /** DynamoDB: read many items by key in one request (BatchGetItem), on the table only (no index). */
  readonly tableBatchRead?: boolean;
  /**
   * Lists files through the file listing indexes (with tableRead). Under `-c listingIndexes=keysOnly` those hold the
   * keys only and the items are read by key: BatchGetItem on the table; with the default ALL indexes nothing more.
   */
  readonly listingRead?: boolean;
}

/** A JSON Schema (2020-12, as OpenAPI 3.1 reads it). */
export type JsonSchema = { readonly [keyword: string]: unknown };

/** A query parameter's value, a JSON Schema subset. Strings are trimmed before they are checked; enums ignore case. */
export type QueryValue =
  | { readonly type: 'integer'; readonly minimum: number; readonly maximum?: number; readonly default?: number }
  | {
      readonly type: 'string';
      readonly enum?: readonly string[];
      readonly pattern?: string;
      readonly maxLength?: number;
    };

export interface QueryParameter {
  /** What the value must be, a phrase: the document's text and the 400's ("limit must be <description>"). */
  readonly description: string;
  readonly schema: QueryValue;
  /** May be given more than once, each value counting (QIDO's includefield); otherwise a repeat is 400 BAD_QUERY. */
  readonly repeated?: boolean;
  /** The route cannot do without it (the document says so); its handler answers its absence with its own code. */
  readonly required?: boolean;
}

/** A request body: its media type (no body: the route has none), what it holds, and its JSON Schema if any. */
export interface RequestBody {
  readonly mediaType: 'multipart/form-data' | 'application/json' | 'multipart/related; type="application/dicom"';
  readonly description: string;
  readonly schema?: JsonSchema;
}

/** One kind of answer: the media types its body may have ([] for none: a redirect, a 304) and what it is. */
export interface Answer {
  readonly types: readonly string[];
  readonly description: string;
  /** Headers a client acts on (lambdas/http/openapi.ts describes them). */
  readonly headers?: readonly ('Retry-After' | 'Location' | 'ETag' | 'Warning')[];
}

/**
 * What a route takes and answers, for the query check and the OpenAPI document. `errors` are the `code`s of the JSON
 * errors (`{"error", "code"}`) its handler can answer, by status; the document adds those every route can answer
 * (unknown query parameters, access control, throttling, 500: lambdas/http/openapi.ts).
 */
export interface RouteContract {
  /** One line: what the route does. */
  readonly summary: string;
  /** Query parameters by name; any other name is 400 (BAD_QUERY). Absent: the route takes none. */
  readonly query?: Readonly<Record<string, QueryParameter>>;
  /**
   * QIDO-RS attribute matching (PS3.18 8.3.4.1): any key matching `namePattern` (a keyword or tag) is a parameter
   * too. On such a route every key is a parameter name, so an unknown one is 400 INVALID_PARAMETER naming it.
   */
  readonly matchingKeys?: QueryParameter & { readonly namePattern: string };
  readonly body?: RequestBody;
  /** Answers other than errors, by status. */
  readonly answers: Readonly<Record<number, Answer>>;
  readonly errors: Readonly<Record<number, readonly string[]>>;
}

export interface RouteDefinition extends RouteContract {
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

/** A DICOM UID: digits and dots, at most 64 characters. */
const UID = { type: 'string', pattern: '^[0-9]+(\\.[0-9]+)*$', maxLength: 64 } as const;

/** The path parameters of the routes, by name (for the OpenAPI document: each handler checks its own). */
export const PATH_PARAMETERS: Readonly<Record<string, { readonly description: string; readonly schema: JsonSchema }>> =
  {
    id: {
      description: 'the id the upload answered (a UUID; anything else is not found)',
      schema: { type: 'string', format: 'uuid' },
    },
    study_uid: { description: 'a StudyInstanceUID', schema: UID },
    study: { description: 'a StudyInstanceUID', schema: UID },
    series: { description: 'a SeriesInstanceUID', schema: UID },
    instance: { description: 'a SOPInstanceUID', schema: UID },
    frames: { description: 'frame numbers from 1, comma-separated (1,3,5)', schema: { type: 'string' } },
    path: {
      description: 'a BulkDataURI path of the metadata: a tag, or tag.item.tag into sequences (7FE00010)',
      schema: { type: 'string', pattern: '^[0-9A-Fa-f.]+$' },
    },
    file: { description: 'a file of the web page (app.js, style.css, ...)', schema: { type: 'string' } },
  };

const JSON_TYPE = 'application/json';
const DICOM_JSON = 'application/dicom+json';
const jsonAnswer = (description: string): Answer => ({ types: [JSON_TYPE], description });
/** A read of a file still being processed waits (PROCESSING_WAIT_MS), then may answer this. */
const STILL_PROCESSING: Answer = {
  ...jsonAnswer('still being processed: {"id", "status": "PROCESSING"}; retry after Retry-After'),
  headers: ['Retry-After'],
};
const REDIRECT: Answer = {
  types: [],
  description: 'too large for one answer: Location is a short-lived URL to it',
  headers: ['Location'],
};
const NOT_MODIFIED: Answer = { types: [], description: 'If-None-Match named the current ETag' };
const LISTING_PAGE = jsonAnswer('{"count", "files": [file record, ...], "next_cursor"}, newest upload first');

const CURSOR_ERRORS = ['INVALID_CURSOR', 'CURSOR_MISMATCH', 'CURSOR_EXPIRED'];
/** Pixel data that cannot be rendered or decoded, or a file whose processing failed. */
const IMAGE_ERRORS = [
  'PROCESSING_FAILED',
  'UNSUPPORTED_TRANSFER_SYNTAX',
  'PIXEL_DATA_TRUNCATED',
  'PIXEL_DATA_TOO_SHORT',
  'PIXEL_DATA_CORRUPT',
  'IMAGE_TOO_LARGE',
  'IMAGE_NOT_RENDERABLE',
];

const uid = (what: string): QueryParameter => ({
  description: `a UID (digits and dots, at most 64): the ${what}`,
  schema: UID,
});

/** GET /dicom's paging and filters (lambdas/http/listing.ts reads them; POST /dicom/search takes them as JSON). */
export const LISTING_QUERY: Readonly<Record<string, QueryParameter>> = {
  limit: {
    description: `a whole number from 1 to ${MAX_PAGE_LIMIT}: the page size`,
    schema: { type: 'integer', minimum: 1, maximum: MAX_PAGE_LIMIT, default: DEFAULT_PAGE_LIMIT },
  },
  cursor: { description: "the previous page's next_cursor, as returned", schema: { type: 'string' } },
  patient_id: {
    description: '1 to 64 characters without backslashes or control characters: the PatientID',
    schema: { type: 'string', pattern: '^[^\\\\\\u0000-\\u001f\\u007f]{1,64}$' },
  },
  modality: {
    description: 'a modality code such as CT, MR or US (any case)',
    schema: { type: 'string', pattern: '^[A-Za-z0-9 _]{1,16}$' },
  },
  study_date: {
    description: 'a date YYYYMMDD or a range YYYYMMDD-YYYYMMDD, either end open (20230101-, -20231231)',
    schema: { type: 'string', pattern: '^(\\d{8}|\\d{8}-(\\d{8})?|-\\d{8})$' },
  },
  study_uid: uid('StudyInstanceUID'),
  series_uid: uid('SeriesInstanceUID'),
  status: {
    description: `${PROCESSING_STATUSES.join(', ')} (any case)`,
    schema: { type: 'string', enum: PROCESSING_STATUSES },
  },
};

/** LISTING_QUERY without the names given. */
function listingQueryWithout(...names: string[]): Readonly<Record<string, QueryParameter>> {
  return Object.fromEntries(Object.entries(LISTING_QUERY).filter(([name]) => !names.includes(name)));
}

/** A number as the render queries take it (spaces around it allowed). */
const NUMBER = '\\s*[-+]?(\\d+(\\.\\d*)?|\\.\\d+)([eE][-+]?\\d+)?\\s*';
const WINDOW = 'center,width: a VOI window in modality units (HU for CT), the width above 0 (e.g. 40,400)';
const PNG_QUERY: Readonly<Record<string, QueryParameter>> = {
  frame: { description: 'a whole number from 1: the frame (default 1)', schema: { type: 'integer', minimum: 1 } },
  window: { description: `${WINDOW}; greyscale only`, schema: { type: 'string', pattern: `^${NUMBER},${NUMBER}$` } },
  max: {
    description: `a whole number from 1 to ${MAX_RENDER_PIXELS}: scale down to fit N x N`,
    schema: { type: 'integer', minimum: 1, maximum: MAX_RENDER_PIXELS },
  },
  size: {
    description: `WxH, each from 1 to ${MAX_RENDER_PIXELS}: scale down to fit W x H (give max or size, not both)`,
    schema: { type: 'string', pattern: '^\\d+\\s*[xX]\\s*\\d+$' },
  },
};

/** QIDO-RS (PS3.18 8.3.4): lambdas/dicomweb/qido.ts checks keys against the dictionary and each value by its VR. */
const QIDO_QUERY: Readonly<Record<string, QueryParameter>> = {
  limit: {
    description:
      'a whole number from 1: the most matches (at most 1,000 studies or series, 5,000 instances, the default; more is capped with a Warning)',
    schema: { type: 'integer', minimum: 1 },
  },
  offset: { description: 'a whole number from 0: how many matches to skip', schema: { type: 'integer', minimum: 0 } },
  fuzzymatching: {
    description: 'true or false: accepted, not applied (literal matching only; true adds a Warning)',
    schema: { type: 'string', enum: ['true', 'false'] },
  },
  includefield: {
    description: 'attribute keywords or tags to return besides the defaults, comma-separated, or all',
    schema: { type: 'string' },
    repeated: true,
  },
};
const KEY = '([A-Za-z][A-Za-z0-9]*|[0-9A-Fa-f]{8})';
const QIDO_MATCHING: RouteContract['matchingKeys'] = {
  namePattern: `^${KEY}(\\.${KEY})*$`,
  description:
    'an attribute keyword (PatientName) or tag (00100010) as the key, matched against its value: single, a \\-separated UID or code list, * and ? wildcards, a DA/TM/DT range (a-b, a-, -b), or empty to return it; sequence keys (dotted) are refused',
  schema: { type: 'string' },
  repeated: true,
};

/** WADO-RS resources other than rendered ones take none, but PS3.18's `accept` is let through (and ignored). */
const WADO_QUERY: Readonly<Record<string, QueryParameter>> = {
  accept: { description: 'ignored: media types are negotiated with the Accept header', schema: { type: 'string' } },
};
const IGNORED = 'anything: accepted and ignored with a Warning (nothing is burned into images)';
const VIEWPORT: QueryParameter = {
  description: `vw,vh: whole numbers from 1 to ${MAX_RENDER_PIXELS}, scale down to fit (PS3.18's ,sx,sy,sw,sh cropping is refused)`,
  schema: { type: 'string', pattern: '^\\d+\\s*,\\s*\\d+(,[^,]*,[^,]*,[^,]*,[^,]*)?$' },
};
const QUALITY: QueryParameter = {
  description: 'a whole number from 1 to 100: the JPEG quality (default 90)',
  schema: { type: 'integer', minimum: 1, maximum: 100, default: 90 },
};
const RENDERED_QUERY: Readonly<Record<string, QueryParameter>> = {
  window: {
    description: `${WINDOW}, optionally ,linear (no other function)`,
    schema: { type: 'string', pattern: `^${NUMBER},${NUMBER}(,\\s*[A-Za-z_-]+\\s*)?$` },
  },
  viewport: VIEWPORT,
  quality: QUALITY,
  annotation: { description: IGNORED, schema: { type: 'string' } },
  iccprofile: { description: IGNORED, schema: { type: 'string' } },
  charset: { description: IGNORED, schema: { type: 'string' } },
};
const THUMBNAIL_QUERY: Readonly<Record<string, QueryParameter>> = { viewport: VIEWPORT, quality: QUALITY };

/** The error codes of a path's UIDs: one that is not a UID, or names nothing stored, is not found. */
function uidErrors(path: string): Readonly<Record<number, readonly string[]>> {
  const codes = (['study', 'series', 'instance'] as const)
    .filter((name) => path.includes(`{${name}}`))
    .map((name) => `${name.toUpperCase()}_NOT_FOUND`);
  return codes.length > 0 ? { 404: codes } : {};
}

/** Error tables in one (the codes of a status joined). */
export function mergeErrors(
  ...tables: Readonly<Record<number, readonly string[]>>[]
): Readonly<Record<number, readonly string[]>> {
  const merged: Record<number, string[]> = {};
  for (const table of tables) {
    for (const [status, codes] of Object.entries(table)) {
      merged[Number(status)] = [...new Set([...(merged[Number(status)] ?? []), ...codes])];
    }
  }
  return merged;
}

/** What a DICOMweb route under /dicomweb/studies/{study} addresses, by its path suffix ('' is the study). */
function levelOf(suffix: string): 'study' | 'series' | 'instance' | 'frame' {
  if (suffix.includes('{frames}')) return 'frame';
  if (suffix.includes('{instance}')) return 'instance';
  return suffix.includes('{series}') ? 'series' : 'study';
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
  // The recount lists the study's files.
  listingRead: true,
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
  // The recount lists the study's files; a DICOMweb DELETE of a study or series lists its files.
  listingRead: true,
  tableWrite: true,
};

/** An instance under a study (paths relative to `/dicomweb/studies/{study}`). */
const INSTANCE = '/series/{series}/instances/{instance}';

/**
 * GET routes under `/dicomweb/studies/{study}` served by one shared handler module (its name prefixes theirs); each
 * suffix's contract, plus the not-found codes of its path's UIDs.
 */
function dicomwebRoutes(
  handler: string,
  suffixes: readonly string[],
  settings: Pick<RouteDefinition, 'access' | 'memoryMb' | 'audit'>,
  contract: (suffix: string) => RouteContract,
): RouteDefinition[] {
  return suffixes.map((suffix, i) => {
    const path = `/dicomweb/studies/{study}${suffix}`;
    const declared = contract(suffix);
    return {
      name: `${handler}${i}`,
      handler,
      method: 'GET',
      path,
      ...settings,
      ...declared,
      errors: mergeErrors(uidErrors(path), declared.errors),
    };
  });
}

export const ROUTES: readonly RouteDefinition[] = [
  // The browser page and its scripts and stylesheet (web/, embedded in the bundles): it calls the routes below.
  {
    name: 'web',
    method: 'GET',
    path: '/',
    access: {},
    public: true,
    summary: 'The web page: upload, browse, inspect and delete files (it asks for the key)',
    answers: { 200: { types: ['text/html'], description: 'the page' }, 304: NOT_MODIFIED },
    errors: {},
  },
  {
    name: 'webAsset',
    method: 'GET',
    path: '/web/{file}',
    access: {},
    public: true,
    summary: "The web page's script modules and stylesheet",
    answers: { 200: { types: ['text/javascript', 'text/css'], description: 'the file' }, 304: NOT_MODIFIED },
    errors: { 404: ['ASSET_NOT_FOUND'] },
  },
  // This API as OpenAPI 3.1, generated from this table (lambdas/http/openapi.ts): no data, no storage.
  {
    name: 'openapi',
    method: 'GET',
    path: '/openapi.json',
    access: {},
    public: true,
    summary: 'This API as an OpenAPI 3.1 document, generated from the route table',
    answers: { 200: jsonAnswer('the OpenAPI document, its server the URL it was asked through') },
    errors: {},
  },
  {
    name: 'upload',
    method: 'POST',
    path: '/dicom',
    access: STORE_FILE_ACCESS,
    memoryMb: 1024,
    audit: 'upload',
    summary: `Upload one DICOM file (at most ${MAX_UPLOAD_BODY_BYTES} bytes a request; larger ones: POST /dicom/uploads)`,
    body: {
      mediaType: 'multipart/form-data',
      description: 'the file in the form field "file" (curl -F file=@image.dcm)',
      schema: {
        type: 'object',
        required: ['file'],
        properties: { file: { type: 'string', contentMediaType: 'application/dicom', description: 'a DICOM file' } },
      },
    },
    answers: { 201: jsonAnswer('{"id", "filename", "message"}: the new file id (a UUID)') },
    errors: {
      400: ['NOT_MULTIPART', 'BAD_MULTIPART', 'MISSING_FILE', 'TOO_MANY_FILES', 'EMPTY_FILE', 'NOT_DICOM'],
      413: ['PAYLOAD_TOO_LARGE', 'INFLATED_TOO_LARGE'],
      503: ['STORAGE_FAILED'],
    },
  },
  // Listing and search: pages of records from the indexes (README "Listing, search and studies").
  {
    name: 'list',
    method: 'GET',
    path: '/dicom',
    access: { tableRead: true, listingRead: true },
    cursors: true,
    audit: 'list',
    summary: 'A page of file records, newest first, filtered by patient, modality, study date, UIDs or status',
    query: LISTING_QUERY,
    answers: { 200: LISTING_PAGE },
    errors: { 400: CURSOR_ERRORS },
  },
  {
    name: 'search',
    method: 'POST',
    path: '/dicom/search',
    access: { tableRead: true, listingRead: true },
    cursors: true,
    audit: 'list',
    summary: "GET /dicom's filters and paging in a JSON body, so patient identifiers stay out of URLs and logs",
    body: {
      mediaType: 'application/json',
      description: 'an object of GET /dicom\'s query parameters ({"patient_id": "12345", "limit": 50})',
      schema: {
        type: 'object',
        additionalProperties: false,
        properties: Object.fromEntries(
          Object.entries(LISTING_QUERY).map(([name, { description, schema }]) => [name, { ...schema, description }]),
        ),
      },
    },
    answers: { 200: LISTING_PAGE },
    errors: { 400: ['BAD_JSON', 'BAD_QUERY', 'INVALID_PARAMETER', ...CURSOR_ERRORS] },
  },
  {
    name: 'studies',
    method: 'GET',
    path: '/studies',
    access: { tableRead: true },
    cursors: true,
    audit: 'list',
    summary: 'A page of studies (patient, date, description, modalities, instance count), newest study date first',
    // Only the study date: it is the studies index's own order, so a range is a key condition, never a scan.
    query: listingQueryWithout('patient_id', 'modality', 'study_uid', 'series_uid', 'status'),
    answers: { 200: jsonAnswer('{"count", "studies": [study, ...], "next_cursor"}') },
    errors: { 400: CURSOR_ERRORS },
  },
  {
    name: 'study',
    method: 'GET',
    path: '/studies/{study_uid}',
    access: { tableRead: true },
    audit: 'list',
    summary: 'One study',
    answers: { 200: jsonAnswer('the study') },
    errors: { 404: ['STUDY_NOT_FOUND'] },
  },
  {
    name: 'studySeries',
    method: 'GET',
    path: '/studies/{study_uid}/series',
    access: { tableRead: true },
    audit: 'list',
    summary: "A study's series in SeriesNumber order, each with its instance count and its files' listing",
    answers: { 200: jsonAnswer('{"count", "series": [series, ...]}') },
    errors: { 404: ['STUDY_NOT_FOUND'] },
  },
  {
    name: 'studyFiles',
    method: 'GET',
    path: '/studies/{study_uid}/files',
    access: { tableRead: true, listingRead: true },
    cursors: true,
    audit: 'list',
    summary: "A page of a study's file records, with GET /dicom's other filters",
    query: listingQueryWithout('study_uid'),
    answers: { 200: LISTING_PAGE },
    errors: { 400: CURSOR_ERRORS, 404: ['STUDY_NOT_FOUND'] },
  },
  {
    name: 'get',
    method: 'GET',
    path: '/dicom/{id}',
    access: { tableRead: true },
    audit: 'read',
    summary: 'One file record: dicom_info, UIDs, status and the links to its renderings',
    answers: { 200: jsonAnswer('the file record') },
    errors: { 404: ['FILE_NOT_FOUND'] },
  },
  {
    name: 'attributes',
    method: 'GET',
    path: '/dicom/{id}/attributes',
    access: { s3Read: ['derived/'], tableRead: true },
    memoryMb: 1024,
    audit: 'read',
    summary: 'Every attribute of a file as JSON, or one (?tag=)',
    // No pattern: lambdas/dicom/attributes.ts answers a tag it cannot read with INVALID_TAG.
    query: {
      tag: {
        description: 'GGGG,EEEE, (GGGG,EEEE) or GGGGEEEE (hex, any case), or a keyword (PatientName): that attribute',
        schema: { type: 'string' },
      },
    },
    answers: {
      200: jsonAnswer(
        '{"count", "attributes": {"GGGG,EEEE": {...}}}, or one {"tag", "value", "name", "vr", "keyword"}',
      ),
      202: STILL_PROCESSING,
      302: REDIRECT,
    },
    errors: { 400: ['INVALID_TAG'], 404: ['FILE_NOT_FOUND', 'ATTRIBUTE_NOT_FOUND'], 422: ['PROCESSING_FAILED'] },
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
    summary: 'The image as a PNG: the first frame as the file asks, or another frame, window or size',
    query: PNG_QUERY,
    answers: {
      200: { types: ['image/png'], description: 'the PNG', headers: ['ETag'] },
      202: STILL_PROCESSING,
      302: REDIRECT,
      304: NOT_MODIFIED,
    },
    errors: { 404: ['FILE_NOT_FOUND', 'NO_IMAGE', 'FRAME_NOT_FOUND'], 422: IMAGE_ERRORS },
  },
  {
    // Image reads without API Gateway or Lambda on the read path: one call hands out short-lived presigned S3 GET URLs
    // of many files' processed PNGs and thumbnails (docs/api.md "Image URLs", docs/cost.md). Presigning is local CPU;
    // the role may read those two kinds of object and nothing else, so the URLs can name nothing else.
    name: 'imageUrls',
    method: 'GET',
    path: '/dicom/image-urls',
    access: { s3Read: [KEYS.png('*'), KEYS.thumbnail('*')], tableBatchRead: true },
    audit: 'read',
    summary: `Short-lived S3 URLs of up to ${MAX_RECORDS_PER_READ} files' processed PNGs and thumbnails, each file's state`,
    query: {
      ids: {
        description: `1 to ${MAX_RECORDS_PER_READ} file ids (UUIDs), comma-separated; a repeated id is answered once`,
        schema: { type: 'string' },
        required: true,
      },
    },
    answers: {
      200: jsonAnswer(
        `{"expires_at", "expires_in", "images": [{"id", "ready", "png_url", "thumbnail_url", ...}]} in the order asked: ` +
          `GET URLs valid ${DOWNLOAD_URL_SECONDS} s; thumbnail_url fits ${THUMBNAIL_MAX_PIXELS} x ${THUMBNAIL_MAX_PIXELS} ` +
          '(the PNG itself when that small); a file without one says why in "code" (FILE_NOT_FOUND, PROCESSING, ' +
          'PROCESSING_FAILED, NO_IMAGE, IMAGE_NOT_RENDERABLE) and "error"',
      ),
    },
    errors: { 400: ['MISSING_IDS', 'INVALID_ID', 'TOO_MANY_IDS'] },
  },
  {
    name: 'delete',
    method: 'DELETE',
    path: '/dicom/{id}',
    access: DELETE_FILE_ACCESS,
    audit: 'delete',
    summary: 'Delete a file: its original, everything derived from it and its record',
    answers: { 200: jsonAnswer('{"message"}') },
    errors: { 404: ['FILE_NOT_FOUND'], 503: ['STORAGE_FAILED'] },
  },
  // Large files: the client sends the bytes straight to S3 with presigned URLs (PutObject covers
  // PUT, CreateMultipartUpload, UploadPart and CompleteMultipartUpload), only under uploads/.
  {
    name: 'largeUpload',
    method: 'POST',
    path: '/dicom/uploads',
    access: { s3Write: ['uploads/'], tableWrite: true },
    audit: 'upload',
    summary: 'Start an upload of a large file: presigned S3 URLs to PUT it, or its parts, to',
    body: {
      mediaType: 'application/json',
      description: 'the file\'s size and name; "multipart" forces one PUT (false) or parts (true)',
      schema: {
        type: 'object',
        required: ['size_bytes'],
        properties: {
          filename: { type: 'string' },
          size_bytes: { type: 'integer', minimum: 1, maximum: MAX_DIRECT_UPLOAD_BYTES },
          multipart: { type: 'boolean' },
        },
      },
    },
    answers: {
      201: jsonAnswer('the upload plan: {"id", "upload_method", "upload_url", "upload_headers"} or its parts'),
    },
    errors: { 400: ['BAD_JSON', 'BAD_FILENAME', 'BAD_SIZE', 'BAD_MULTIPART_FLAG'], 413: ['PAYLOAD_TOO_LARGE'] },
  },
  {
    name: 'completeUpload',
    method: 'POST',
    path: '/dicom/uploads/{id}/complete',
    access: { s3Read: ['uploads/'], s3Write: ['uploads/'], tableRead: true },
    audit: 'upload',
    summary: "Assemble a multipart upload from its parts' ETags; safe to repeat",
    body: {
      mediaType: 'application/json',
      description: "each part's number and the ETag its PUT answered",
      schema: {
        type: 'object',
        required: ['parts'],
        properties: {
          parts: {
            type: 'array',
            items: {
              type: 'object',
              required: ['part_number', 'etag'],
              properties: { part_number: { type: 'integer', minimum: 1 }, etag: { type: 'string' } },
            },
          },
        },
      },
    },
    answers: { 200: jsonAnswer('{"id", "status", "message"}') },
    errors: {
      400: ['BAD_JSON', 'BAD_PARTS', 'INCOMPLETE_UPLOAD', 'INVALID_PART', 'PART_TOO_SMALL'],
      404: ['FILE_NOT_FOUND'],
      409: ['NOT_MULTIPART', 'UPLOAD_EXPIRED', 'UPLOAD_NOT_FOUND'],
    },
  },
  {
    name: 'file',
    method: 'GET',
    path: '/dicom/{id}/file',
    access: { s3Read: ['uploads/'], tableRead: true },
    audit: 'download',
    summary: 'The original file, byte for byte as uploaded',
    answers: {
      200: { types: ['application/dicom'], description: 'the file, as an attachment with its filename' },
      202: STILL_PROCESSING,
      302: REDIRECT,
    },
    errors: { 404: ['FILE_NOT_FOUND', 'FILE_NOT_STORED'], 422: ['PROCESSING_FAILED'] },
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
    summary: 'Process the stored original again (attributes, PNG, record)',
    answers: { 202: jsonAnswer('{"id", "status": "PROCESSING", "message"}') },
    errors: { 404: ['FILE_NOT_FOUND'], 409: ['UPLOAD_PENDING', 'ORIGINAL_NOT_STORED'] },
  },
  // DICOMweb (PS3.18) under /dicomweb: QIDO-RS searches served from the study, series and file indexes.
  ...(
    [
      ['dicomwebStudies', '/dicomweb/studies', 'studies'],
      ['dicomwebStudySeries', '/dicomweb/studies/{study}/series', "a study's series"],
      ['dicomwebSeries', '/dicomweb/series', 'series'],
      ['dicomwebStudyInstances', '/dicomweb/studies/{study}/instances', "a study's instances"],
      ['dicomwebSeriesInstances', '/dicomweb/studies/{study}/series/{series}/instances', "a series' instances"],
      ['dicomwebInstances', '/dicomweb/instances', 'instances'],
    ] as const
  ).map(([name, path, what]): RouteDefinition => ({
    name,
    handler: 'dicomwebSearch',
    method: 'GET',
    path,
    access: { tableRead: true, listingRead: true },
    audit: 'list',
    summary: `QIDO-RS: search ${what}`,
    query: QIDO_QUERY,
    matchingKeys: QIDO_MATCHING,
    answers: { 200: { types: [DICOM_JSON], description: 'the matches as DICOM JSON (none: [])' } },
    errors: mergeErrors(uidErrors(path), { 406: ['NOT_ACCEPTABLE'] }),
  })),
  // WADO-RS: metadata made at ingest (derived/<id>/documents.json, or metadata.json before schema 5; an older file's
  // is parsed from its original),
  // with answers too large for one Lambda response written under answers/ and redirected to.
  ...dicomwebRoutes(
    'dicomwebMetadata',
    ['/metadata', '/series/{series}/metadata', `${INSTANCE}/metadata`],
    {
      // answers/: assembled series and study answers, kept and reused until one of their instances changes.
      access: {
        s3Read: ['uploads/', 'derived/', 'answers/'],
        s3Write: ['answers/'],
        tableRead: true,
        listingRead: true,
      },
      memoryMb: 1024,
      audit: 'read',
    },
    (suffix) => ({
      summary: `WADO-RS: the metadata of a ${levelOf(suffix)}`,
      query: WADO_QUERY,
      answers: {
        200: { types: [DICOM_JSON], description: "the instances' DICOM JSON (bulk data as BulkDataURIs)" },
        202: STILL_PROCESSING,
        302: REDIRECT,
      },
      errors: { 406: ['NOT_ACCEPTABLE'], 422: ['PROCESSING_FAILED'] },
    }),
  ),
  // The stored files (multipart application/dicom) and the bulk data the metadata's BulkDataURIs name.
  ...dicomwebRoutes(
    'dicomwebRetrieve',
    ['', '/series/{series}', INSTANCE, `${INSTANCE}/bulkdata/{path}`],
    { access: { s3Read: ['uploads/'], tableRead: true, listingRead: true }, memoryMb: 1024, audit: 'download' },
    (suffix): RouteContract =>
      suffix.endsWith('{path}')
        ? {
            summary: 'WADO-RS: bulk data a BulkDataURI of the metadata names',
            query: WADO_QUERY,
            answers: {
              200: { types: ['multipart/related; type="application/octet-stream"'], description: 'the bytes' },
              202: STILL_PROCESSING,
            },
            errors: { 404: ['BULK_DATA_NOT_FOUND'], 406: ['NOT_ACCEPTABLE'], 422: ['PROCESSING_FAILED'] },
          }
        : {
            summary: `WADO-RS: the stored files of a ${levelOf(suffix)}`,
            query: WADO_QUERY,
            answers: {
              200: { types: ['multipart/related; type="application/dicom"'], description: 'each file as stored' },
              202: STILL_PROCESSING,
              302: REDIRECT,
            },
            errors: { 406: ['NOT_ACCEPTABLE'], 422: ['PROCESSING_FAILED'] },
          },
  ),
  // Frames as stored or decoded, read from the original by byte ranges.
  ...dicomwebRoutes(
    'dicomwebFrames',
    [`${INSTANCE}/frames/{frames}`],
    {
      // answers/: frames too large for one Lambda answer, written once and redirected to.
      access: { s3Read: ['uploads/', 'answers/'], s3Write: ['answers/'], tableRead: true },
      memoryMb: 1024,
      audit: 'read',
    },
    () => ({
      summary: 'WADO-RS: frames, as stored or decoded to Explicit VR Little Endian',
      query: WADO_QUERY,
      answers: {
        200: { types: ['multipart/related'], description: 'one part per frame, each typed as the Accept header asks' },
        202: STILL_PROCESSING,
        302: REDIRECT,
      },
      errors: {
        400: ['INVALID_PARAMETER'],
        404: ['FRAME_NOT_FOUND', 'NO_IMAGE'],
        406: ['NOT_ACCEPTABLE'],
        422: IMAGE_ERRORS,
      },
    }),
  ),
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
      access: {
        s3Read: ['uploads/', 'derived/'],
        s3Write: ['derived/'],
        s3Delete: ['derived/'],
        tableRead: true,
        listingRead: true,
      },
      memoryMb: 1024,
      audit: 'read',
    },
    (suffix) => {
      const thumbnail = suffix.endsWith('/thumbnail');
      const level = levelOf(suffix);
      // A study's or series' rendered resource is each image's first frame, one part each.
      const many = !thumbnail && (level === 'study' || level === 'series');
      return {
        summary: `WADO-RS: ${thumbnail ? 'a thumbnail' : 'the rendered image'} of a ${level}`,
        query: thumbnail ? THUMBNAIL_QUERY : RENDERED_QUERY,
        answers: {
          200: many
            ? {
                types: ['multipart/related; type="image/jpeg"', 'multipart/related; type="image/png"'],
                description: "each image's first frame, InstanceNumber order",
              }
            : { types: ['image/jpeg', 'image/png'], description: 'JPEG, or PNG when Accept prefers it' },
          202: STILL_PROCESSING,
        },
        errors: {
          400: ['INVALID_PARAMETER'],
          404: ['NO_IMAGE', 'FRAME_NOT_FOUND', 'FILE_NOT_FOUND'],
          406: ['NOT_ACCEPTABLE'],
          422: IMAGE_ERRORS,
        },
      };
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
    summary: `STOW-RS: store instances${path.endsWith('}') ? ' of this study' : ''}, each as POST /dicom stores a file`,
    body: {
      mediaType: 'multipart/related; type="application/dicom"',
      description: `one DICOM file per part, at most ${MAX_UPLOAD_BODY_BYTES} bytes in all`,
    },
    answers: {
      200: { types: [DICOM_JSON], description: 'every instance stored: the Store Instances Response' },
      202: { types: [DICOM_JSON], description: 'some instances refused, each with its FailureReason' },
      409: { types: [DICOM_JSON], description: 'every instance refused, each with its FailureReason' },
    },
    errors: mergeErrors(uidErrors(path), {
      400: ['BAD_MULTIPART', 'NO_INSTANCES'],
      406: ['NOT_ACCEPTABLE'],
      413: ['PAYLOAD_TOO_LARGE'],
      415: ['UNSUPPORTED_MEDIA_TYPE'],
    }),
  })),
  // DELETE of a study, series or instance (non-standard, as Orthanc, dcm4chee and Azure offer): DELETE /dicom/{id}'s
  // pipeline per file, with its grants; its tableRead also finds the files by UID (study, series and SOP indexes).
  ...(['', '/series/{series}', INSTANCE] as const).map((suffix, i): RouteDefinition => {
    const path = `/dicomweb/studies/{study}${suffix}`;
    return {
      name: `dicomwebDelete${i}`,
      handler: 'dicomwebDelete',
      method: 'DELETE',
      path,
      access: DELETE_FILE_ACCESS,
      audit: 'delete',
      summary: `Delete a ${levelOf(suffix)}: every stored copy of its files, as DELETE /dicom/{id} does`,
      answers: { 200: jsonAnswer('{"message", "deleted_files"}') },
      errors: mergeErrors(uidErrors(path), { 503: ['STORAGE_FAILED', 'DELETE_INCOMPLETE'] }),
    };
  }),
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
    // A count cut short is recounted from the study's files (lambdas/store/dynamo-recount.ts).
    listingRead: true,
    tableWrite: true,
  } satisfies StorageAccess,
  // One full vCPU (Lambda's CPU share grows with memory up to 1,769 MB; the work is single-threaded) and room for the
  // largest direct upload: processing a 1 GiB file peaks at 1,128 MB RSS (file included; npm run bench:rss measures
  // the corpus). 3,008 MB bought no speed and cost 70% more per file (npm run cost; docs/cost.md).
  memoryMb: 1769,
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
  access: { tableRead: true, listingRead: true, tableWrite: true } satisfies StorageAccess,
} as const;
