// What a listing asks the RecordStore for (filters, a page) and what it gets back (a page, a study row).
import type { DicomJsonDataset } from '../dicom/dicom-json.js';
import type { ProcessingStatus } from './records.js';

/** Page sizes of GET /dicom, POST /dicom/search and the study routes. */
export const DEFAULT_PAGE_LIMIT = 100;
export const MAX_PAGE_LIMIT = 1000;

/**
 * The most index items one page may examine (filtered out or not): the cap that keeps every
 * request bounded even when part of a filter is a FilterExpression. A page that hits it comes back
 * short, with a cursor to continue.
 */
export const MAX_EXAMINED_PER_PAGE = 5000;

export const PROCESSING_STATUSES: readonly ProcessingStatus[] = ['PROCESSING', 'READY', 'FAILED'];

/** An inclusive study date range, YYYYMMDD each; null is open. */
export interface StudyDateRange {
  from: string | null;
  to: string | null;
}

/** The listing filters; all given ones must match (AND). */
export interface FileFilters {
  patient_id?: string;
  modality?: string;
  study_date?: StudyDateRange;
  study_uid?: string;
  series_uid?: string;
  status?: ProcessingStatus;
}

/** What GET /studies filters on: the study date, served by the order of the studies index itself. */
export type StudyFilters = Pick<FileFilters, 'study_date'>;

export interface PageRequest {
  limit: number;
  /** The `next` of the previous page (opaque to callers). */
  after?: string;
}

export interface Page<T> {
  items: T[];
  /** Where the next page starts; null when this is the last page. */
  next: string | null;
  /** Index items read (matching or not) and the read capacity they cost: for logs and the bench. */
  examined: number;
  readUnits: number;
  /** Which index served the page (for logs; never a filter value). */
  index: string;
}

/** One row of GET /studies: maintained per StudyInstanceUID as files arrive and go. */
export interface StudySummary {
  study_instance_uid: string;
  patient_id: string | null;
  patient_name: string | null;
  study_date: string | null;
  study_description: string | null;
  modalities_in_study: string[];
  number_of_instances: number;
  number_of_series: number;
  created_at: string;
  modified_at: string;
  /** The study-level QIDO-RS attributes (DICOM JSON) of the latest file counted in; not part of GET /studies. */
  dicomweb: DicomJsonDataset;
}

/** One series (DICOMweb QIDO-RS): maintained per SeriesInstanceUID as files arrive and go. */
export interface SeriesSummary {
  series_instance_uid: string;
  study_instance_uid: string;
  modality: string | null;
  number_of_instances: number;
  created_at: string;
  modified_at: string;
  /** The series-level QIDO-RS attributes (DICOM JSON) of the latest file counted in. */
  dicomweb: DicomJsonDataset;
}
