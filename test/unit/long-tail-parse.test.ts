// Issue 22's long tail in parsing: datasets whose transfer syntax must be inferred from their own first bytes
// (no file meta, or a meta group without a Transfer Syntax UID), and elements whose VR bytes name no VR.
import { describe, expect, it } from 'vitest';
import { buildAttributes } from '../../lambdas/dicom/attributes.js';
import '../../lambdas/dicom/codecs/index.js';
import { StoredFrameReader } from '../../lambdas/dicom/frame-source.js';
import { parseDicom } from '../../lambdas/dicom/parse.js';
import { decodeFrameAsync } from '../../lambdas/dicom/pixels.js';
import { processDicom } from '../../lambdas/dicom/process.js';
import {
  TS,
  buildDicom,
  buildDicomWithoutTransferSyntaxUid,
  encodeDataset,
  encodeElementWithRawVr,
  imageElements,
  patientElements,
  type FixtureElement,
} from '../fixtures/dicom-builder.js';

/** A small MR image whose attributes a user would check: name, modality, a US, a DS, and pixels. */
const imageFile = (littleEndian: boolean): FixtureElement[] => [
  ...patientElements({ modality: 'MR', description: 'LONG TAIL PARSE' }),
  ...imageElements({ rows: 2, columns: 2, pixels: [0, 100, 200, 300] }, littleEndian),
  { tag: 0x00280030, vr: 'DS', value: '0.5\\0.25' },
];

function expectImageAttributes(attributes: ReturnType<typeof buildAttributes>['attributes']): void {
  expect(attributes['0010,0010']!.value).toBe('DOE^JOHN');
  expect(attributes['0008,0060']!.value).toBe('MR');
  expect(attributes['0028,0010']).toMatchObject({ vr: 'US', value: 2 });
  expect(attributes['0028,0011']).toMatchObject({ vr: 'US', value: 2 });
  expect(attributes['0028,0030']!.value).toEqual([0.5, 0.25]);
}

// ---------------------------------------------------------------------------------------------
// 1. Bare datasets (no preamble, no "DICM", no meta group), as dcmtk's DcmItem::checkTransferSyntax reads them.

describe('bare datasets in every transfer syntax a reader can detect', () => {
  // Before the fix the big endian case was refused ("no DICOM preamble ... do not parse"): the dataset was read as
  // explicit VR little endian, so (0008,0005) came out as (0800,0500) and nothing looked like DICOM.
  it.each([
    ['explicit VR big endian', TS.explicitBE, false],
    ['explicit VR little endian', TS.explicitLE, true],
    ['implicit VR little endian', TS.implicitLE, true],
  ] as const)('reads a bare %s dataset, its attributes and its image', async (_name, transferSyntax, littleEndian) => {
    const bare = buildDicom(imageFile(littleEndian), { transferSyntax, noMeta: true });
    expect(String.fromCharCode(...bare.subarray(128, 132))).not.toBe('DICM');
    const parsed = parseDicom(bare);
    expect(parsed).toMatchObject({ hasMeta: false, transferSyntaxUid: transferSyntax });
    expectImageAttributes(buildAttributes(parsed).attributes);
    const outcome = await processDicom(bare);
    expect(outcome.result.image).toMatchObject({ state: 'RENDERED' });
  });
});

// ---------------------------------------------------------------------------------------------
// 2. A meta group without a Transfer Syntax UID: inferred from the dataset, as pydicom and dcmtk do.

describe('file meta without a Transfer Syntax UID', () => {
  // Before the fix every case was refused: an absent UID with "the file meta header has no Transfer Syntax UID"
  // (dicom-parser would not read on), an empty one the same after dicom-parser had misread the dataset as explicit
  // VR little endian.
  it.each([
    ['absent', TS.explicitLE, false],
    ['absent', TS.implicitLE, false],
    ['absent', TS.explicitBE, false],
    ['empty', TS.explicitLE, true],
    ['empty', TS.implicitLE, true],
    ['empty', TS.explicitBE, true],
  ] as const)('infers the syntax when the UID is %s (dataset in %s)', async (_how, transferSyntax, emptyUid) => {
    const file = buildDicomWithoutTransferSyntaxUid(imageFile(transferSyntax !== TS.explicitBE), {
      transferSyntax,
      emptyUid,
    });
    const parsed = parseDicom(file);
    expect(parsed).toMatchObject({ hasMeta: true, transferSyntaxUid: transferSyntax });
    const { attributes } = buildAttributes(parsed);
    expectImageAttributes(attributes);
    expect(attributes['0002,0003']!.value).toBe('1.2.826.0.1.3680043.8.498.1');
    const outcome = await processDicom(file);
    expect(outcome.result.image).toMatchObject({ state: 'RENDERED' });
  });

  it('still refuses such a file with nothing after its meta group, in our own words', () => {
    const file = buildDicomWithoutTransferSyntaxUid([], { transferSyntax: TS.explicitLE });
    const metaEnd = 144 + new DataView(file.buffer).getUint32(140, true);
    expect(() => parseDicom(file.subarray(0, metaEnd))).toThrow(/no dataset/);
  });
});

