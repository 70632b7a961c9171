// The identifiers a file record carries beside dicom_info, in the record's snake_case form.
import type { DicomIdentifiers } from '../store/records.js';
import { summaryFields } from './attributes.js';
import type { ParsedDicom } from './parse.js';

export function dicomIdentifiers(parsed: ParsedDicom): DicomIdentifiers {
  const s = summaryFields(parsed);
  return {
    sop_instance_uid: s.sopInstanceUid,
    sop_class_uid: s.sopClassUid,
    study_instance_uid: s.studyInstanceUid,
    series_instance_uid: s.seriesInstanceUid,
    transfer_syntax_uid: s.transferSyntaxUid,
    number_of_frames: s.numberOfFrames,
  };
}
