// What the domain makes of one file for the rest of the service: the summary a file record keeps (dicom_info, the
// indexed identifiers, what became of the image). The store keeps these as they are; it never defines them.

/** The identifying attributes of a file, as the file record's `dicom_info` shows them. */
export interface DicomInfo {
  PatientName: string | null;
  PatientID: string | null;
  StudyDate: string | null;
  StudyDescription: string | null;
  Modality: string | null;
  ImageDimensions: { rows: number; columns: number } | null;
}

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

/** What became of the image when the processor rendered it. */
export type ImageState =
  | { state: 'RENDERED'; png_bytes: number; width: number; height: number }
  | { state: 'NO_IMAGE' }
  | { state: 'UNRENDERABLE'; reason: string };

/** What processing one file found: everything a READY record adds to the upload's record. */
export interface ProcessedResult extends DicomIdentifiers {
  dicom_info: DicomInfo;
  image: ImageState;
  attribute_count: number;
  schema_version: number;
}
