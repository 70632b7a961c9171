// The file record as API.md shows it: the contract's fields first, then the added ones.
import type { FileRecord } from './records.js';

export function toFileRecordJson(record: FileRecord): Record<string, unknown> {
  return {
    id: record.id,
    filename: record.filename,
    size_bytes: record.size_bytes,
    created_at: record.created_at,
    modified_at: record.modified_at,
    dicom_info: record.dicom_info,
    status: record.status,
    ...(record.error ? { error: record.error } : {}),
    sop_instance_uid: record.sop_instance_uid ?? null,
    sop_class_uid: record.sop_class_uid ?? null,
    study_instance_uid: record.study_instance_uid ?? null,
    series_instance_uid: record.series_instance_uid ?? null,
    transfer_syntax_uid: record.transfer_syntax_uid ?? null,
    number_of_frames: record.number_of_frames ?? null,
    has_image: record.image ? record.image.state !== 'NO_IMAGE' : record.dicom_info.ImageDimensions !== null,
    png: `/dicom/${record.id}/png`,
    attributes: `/dicom/${record.id}/attributes`,
  };
}
