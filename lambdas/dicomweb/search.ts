// QIDO-RS searches: candidates from the study, series and file indexes (never a scan), matched, paged by offset/limit.
import type { DicomJsonDataset } from '../dicom/dicom-json.js';
import { UTF8_CHARACTER_SET, type QidoAttributes } from '../dicom/qido-attributes.js';
import { TAG_HEX } from '../dicom/tags.js';
import type { FileRecord, Page, PageRequest, RecordStore, SeriesSummary, StudySummary } from '../store/records.js';
import { COMPUTED, matches, selectReturned, singleUid, type QidoQuery } from './qido.js';

/** Index items one search may examine: beyond it the answer is cut short with a Warning (PS3.18 10.6.3.3). */
export const MAX_EXAMINED_PER_SEARCH = 20_000;

export interface SearchResult {
  datasets: DicomJsonDataset[];
  warnings: string[];
}

/** Where a search is anchored by the URL: `/studies/{study}/series`, `/studies/{study}/series/{series}/instances`. */
export interface SearchScope {
  studyUid?: string;
  seriesUid?: string;
}

const ui = (uid: string): DicomJsonDataset[string] => ({ vr: 'UI', Value: [uid] });
const count = (n: number): DicomJsonDataset[string] => ({ vr: 'IS', Value: [n] });

export function studyDataset(study: StudySummary, root: string): DicomJsonDataset {
  const uid = study.study_instance_uid;
  return {
    ...study.dicomweb,
    ...UTF8_CHARACTER_SET,
    [COMPUTED.instanceAvailability]: { vr: 'CS', Value: ['ONLINE'] },
    [COMPUTED.modalitiesInStudy]:
      study.modalities_in_study.length > 0 ? { vr: 'CS', Value: study.modalities_in_study } : { vr: 'CS' },
    [COMPUTED.retrieveUrl]: { vr: 'UR', Value: [`${root}/studies/${uid}`] },
    [TAG_HEX.StudyInstanceUID]: ui(uid),
    [COMPUTED.numberOfStudyRelatedSeries]: count(study.number_of_series),
    [COMPUTED.numberOfStudyRelatedInstances]: count(study.number_of_instances),
  };
}

export function seriesDataset(series: SeriesSummary, study: StudySummary | undefined, root: string): DicomJsonDataset {
  const studyUid = series.study_instance_uid;
  return {
    ...(study ? studyDataset(study, root) : {}),
    ...series.dicomweb,
    ...UTF8_CHARACTER_SET,
    [COMPUTED.instanceAvailability]: { vr: 'CS', Value: ['ONLINE'] },
    [COMPUTED.retrieveUrl]: { vr: 'UR', Value: [`${root}/studies/${studyUid}/series/${series.series_instance_uid}`] },
    [TAG_HEX.StudyInstanceUID]: ui(studyUid),
    [TAG_HEX.SeriesInstanceUID]: ui(series.series_instance_uid),
    [COMPUTED.numberOfSeriesRelatedInstances]: count(series.number_of_instances),
  };
}

/** The record's QIDO attributes (empty levels for a record made before they existed). */
export function recordLevels(record: FileRecord): QidoAttributes {
  try {
    if (record.dicomweb) return JSON.parse(record.dicomweb) as QidoAttributes;
  } catch {
    // fall through: an unreadable summary only means fewer attributes
  }
  return { study: {}, series: {}, instance: {} };
}

export function instanceDataset(record: FileRecord, root: string): DicomJsonDataset {
  const levels = recordLevels(record);
  const study = record.study_instance_uid ?? '';
  const series = record.series_instance_uid ?? '';
  const sop = record.sop_instance_uid ?? '';
  return {
    ...levels.study,
    ...levels.series,
    ...levels.instance,
    ...UTF8_CHARACTER_SET,
    [COMPUTED.instanceAvailability]: { vr: 'CS', Value: ['ONLINE'] },
    [COMPUTED.retrieveUrl]: { vr: 'UR', Value: [`${root}/studies/${study}/series/${series}/instances/${sop}`] },
    [TAG_HEX.StudyInstanceUID]: ui(study),
    [TAG_HEX.SeriesInstanceUID]: ui(series),
    [TAG_HEX.SOPInstanceUID]: ui(sop),
  };
}

/** Copies of a file, the newest first: the one DICOMweb serves. */
export function newestFirst(a: FileRecord, b: FileRecord): number {
  return a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : 0;
}

/** An instance is searchable once it has its three UIDs and has not failed (what the study counts hold). */
export function isSearchable(record: FileRecord): boolean {
  return (
    Boolean(record.study_instance_uid && record.series_instance_uid && record.sop_instance_uid) &&
    record.status !== 'FAILED'
  );
}

/**
 * Walks pages of candidates, keeps the matches after `offset`, stops at `limit` or the examination budget.
 * `toDatasets` turns a page of items into datasets (it may fetch what they need, e.g. their studies).
 */
