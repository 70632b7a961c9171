// The store's model, all of it: the file record, what a listing asks for and gets back (filters, pages, study and
// series rows), and the RecordStore interface the handlers depend on. What the domain found in a file (dicom_info,
// identifiers, image state) is the domain's model (lambdas/dicom/model.ts), kept here as it is.
import type { DicomJsonDataset } from '../dicom/dicom-json.js';
import type { DicomIdentifiers, DicomInfo, ImageState, ProcessedResult } from '../dicom/model.js';

/** What the processor found, as the record keeps it (RecordStore.markReady takes a ProcessedResult). */
export type { DicomIdentifiers, ImageState, ProcessedResult };

export type ProcessingStatus = 'PROCESSING' | 'READY' | 'FAILED';

export const PROCESSING_STATUSES: readonly ProcessingStatus[] = ['PROCESSING', 'READY', 'FAILED'];

/** A file the client sends straight to S3 (POST /dicom/uploads); removed from the record when the bytes arrive. */
export interface DirectUpload {
  method: 'PUT' | 'MULTIPART';
  /** When the presigned URLs expire (ISO 8601). */
  expires_at: string;
  multipart_upload_id?: string;
  part_size_bytes?: number;
  part_count?: number;
}

export interface FileRecord extends DicomIdentifiers {
  id: string;
  filename: string;
  /** The stored object's size (declared by the client until a direct upload's bytes arrive). */
  size_bytes: number;
  created_at: string;
  modified_at: string;
  status: ProcessingStatus;
  /** Why processing failed (status FAILED). */
  error?: string;
  dicom_info: DicomInfo;
  image?: ImageState;
  /** SHA-256 (hex) of the stored bytes. */
  sha256?: string;
  /**
   * The S3 version of `uploads/<id>` these bytes, attributes and PNG describe (versioned bucket; absent
   * without versioning): readers of the original read this version, never whatever is newest.
   */
  object_version?: string;
  /** Version of the derived data (attributes JSON, PNG) the processor last wrote. */
  schema_version?: number;
  /** Present while a direct upload's bytes are awaited. */
  upload?: DirectUpload;
  /** A record still PROCESSING after this instant (ISO 8601) reads as FAILED: nothing is stuck forever. */
  processing_deadline?: string;
  /** DynamoDB TTL (epoch seconds), only while bytes are awaited: a record whose upload never arrives expires. */
  expires_at_epoch?: number;
  /** Set while the file's study/series/instance counts move; a run cut short leaves it, and a recount follows. */
  counts_pending?: boolean;
  /** Other records with the same SOP Instance UID or the same SHA-256 (set by the processor). */
  duplicate_of?: string[];
}

/** What the processor learns about the bytes before parsing them. */
export interface ReceivedObject {
  size_bytes: number;
  sha256: string;
  /** The object version the storage event names (S3 sends `versionId` on a versioned bucket). */
  object_version?: string;
}

/** ISO 8601 instant `seconds` from now. */
export function secondsFromNow(seconds: number, now = Date.now()): string {
  return new Date(now + seconds * 1000).toISOString();
}

/**
 * The record as readers see it: PROCESSING past its deadline is FAILED (the stored status stays,
 * so a late processor run still completes it). Writers (processor, DLQ consumer) use the stored one.
 */
export function withDeadlineApplied(record: FileRecord, now = Date.now()): FileRecord {
  if (record.status !== 'PROCESSING' || !record.processing_deadline) return record;
  if (Date.parse(record.processing_deadline) > now) return record;
  const error = record.upload
    ? `the upload did not arrive before its URLs expired (${record.upload.expires_at}); start a new upload`
    : `processing did not finish by ${record.processing_deadline}; retry with POST /dicom/${record.id}/reprocess`;
  return { ...record, status: 'FAILED', error };
}

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

/** The most ids one `getMany` takes: DynamoDB's BatchGetItem reads at most 100 keys. */
export const MAX_RECORDS_PER_READ = 100;

export interface RecordStore {
  /**
   * Writes a new record; fails if the id exists (ids are fresh UUIDs, so that is a bug). `alongside`
   * starts once the item exists, concurrently with the bookkeeping that follows (the study count).
   */
  create(record: FileRecord, alongside?: () => Promise<unknown>): Promise<void>;
  get(id: string): Promise<FileRecord | undefined>;
  /**
   * The records of up to MAX_RECORDS_PER_READ distinct ids in one read (consistent, like `get`), by id; an id with no
   * record is absent from the map.
   */
  getMany(ids: readonly string[]): Promise<Map<string, FileRecord>>;
  /** Every record, newest first, read page by page: for maintenance and start-up, never per request. */
  list(): Promise<FileRecord[]>;
  /** One page of the records matching every filter, each query served by an index (README "Index design"). */
  listFiles(filters: FileFilters, page: PageRequest): Promise<Page<FileRecord>>;
  /** One page of studies, newest study date first; with a date range, only studies dated in it. */
  listStudies(page: PageRequest, filters?: StudyFilters): Promise<Page<StudySummary>>;
  getStudy(studyInstanceUid: string): Promise<StudySummary | undefined>;
  /** One page of series, in series-number order within a study, or newest first across all studies. */
  listSeries(page: PageRequest, studyInstanceUid?: string): Promise<Page<SeriesSummary>>;
  getSeries(seriesInstanceUid: string): Promise<SeriesSummary | undefined>;
  /** Recounts (exactly, from the records) the counts of a record whose counting was cut short, and clears the flag. */
  repairCounts(record: FileRecord): Promise<void>;
  /** Ids of the records holding this SOP Instance UID (usually one; copies of a file share it). */
  findBySopInstanceUid(sopInstanceUid: string): Promise<string[]>;
  /** The bytes are stored: record their real size and hash, end the upload wait (TTL); false when the record is gone. */
  markReceived(id: string, received: ReceivedObject, processingDeadline: string): Promise<boolean>;
  /** Marks a record READY with what the processor found; false when the record is gone (deleted meanwhile). */
  /**
   * Marks a record READY; false when it is gone. `current` (the record as the caller last read it)
   * saves a read on the hot path; without it the store reads the record itself.
   */
  markReady(id: string, result: ProcessedResult, current?: FileRecord): Promise<boolean>;
  /** Marks a record FAILED with a reason; false when the record is gone. */
  markFailed(id: string, reason: string): Promise<boolean>;
  /** Marks FAILED only a record still PROCESSING (the dead-letter path: a later success must win); false otherwise. */
  failProcessing(id: string, reason: string): Promise<boolean>;
  /** Sets an existing record back to PROCESSING for a reprocess; false when the record is gone. */
  markReprocessing(id: string, processingDeadline: string): Promise<boolean>;
  /**
   * Deletes a record; false when there was none. `alongside` starts once this call has removed the
   * item (never when there was none), concurrently with the bookkeeping that follows.
   */
  delete(id: string, alongside?: () => Promise<unknown>): Promise<boolean>;
}
