// The identifiers a file record carries beside dicom_info, in the record's snake_case form.
import type { DicomIdentifiers } from '../store/records.js';
import { dicomInfo, summaryFields, type DicomInfo } from './attributes.js';
import type { ParsedDicom } from './parse.js';

/** DynamoDB index keys are at most 1,024 bytes (sort keys) and never empty: longer values are not indexed. */
const MAX_INDEXED_BYTES = 1024;

function indexable(value: string | null | undefined): string | null {
  if (!value) return null;
  return Buffer.byteLength(value, 'utf8') <= MAX_INDEXED_BYTES ? value : null;
}

/** Modality (CS): upper case; anything that is not a code string is not indexed. */
export function normalizeModality(value: string | null | undefined): string | null {
  const code = (value ?? '').trim().toUpperCase();
  return /^[A-Z0-9 _]{1,16}$/.test(code) ? code : null;
}

/** StudyDate (DA) as YYYYMMDD; the old ACR-NEMA form YYYY.MM.DD is read too, anything else is not indexed. */
export function normalizeStudyDate(value: string | null | undefined): string | null {
  const text = (value ?? '').trim();
  const date = /^\d{4}\.\d{2}\.\d{2}$/.test(text) ? text.replaceAll('.', '') : text;
  return /^\d{8}$/.test(date) ? date : null;
}

/** The indexed fields that dicom_info already holds (also how records written before the indexes are upgraded). */
export function indexedInfoFields(info: DicomInfo): Pick<DicomIdentifiers, 'patient_id' | 'modality' | 'study_date'> {
  return {
    patient_id: indexable(info.PatientID?.trim()),
    modality: normalizeModality(info.Modality),
    study_date: normalizeStudyDate(info.StudyDate),
  };
}

export function dicomIdentifiers(parsed: ParsedDicom): DicomIdentifiers {
  const s = summaryFields(parsed);
  return {
    ...indexedInfoFields(dicomInfo(parsed)),
    sop_instance_uid: indexable(s.sopInstanceUid),
    sop_class_uid: s.sopClassUid,
    study_instance_uid: indexable(s.studyInstanceUid),
    series_instance_uid: indexable(s.seriesInstanceUid),
    transfer_syntax_uid: s.transferSyntaxUid,
    number_of_frames: s.numberOfFrames,
  };
}