async function collect<T>(
  query: QidoQuery,
  readPage: (page: PageRequest) => Promise<Page<T>>,
  toDatasets: (items: T[]) => Promise<DicomJsonDataset[]>,
): Promise<SearchResult> {
  const datasets: DicomJsonDataset[] = [];
  const warnings = [...query.warnings];
  let skipped = 0;
  let examined = 0;
  let after: string | undefined;
  for (;;) {
    const pageSize = Math.min(1000, Math.max(50, query.offset + query.limit - skipped - datasets.length + 1));
    const page = await readPage({ limit: pageSize, ...(after ? { after } : {}) });
    examined += Math.max(page.examined, page.items.length);
    for (const dataset of await toDatasets(page.items)) {
      if (!matches(query, dataset)) continue;
      if (skipped < query.offset) {
        skipped++;
        continue;
      }
      datasets.push(selectReturned(query, dataset));
      if (datasets.length === query.limit) return { datasets, warnings };
    }
    if (!page.next) return { datasets, warnings };
    if (examined >= MAX_EXAMINED_PER_SEARCH) {
      warnings.push(
        `299 dicom-api: the search examined ${examined} entries and stopped; narrow it (a StudyDate range, a UID) or page with offset`,
      );
      return { datasets, warnings };
    }
    after = page.next;
  }
}

/** A fixed list of candidates as one page. */
function onePage<T>(items: T[]): (page: PageRequest) => Promise<Page<T>> {
  return async () => ({ items, next: null, examined: items.length, readUnits: 0, index: 'key' });
}

async function defined<T>(promises: Promise<T | undefined>[]): Promise<T[]> {
  const values: (T | undefined)[] = await Promise.all(promises);
  return values.filter((value): value is T => value !== undefined);
}

/** The study date range of a query when it is a plain range (served by the studies index's order). */
function studyDateRange(query: QidoQuery): { from: string | null; to: string | null } | undefined {
  const matcher = query.matchers.find((m) => m.tag === TAG_HEX.StudyDate);
  const match = matcher && /^(\d{8})?(-)?(\d{8})?$/.exec(matcher.text);
  if (!match || (!match[1] && !match[3])) return undefined;
  return { from: match[1] ?? null, to: match[2] ? (match[3] ?? null) : (match[1] ?? null) };
}

export async function searchStudies(records: RecordStore, query: QidoQuery, root: string): Promise<SearchResult> {
  const toDatasets = async (studies: StudySummary[]) => studies.map((study) => studyDataset(study, root));
  const uids = query.matchers.find(
    (m) => m.tag === TAG_HEX.StudyInstanceUID && m.vr === 'UI' && m.text && m.text !== '*',
  );
  if (uids) {
    const studies = await defined(
      uids.text
        .split('\\')
        .slice(0, 1000)
        .map((uid) => records.getStudy(uid)),
    );
    return collect(query, onePage(studies), toDatasets);
  }
  const range = studyDateRange(query);
  return collect(query, (page) => records.listStudies(page, range ? { study_date: range } : {}), toDatasets);
}

export async function searchSeries(
  records: RecordStore,
  query: QidoQuery,
  root: string,
  scope: SearchScope,
): Promise<SearchResult> {
  const studyUid = scope.studyUid ?? singleUid(query, TAG_HEX.StudyInstanceUID);
  const studies = new Map<string, Promise<StudySummary | undefined>>();
  const studyOf = (uid: string) => {
    if (!studies.has(uid)) studies.set(uid, records.getStudy(uid));
    return studies.get(uid)!;
  };
  const toDatasets = async (items: SeriesSummary[]) =>
    Promise.all(
      items
        .filter((series) => !scope.studyUid || series.study_instance_uid === scope.studyUid)
        .map(async (series) => seriesDataset(series, await studyOf(series.study_instance_uid), root)),
    );
  const seriesUid = singleUid(query, TAG_HEX.SeriesInstanceUID);
  if (seriesUid) {
    const series = await records.getSeries(seriesUid);
    return collect(query, onePage(series ? [series] : []), toDatasets);
  }
  return collect(query, (page) => records.listSeries(page, studyUid), toDatasets);
}

export async function searchInstances(
  records: RecordStore,
  query: QidoQuery,
  root: string,
  scope: SearchScope,
): Promise<SearchResult> {
  // A file stored twice is one instance, its newest copy, as WADO-RS serves it (the indexes read newest first).
  const seen = new Set<string>();
  const toDatasets = async (items: FileRecord[]) =>
    items
      .filter(isSearchable)
      .filter((record) => !scope.studyUid || record.study_instance_uid === scope.studyUid)
      .filter((record) => !scope.seriesUid || record.series_instance_uid === scope.seriesUid)
      .filter((record) => {
        const first = !seen.has(record.sop_instance_uid!);
        seen.add(record.sop_instance_uid!);
        return first;
      })
      .map((record) => instanceDataset(record, root));
  const sopUid = singleUid(query, TAG_HEX.SOPInstanceUID);
  if (sopUid) {
    const ids = await records.findBySopInstanceUid(sopUid);
    const found = await defined(ids.map((id) => records.get(id)));
    found.sort(newestFirst);
    return collect(query, onePage(found), toDatasets);
  }
  const seriesUid = scope.seriesUid ?? singleUid(query, TAG_HEX.SeriesInstanceUID);
  const studyUid = scope.studyUid ?? singleUid(query, TAG_HEX.StudyInstanceUID);
  const filters = seriesUid ? { series_uid: seriesUid } : studyUid ? { study_uid: studyUid } : {};
  return collect(query, (page) => records.listFiles(filters, page), toDatasets);
}
