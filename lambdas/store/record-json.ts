// The file record as API.md shows it: the contract's fields first, then the added ones.
import { THUMBNAIL_MAX_PIXELS } from '../config.js';
import { withDeadlineApplied, type FileRecord } from './records.js';

export function toFileRecordJson(stored: FileRecord): Record<string, unknown> {
  // A record stuck past its processing deadline is shown FAILED with the reason.
  const record = withDeadlineApplied(stored);
  const hasImage = record.image ? record.image.state !== 'NO_IMAGE' : record.dicom_info.ImageDimensions !== null;
  return {
    id: record.id,
    filename: record.filename,
    size_bytes: record.size_bytes,
    created_at: record.created_at,
    modified_at: record.modified_at,
    dicom_info: record.dicom_info,
    status: record.status,
    ...(record.error ? { error: record.error } : {}),
    // The indexed fields the listing filters on (patient_id, modality, study_date, study_uid, series_uid).
    patient_id: record.patient_id ?? null,
    modality: record.modality ?? null,
    study_date: record.study_date ?? null,
    sop_instance_uid: record.sop_instance_uid ?? null,
    sop_class_uid: record.sop_class_uid ?? null,
    study_instance_uid: record.study_instance_uid ?? null,
    series_instance_uid: record.series_instance_uid ?? null,
    transfer_syntax_uid: record.transfer_syntax_uid ?? null,
    number_of_frames: record.number_of_frames ?? null,
    has_image: hasImage,
    sha256: record.sha256 ?? null,
    // Other records of the same file (same SOP Instance UID or SHA-256): both copies say so.
    duplicate_of: record.duplicate_of ?? [],
    schema_version: record.schema_version ?? null,
    png: `/dicom/${record.id}/png`,
    // The processor stores it with the PNG, so the first request is a read, not a render. None for
    // pixel data that cannot be decoded: `png` answers 422 with the reason.
    thumbnail:
      hasImage && record.image?.state !== 'UNRENDERABLE' ? `/dicom/${record.id}/png?max=${THUMBNAIL_MAX_PIXELS}` : null,
    attributes: `/dicom/${record.id}/attributes`,
    file: `/dicom/${record.id}/file`,
  };
}
