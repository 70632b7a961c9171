// The file record model and the RecordStore interface the handlers depend on.
import type { DicomInfo } from '../dicom/attributes.js';

export type ProcessingStatus = 'PROCESSING' | 'READY' | 'FAILED';

/** What became of the image when the processor rendered it. */
export type ImageState =
  | { state: 'RENDERED'; png_bytes: number; width: number; height: number }
  | { state: 'NO_IMAGE' }
  | { state: 'UNRENDERABLE'; reason: string };

/** Identifiers kept beside dicom_info (useful to clients, and indexable later). */
export interface DicomIdentifiers {
  sop_instance_uid: string | null;
  sop_class_uid: string | null;
  study_instance_uid: string | null;
  series_instance_uid: string | null;
  transfer_syntax_uid: string | null;
  number_of_frames: number | null;
}

export interface FileRecord extends DicomIdentifiers {
  id: string;
  filename: string;
  size_bytes: number;
  created_at: string;
  modified_at: string;
  status: ProcessingStatus;
  /** Why processing failed (status FAILED). */
  error?: string;
  dicom_info: DicomInfo;
  image?: ImageState;
}

export interface ProcessedResult extends DicomIdentifiers {
  dicom_info: DicomInfo;
  image: ImageState;
  attribute_count: number;
}

export interface RecordStore {
  /** Writes a new record; fails if the id exists (ids are fresh UUIDs, so that is a bug). */
  create(record: FileRecord): Promise<void>;
  get(id: string): Promise<FileRecord | undefined>;
  /** All records, newest first. */
  list(): Promise<FileRecord[]>;
  /** Marks a record READY with what the processor found; false when the record is gone (deleted meanwhile). */
  markReady(id: string, result: ProcessedResult): Promise<boolean>;
  /** Marks a record FAILED with a reason; false when the record is gone. */
  markFailed(id: string, reason: string): Promise<boolean>;
  /** Deletes a record; false when there was none. */
  delete(id: string): Promise<boolean>;
}
