// The identifiers a file record carries beside dicom_info, in the record's snake_case form.
import { dicomInfo, summaryFields } from './attributes.js';
import { toDicomJson, type DicomJsonDataset } from './dicom-json.js';
import type { DicomIdentifiers, DicomInfo } from './model.js';
import type { ParsedDicom } from './parse.js';
import { qidoAttributes, type QidoAttributes } from './qido-attributes.js';

/** DynamoDB index keys are at most 1,024 bytes (sort keys) and never empty: longer values are not indexed. */
const MAX_INDEXED_BYTES = 1024;

function indexable(value: string | null | undefined): string | null {
  if (!value) return null;
  return Buffer.byteLength(value, 'utf8') <= MAX_INDEXED_BYTES ? value : null;
}

/**
 * A UID (PS3.5 9.1: digits and dots, at most 64 characters) as an index key; anything else is not indexed, so a
 * client's `|` or a 1,000-character "UID" never reaches index keys, tokens or cursors.
 */
export function indexableUid(value: string | null | undefined): string | null {
  const uid = (value ?? '').trim();
  return /^[0-9][0-9.]{0,63}$/.test(uid) ? uid : null;
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

/** A kept query attribute larger than this is left out: records, series and study items stay small. */
const MAX_QIDO_ATTRIBUTE_BYTES = 2048;

function withoutLargeValues(dataset: DicomJsonDataset): DicomJsonDataset {
  return Object.fromEntries(
    Object.entries(dataset).filter(([, attribute]) => JSON.stringify(attribute).length <= MAX_QIDO_ATTRIBUTE_BYTES),
  );
}

/** The record's `dicomweb` field: what QIDO-RS matches and returns for this instance, its series and its study. */
export function dicomwebSummary(parsed: ParsedDicom, dataset: DicomJsonDataset = toDicomJson(parsed)): string {
  const levels = qidoAttributes(dataset, parsed.transferSyntaxUid || null);
  const small: QidoAttributes = {
    study: withoutLargeValues(levels.study),
    series: withoutLargeValues(levels.series),
    instance: withoutLargeValues(levels.instance),
  };
  return JSON.stringify(small);
}

/** `dataset`: the instance's DICOM JSON when the caller has made it already. */
export function dicomIdentifiers(parsed: ParsedDicom, dataset?: DicomJsonDataset): DicomIdentifiers {
  const s = summaryFields(parsed);
  return {
    dicomweb: dicomwebSummary(parsed, dataset),
    ...indexedInfoFields(dicomInfo(parsed)),
    sop_instance_uid: indexableUid(s.sopInstanceUid),
    sop_class_uid: s.sopClassUid,
    study_instance_uid: indexableUid(s.studyInstanceUid),
    series_instance_uid: indexableUid(s.seriesInstanceUid),
    transfer_syntax_uid: s.transferSyntaxUid,
    number_of_frames: s.numberOfFrames,
  };
}
