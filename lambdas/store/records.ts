// The file record model and the RecordStore interface the handlers depend on.
import type { DicomInfo } from '../dicom/attributes.js';
import type { FileFilters, Page, PageRequest, SeriesSummary, StudyFilters, StudySummary } from './queries.js';

export type ProcessingStatus = 'PROCESSING' | 'READY' | 'FAILED';

/** What became of the image when the processor rendered it. */
export type ImageState =
  | { state: 'RENDERED'; png_bytes: number; width: number; height: number }
  | { state: 'NO_IMAGE' }
  | { state: 'UNRENDERABLE'; reason: string };

/** Identifiers kept beside dicom_info, top-level so the listing indexes can key on them. */
export interface DicomIdentifiers {
  /** PatientID, Modality (upper case) and StudyDate (YYYYMMDD); null when absent or not indexable. */
  patient_id: string | null;
  modality: string | null;
  study_date: string | null;
  sop_instance_uid: string | null;
  sop_class_uid: string | null;
  study_instance_uid: string | null;
  series_instance_uid: string | null;
  transfer_syntax_uid: string | null;
  number_of_frames: number | null;
  /** JSON text of the QIDO-RS attributes (lambdas/dicom/qido-attributes.ts QidoAttributes); absent on older records. */
  dicomweb?: string;
}

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

export interface ProcessedResult extends DicomIdentifiers {
  dicom_info: DicomInfo;
  image: ImageState;
  attribute_count: number;
  schema_version: number;
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

export interface RecordStore {
  /**
   * Writes a new record; fails if the id exists (ids are fresh UUIDs, so that is a bug). `alongside`
   * starts once the item exists, concurrently with the bookkeeping that follows (the study count).
   */
  create(record: FileRecord, alongside?: () => Promise<unknown>): Promise<void>;
  get(id: string): Promise<FileRecord | undefined>;
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
