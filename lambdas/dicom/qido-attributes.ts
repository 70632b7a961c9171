// The attributes DICOMweb searches (QIDO-RS) match and return, per level, picked from an instance's DICOM JSON.
import { pickAttributes, type DicomJsonDataset } from './dicom-json.js';
import { TAG_HEX } from './tags.js';

/** Study level: PS3.18 Table 10.6.3-3's required attributes and the Patient and General Study modules' common ones. */
export const STUDY_TAGS = [
  '00080020', // StudyDate
  '00080030', // StudyTime
  '00080050', // AccessionNumber
  '00080090', // ReferringPhysicianName
  '00080201', // TimezoneOffsetFromUTC
  '00081030', // StudyDescription
  '00081060', // NameOfPhysiciansReadingStudy
  '00100010', // PatientName
  '00100020', // PatientID
  '00100021', // IssuerOfPatientID
  '00100030', // PatientBirthDate
  '00100040', // PatientSex
  '00101000', // OtherPatientIDs
  '00101010', // PatientAge
  '00101020', // PatientSize
  '00101030', // PatientWeight
  '0020000D', // StudyInstanceUID
  '00200010', // StudyID
] as const;

/** Series level: Table 10.6.3-4's required attributes and the General Series module's common ones. */
export const SERIES_TAGS = [
  '00080021', // SeriesDate
  '00080031', // SeriesTime
  '00080060', // Modality
  '00080070', // Manufacturer
  '00080080', // InstitutionName
  '0008103E', // SeriesDescription
  '00081010', // StationName
  '00081090', // ManufacturerModelName
  '00180015', // BodyPartExamined
  '00181030', // ProtocolName
  '0020000E', // SeriesInstanceUID
  '00200011', // SeriesNumber
  '00200052', // FrameOfReferenceUID
  '00200060', // Laterality
  '00400244', // PerformedProcedureStepStartDate
  '00400245', // PerformedProcedureStepStartTime
  '00400275', // RequestAttributesSequence
] as const;

/** Instance level: Table 10.6.3-5's required attributes and what viewers sort and label instances by. */
export const INSTANCE_TAGS = [
  '00080008', // ImageType
  '00080016', // SOPClassUID
  '00080018', // SOPInstanceUID
  '00080022', // AcquisitionDate
  '00080023', // ContentDate
  '00080032', // AcquisitionTime
  '00080033', // ContentTime
  '00180050', // SliceThickness
  '00200012', // AcquisitionNumber
  '00200013', // InstanceNumber
  '00200032', // ImagePositionPatient
  '00200037', // ImageOrientationPatient
  '00201041', // SliceLocation
  '00280002', // SamplesPerPixel
  '00280004', // PhotometricInterpretation
  '00280008', // NumberOfFrames
  '00280010', // Rows
  '00280011', // Columns
  '00280030', // PixelSpacing
  '00280100', // BitsAllocated
  '0040A043', // ConceptNameCodeSequence (SR document title)
  '0040A491', // CompletionFlag
  '0040A493', // VerificationFlag
] as const;

/** What one instance contributes to the three query levels (kept on its record, its series and its study). */
export interface QidoAttributes {
  study: DicomJsonDataset;
  series: DicomJsonDataset;
  instance: DicomJsonDataset;
}

/** The UTF-8 character set every answer is in (our DICOM JSON decodes all text). */
export const UTF8_CHARACTER_SET: DicomJsonDataset = {
  [TAG_HEX.SpecificCharacterSet]: { vr: 'CS', Value: ['ISO_IR 192'] },
};

/** Splits an instance's DICOM JSON into the attributes each query level keeps. */
export function qidoAttributes(dataset: DicomJsonDataset, transferSyntaxUid: string | null): QidoAttributes {
  const instance = pickAttributes(dataset, INSTANCE_TAGS);
  // Which transfer syntax frames can be had in as stored (PS3.18 lists it among instance attributes).
  if (transferSyntaxUid) instance[TAG_HEX.AvailableTransferSyntaxUID] = { vr: 'UI', Value: [transferSyntaxUid] };
  return {
    study: pickAttributes(dataset, STUDY_TAGS),
    series: pickAttributes(dataset, SERIES_TAGS),
    instance,
  };
}
