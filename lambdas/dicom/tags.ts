// The DICOM attributes the code reads or writes by tag, each named once by its PS3.6 keyword. Only those the code
// uses (the dictionary has thousands); test/unit/vocabulary.test.ts checks every keyword against the dictionary.

/** Tags as 8 upper-case hex digits: DICOM JSON's keys (PS3.18 F.2) and the dictionary's. */
export const TAG_HEX = {
  // File meta information (group 0002)
  MediaStorageSOPClassUID: '00020002',
  MediaStorageSOPInstanceUID: '00020003',
  TransferSyntaxUID: '00020010',
  // SOP common, patient, study, series, instance
  SpecificCharacterSet: '00080005',
  SOPClassUID: '00080016',
  SOPInstanceUID: '00080018',
  StudyDate: '00080020',
  InstanceAvailability: '00080056',
  Modality: '00080060',
  ModalitiesInStudy: '00080061',
  StudyDescription: '00081030',
  SeriesDescription: '0008103E',
  ReferencedSOPClassUID: '00081150',
  ReferencedSOPInstanceUID: '00081155',
  RetrieveURL: '00081190',
  FailureReason: '00081197',
  FailedSOPSequence: '00081198',
  ReferencedSOPSequence: '00081199',
  AvailableTransferSyntaxUID: '00083002',
  PatientName: '00100010',
  PatientID: '00100020',
  StudyInstanceUID: '0020000D',
  SeriesInstanceUID: '0020000E',
  SeriesNumber: '00200011',
  InstanceNumber: '00200013',
  NumberOfStudyRelatedSeries: '00201206',
  NumberOfStudyRelatedInstances: '00201208',
  NumberOfSeriesRelatedInstances: '00201209',
  // Image pixel module
  SamplesPerPixel: '00280002',
  PhotometricInterpretation: '00280004',
  PlanarConfiguration: '00280006',
  NumberOfFrames: '00280008',
  Rows: '00280010',
  Columns: '00280011',
  BitsAllocated: '00280100',
  BitsStored: '00280101',
  HighBit: '00280102',
  PixelRepresentation: '00280103',
  // Rendering: modality LUT, VOI LUT, palettes
  WindowCenter: '00281050',
  WindowWidth: '00281051',
  RescaleIntercept: '00281052',
  RescaleSlope: '00281053',
  VOILUTFunction: '00281056',
  RedPaletteColorLookupTableDescriptor: '00281101',
  GreenPaletteColorLookupTableDescriptor: '00281102',
  BluePaletteColorLookupTableDescriptor: '00281103',
  GrayLookupTableData: '00281200',
  RedPaletteColorLookupTableData: '00281201',
  GreenPaletteColorLookupTableData: '00281202',
  BluePaletteColorLookupTableData: '00281203',
  SegmentedRedPaletteColorLookupTableData: '00281221',
  SegmentedGreenPaletteColorLookupTableData: '00281222',
  SegmentedBluePaletteColorLookupTableData: '00281223',
  ModalityLUTSequence: '00283000',
  LUTDescriptor: '00283002',
  LUTData: '00283006',
  VOILUTSequence: '00283010',
  FrameVOILUTSequence: '00289132',
  PixelValueTransformationSequence: '00289145',
  // Enhanced multi-frame functional groups
  SharedFunctionalGroupsSequence: '52009229',
  PerFrameFunctionalGroupsSequence: '52009230',
  // Pixel data
  ExtendedOffsetTable: '7FE00001',
  FloatPixelData: '7FE00008',
  DoubleFloatPixelData: '7FE00009',
  PixelData: '7FE00010',
} as const;

export type TagKeyword = keyof typeof TAG_HEX;

/** dicom-parser's element keys ('x' + lower-case hex): `dataSet.uint16(TAGS.Rows)`, `elements[TAGS.PixelData]`. */
export const TAGS = Object.fromEntries(
  Object.entries(TAG_HEX).map(([keyword, hex]) => [keyword, `x${hex.toLowerCase()}`]),
) as { readonly [K in TagKeyword]: `x${Lowercase<(typeof TAG_HEX)[K]>}` };

/** The elements that can hold an image's pixels (integer, float, double float), as dicom-parser keys. */
export const PIXEL_DATA_TAGS: readonly string[] = [TAGS.PixelData, TAGS.FloatPixelData, TAGS.DoubleFloatPixelData];