// ---------------------------------------------------------------------------------------------
// 3. Invalid VR bytes in an explicit VR dataset: dcmtk warns and reads on (DcmItem::readTagAndLength): bytes that are
// not two uppercase letters keep a 2-byte length; an unknown uppercase pair is a future VR with the 4-byte length of
// PS3.5 7.1.2 (DcmVR::setVR). The element takes its VR from the dictionary, and everything after it is still read.

describe('elements whose VR bytes name no VR', () => {
  const before: FixtureElement[] = [...patientElements({ modality: 'MR' })];
  const after: FixtureElement[] = [
    { tag: 0x00200011, vr: 'IS', value: '7' },
    { tag: 0x00280010, vr: 'US', value: 2 },
    { tag: 0x00280011, vr: 'US', value: 2 },
  ];

  /** Protocol Name (0018,1030, LO in the dictionary) written with `vrBytes`, between the patient module and the rest. */
  function fileWithRawVr(vrBytes: readonly [number, number], longLength: boolean): Uint8Array {
    const head = buildDicom(before, { transferSyntax: TS.explicitLE });
    const raw = encodeElementWithRawVr(0x00181030, vrBytes, 'T1 AXIAL', longLength);
    const tail = encodeDataset(after, TS.explicitLE);
    return new Uint8Array([...head, ...raw, ...tail]);
  }

  // Before the fix the 2-byte cases already read (dicom-parser gives any unknown VR a 2-byte length); the 4-byte
  // cases lost every element after the bad one: dicom-parser read the reserved bytes as a length of 0 and then took
  // the real length and value for elements, so Series Number, Rows and Columns were missing from the attributes.
  it.each([
    ['two spaces, 2-byte length', [0x20, 0x20], false],
    ['two NULs, 2-byte length', [0x00, 0x00], false],
    ["unknown 'XX', 4-byte length", [0x58, 0x58], true],
    ["unknown 'ZZ', 4-byte length", [0x5a, 0x5a], true],
  ] as const)(
    'reads the element with its dictionary VR and every value after it (%s)',
    (_name, vrBytes, longLength) => {
      const parsed = parseDicom(fileWithRawVr(vrBytes, longLength));
      expect(parsed.dataSet.elements.x00181030!.vr).toBe('LO');
      const { attributes } = buildAttributes(parsed);
      expect(attributes['0018,1030']).toMatchObject({ vr: 'LO', value: 'T1 AXIAL' });
      expect(attributes['0010,0010']!.value).toBe('DOE^JOHN');
      expect(attributes['0020,0011']).toMatchObject({ vr: 'IS', value: 7 });
      expect(attributes['0028,0010']).toMatchObject({ vr: 'US', value: 2 });
      expect(attributes['0028,0011']).toMatchObject({ vr: 'US', value: 2 });
      // Nothing invented out of the misread bytes.
      expect(Object.keys(attributes).filter((tag) => !tag.startsWith('0002'))).toEqual(
        Object.keys(attributes)
          .filter((tag) => !tag.startsWith('0002'))
          .filter((tag) => ['0008', '0010', '0018', '0020', '0028'].includes(tag.slice(0, 4))),
      );
    },
  );

  // Before the fix the renderer's ranged reads (S3) misread the header the same way and found no Pixel Data.
  it('renders from ranged reads of a file with an unknown 4-byte-length VR before the image', async () => {
    const pixels = [0, 100, 200, 300];
    const head = buildDicom(patientElements({ modality: 'MR' }), { transferSyntax: TS.explicitLE });
    const raw = encodeElementWithRawVr(0x00181030, [0x58, 0x58], 'T1 AXIAL', true);
    const tail = encodeDataset(imageElements({ rows: 2, columns: 2, pixels }), TS.explicitLE);
    const file = new Uint8Array([...head, ...raw, ...tail]);
    const reader = await StoredFrameReader.open({
      read: async (start, end) => ({ bytes: file.subarray(start, Math.min(end, file.length)), size: file.length }),
    });
    const frame = await reader.frame(0);
    expect([...(await decodeFrameAsync(frame.parsed, 0, frame.storedFrame)).samples]).toEqual(pixels);
    const outcome = await processDicom(file);
    expect(outcome.result.image).toMatchObject({ state: 'RENDERED' });
  });
});
