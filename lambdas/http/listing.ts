// The listing requests (GET /dicom, POST /dicom/search, the study routes): validated filters in, one page out.
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { getStores, logger } from '../commons.js';
import { TAG_HEX } from '../dicom/tags.js';
import { DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT } from '../store/queries.js';
import {
  PROCESSING_STATUSES,
  type FileFilters,
  type Page,
  type ProcessingStatus,
  type SeriesSummary,
  type StudyDateRange,
  type StudySummary,
} from '../store/records.js';
import { toFileRecordJson } from '../store/record-json.js';
import { openCursor, queryFingerprint, sealCursor } from './cursor.js';
import { BadRequest, InvalidParameter, NotFound } from './errors.js';
import { jsonBody } from './request.js';
import { json } from './responses.js';

/** The filter names, as query parameters and as search body fields. */
export const FILTER_NAMES = ['patient_id', 'modality', 'study_date', 'study_uid', 'series_uid', 'status'] as const;
type FilterName = (typeof FILTER_NAMES)[number];

export interface ListingRequest {
  filters: FileFilters;
  limit: number;
  cursor?: string;
}

const UID = /^[0-9]+(\.[0-9]+)*$/;

function validDate(text: string): boolean {
  const date = new Date(`${text.slice(0, 4)}-${text.slice(4, 6)}-${text.slice(6, 8)}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10).replaceAll('-', '') === text;
}

/** `YYYYMMDD`, `YYYYMMDD-YYYYMMDD`, or open-ended `YYYYMMDD-` / `-YYYYMMDD` (DICOM range matching). */
export function parseStudyDate(text: string): StudyDateRange {
  const bad = (): InvalidParameter =>
    new InvalidParameter(
      'study_date',
      'study_date must be a date YYYYMMDD or a range YYYYMMDD-YYYYMMDD (either end may be left open)',
    );
  const match = /^(\d{8})?(-)?(\d{8})?$/.exec(text.trim());
  if (!match || (!match[1] && !match[3])) throw bad();
  const from = match[1] ?? null;
  const to = match[2] ? (match[3] ?? null) : from;
  if (!match[2] && match[3]) throw bad();
  for (const date of [from, to]) if (date && !validDate(date)) throw bad();
  if (from && to && from > to) {
    throw new InvalidParameter('study_date', 'study_date range must not end before it starts');
  }
  return { from, to };
}

/** One filter value, validated and normalised; the message names the parameter, never echoes the value. */
function parseFilter(name: FilterName, value: string, filters: FileFilters): void {
  const text = value.trim();
  switch (name) {
    case 'patient_id':
      // DICOM LO: at most 64 characters, no backslash or control characters.
      if (!text || text.length > 64 || /[\\\u0000-\u001f\u007f]/.test(text)) {
        throw new InvalidParameter(
          name,
          'patient_id must be 1 to 64 characters without backslashes or control characters',
        );
      }
      filters.patient_id = text;
      return;
    case 'modality':
      if (!/^[A-Za-z0-9 _]{1,16}$/.test(text)) {
        throw new InvalidParameter(name, 'modality must be a DICOM modality code such as CT, MR or US');
      }
      filters.modality = text.toUpperCase();
      return;
    case 'study_date':
      filters.study_date = parseStudyDate(text);
      return;
    case 'study_uid':
    case 'series_uid':
      if (text.length > 64 || !UID.test(text)) {
        throw new InvalidParameter(name, `${name} must be a DICOM UID: digits and dots, at most 64 characters`);
      }
      filters[name] = text;
      return;
    case 'status': {
      const status = text.toUpperCase() as ProcessingStatus;
      if (!PROCESSING_STATUSES.includes(status)) {
        throw new InvalidParameter(name, `status must be one of ${PROCESSING_STATUSES.join(', ')}`);
      }
      filters.status = status;
      return;
    }
  }
}

function parseLimit(value: string | number): number {
  const limit = typeof value === 'number' ? value : /^\d{1,7}$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT) {
    throw new InvalidParameter('limit', `limit must be a whole number from 1 to ${MAX_PAGE_LIMIT}`);
  }
  return limit;
}

function parseFields(
  entries: [string, unknown][],
  allowed: readonly string[],
  unknownMessage: (name: string) => string,
): ListingRequest {
  const request: ListingRequest = { filters: {}, limit: DEFAULT_PAGE_LIMIT };
  for (const [name, value] of entries) {
    if (!allowed.includes(name)) throw new BadRequest(unknownMessage(name), 'BAD_QUERY');
    if (value === null || value === undefined) continue;
    if (name === 'limit') {
      if (typeof value !== 'string' && typeof value !== 'number')
        throw new InvalidParameter(name, 'limit must be a number');
      request.limit = parseLimit(value);
    } else if (typeof value !== 'string') {
      throw new InvalidParameter(name, `${name} must be a string`);
    } else if (name === 'cursor') {
      request.cursor = value;
    } else {
      parseFilter(name as FilterName, value, request.filters);
    }
  }
  return request;
}

/**
 * The query string of a listing route. Which names each route takes (a study's files no study_uid, the studies only
 * the date), once each, is its declaration in the route table, checked by the handler wrapper.
 */
export function listingFromQuery(event: APIGatewayProxyEvent): ListingRequest {
  const allowed = ['limit', 'cursor', ...FILTER_NAMES];
  return parseFields(
    Object.entries(event.queryStringParameters ?? {}),
    allowed,
    (name) => `unknown query parameter: ${name.slice(0, 40)} (accepted: ${allowed.join(', ')})`,
  );
}

/** The JSON body of POST /dicom/search: the same filters, limit and cursor, kept out of URLs and access logs. */
export function listingFromBody(event: APIGatewayProxyEvent): ListingRequest {
  const allowed = ['limit', 'cursor', ...FILTER_NAMES];
  return parseFields(
    Object.entries(jsonBody(event)),
    allowed,
    (name) => `unknown search field: ${name.slice(0, 40)} (accepted: ${allowed.join(', ')})`,
  );
}

function logPage(kind: string, page: Page<unknown>): void {
  // Which index and what it cost; never a filter value (patient identifiers stay out of logs).
  logger.info('listed', {
    kind,
    index: page.index,
    count: page.items.length,
    examined: page.examined,
    readUnits: page.readUnits,
    more: page.next !== null,
  });
}

/** `{"count", "files", "next_cursor"}`: one page of file records matching the request. */
export async function respondWithFiles(request: ListingRequest): Promise<APIGatewayProxyResult> {
  const fingerprint = queryFingerprint('files', request.filters);
  const after = request.cursor === undefined ? undefined : openCursor(request.cursor, fingerprint);
  const page = await getStores().records.listFiles(request.filters, {
    limit: request.limit,
    ...(after ? { after } : {}),
  });
  logPage('files', page);
  const files = page.items.map(toFileRecordJson);
  return json(200, {
    count: files.length,
    files,
    next_cursor: page.next === null ? null : sealCursor(page.next, fingerprint),
  });
}

/** A study row as the study routes show it. */
function studyJson(study: StudySummary): Omit<StudySummary, 'dicomweb'> & { files: string } {
  const { dicomweb: _dicomweb, ...summary } = study;
  return { ...summary, files: `/studies/${study.study_instance_uid}/files` };
}

/** `{"count", "studies", "next_cursor"}`: one page of studies, newest study date first. */
export async function respondWithStudies(request: ListingRequest): Promise<APIGatewayProxyResult> {
  const filters = request.filters.study_date ? { study_date: request.filters.study_date } : {};
  const fingerprint = queryFingerprint('studies', filters);
  const after = request.cursor === undefined ? undefined : openCursor(request.cursor, fingerprint);
  const page = await getStores().records.listStudies({ limit: request.limit, ...(after ? { after } : {}) }, filters);
  logPage('studies', page);
  const studies = page.items.map(studyJson);
  return json(200, {
    count: studies.length,
    studies,
    next_cursor: page.next === null ? null : sealCursor(page.next, fingerprint),
  });
}

/** The `{study_uid}` path parameter; anything that is not a UID is simply not found. */
export function studyUid(event: APIGatewayProxyEvent): string {
  const uid = event.pathParameters?.study_uid ?? '';
  if (uid.length > 64 || !UID.test(uid)) throw new NotFound('no study with this StudyInstanceUID', 'STUDY_NOT_FOUND');
  return uid;
}

export async function respondWithStudy(uid: string): Promise<APIGatewayProxyResult> {
  const study = await getStores().records.getStudy(uid);
  if (!study) throw new NotFound('no study with this StudyInstanceUID', 'STUDY_NOT_FOUND');
  return json(200, studyJson(study));
}

/** The most series GET /studies/{study_uid}/series answers: far more than any study has (a cap, not a page size). */
export const MAX_STUDY_SERIES = 1000;

/** A series row as GET /studies/{study_uid}/series shows it. */
export interface StudySeriesJson {
  series_instance_uid: string;
  series_number: number | null;
  modality: string | null;
  series_description: string | null;
  number_of_instances: number;
  files: string;
}

/** The first value of a series-level DICOM JSON attribute. */
const firstValue = (series: SeriesSummary, tag: string): unknown =>
  (series.dicomweb[tag] as { Value?: unknown[] } | undefined)?.Value?.[0];

function studySeriesJson(series: SeriesSummary): StudySeriesJson {
  const number = firstValue(series, TAG_HEX.SeriesNumber);
  const description = firstValue(series, TAG_HEX.SeriesDescription);
  const modality = firstValue(series, TAG_HEX.Modality);
  return {
    series_instance_uid: series.series_instance_uid,
    series_number: typeof number === 'number' && Number.isInteger(number) ? number : null,
    modality: series.modality ?? (typeof modality === 'string' ? modality : null),
    series_description: typeof description === 'string' ? description : null,
    number_of_instances: series.number_of_instances,
    files: `/studies/${series.study_instance_uid}/files?series_uid=${series.series_instance_uid}`,
  };
}

/** Series-number order, a series without a number last; the UID breaks ties so the order never changes. */
function bySeriesNumber(a: StudySeriesJson, b: StudySeriesJson): number {
  const rank = (s: StudySeriesJson) => s.series_number ?? Number.POSITIVE_INFINITY;
  return rank(a) - rank(b) || (a.series_instance_uid < b.series_instance_uid ? -1 : 1);
}

/**
 * `{"count", "series"}`: every series of a study from the series-by-study index (all its pages: a study has few),
 * in series-number order. A study without series items (files without a SeriesInstanceUID) answers none; a study
 * that is not stored is not found.
 */
export async function respondWithStudySeries(uid: string): Promise<APIGatewayProxyResult> {
  const records = getStores().records;
  const found: SeriesSummary[] = [];
  let after: string | undefined;
  do {
    const page = await records.listSeries({ limit: MAX_PAGE_LIMIT, ...(after ? { after } : {}) }, uid);
    logPage('series', page);
    found.push(...page.items.filter((series) => series.study_instance_uid === uid && series.number_of_instances > 0));
    after = page.next ?? undefined;
  } while (after && found.length < MAX_STUDY_SERIES);
  if (found.length === 0 && !(await records.getStudy(uid))) {
    throw new NotFound('no study with this StudyInstanceUID', 'STUDY_NOT_FOUND');
  }
  const series = found.slice(0, MAX_STUDY_SERIES).map(studySeriesJson).sort(bySeriesNumber);
  return json(200, { count: series.length, series });
}
