// Attribute JSON, dicom_info, summary fields and ?tag= lookups on synthetic DICOM files.
import { describe, expect, it } from 'vitest';
import {
  buildAttributes,
  dicomInfo,
  findAttribute,
  MAX_SEQUENCE_DEPTH,
  parseTagQuery,
  summaryFields,
  type AttributeItem,
  type AttributesDocument,
} from '../../lambdas/dicom/attributes.js';
import { parseDicom } from '../../lambdas/dicom/parse.js';
import { clientError } from '../../lambdas/http/domain-errors.js';
import {
  buildDeflatedDicom,
  buildDicom,
  encodeDataset,
  imageElements,
  patientElements,
  TS,
  type FixtureElement,
} from '../fixtures/dicom-builder.js';

const attributesOf = (elements: FixtureElement[], transferSyntax: string = TS.explicitLE): AttributesDocument =>
  buildAttributes(parseDicom(buildDicom(elements, { transferSyntax })));
const valueOf = (doc: AttributesDocument | AttributeItem, tag: string): unknown =>
  ('attributes' in doc && typeof doc.count === 'number'
    ? (doc as AttributesDocument).attributes
    : (doc as AttributeItem))[tag]?.value;
const ascii = (text: string): Uint8Array => new Uint8Array([...text].map((c) => c.charCodeAt(0)));
const u64 = (value: bigint, signed: boolean): Uint8Array => {
  const out = new Uint8Array(8);
  if (signed) new DataView(out.buffer).setBigInt64(0, value, true);
  else new DataView(out.buffer).setBigUint64(0, value, true);
  return out;
};

describe('value rules', () => {
  const doc = attributesOf([
    { tag: 0x00100010, vr: 'PN', value: 'DOE^JOHN ' },
    { tag: 0x00100020, vr: 'LO', value: '  ID 7  ' },
    { tag: 0x00204000, vr: 'LT', value: '  indented note  ' },
    { tag: 0x0020000d, vr: 'UI', value: '1.2.3' }, // odd length: padded with NUL
    { tag: 0x00080008, vr: 'CS', value: 'ORIGINAL\\PRIMARY\\AXIAL' },
    { tag: 0x00280030, vr: 'DS', value: '0.5\\-2.25e1' },
    { tag: 0x00181050, vr: 'DS', value: ' 1.25 ' },
    { tag: 0x00180050, vr: 'DS', value: 'abc' },
    { tag: 0x00200013, vr: 'IS', value: '42' },
    { tag: 0x00200012, vr: 'IS', value: '4x' },
    { tag: 0x00280010, vr: 'US', value: 512 },
    { tag: 0x00280034, vr: 'IS', value: '1\\\\3' },
    { tag: 0x00189219, vr: 'SS', value: -7 },
    { tag: 0x00280009, vr: 'AT', value: [0x00185065, 0x00209113] },
    { tag: 0x00209057, vr: 'UL', value: 4_000_000_000 },
    { tag: 0x00189222, vr: 'SL', value: [-1, 2] },
    { tag: 0x00189223, vr: 'FL', value: 1.5 },
    { tag: 0x00189224, vr: 'FD', value: [Math.PI, -0.125] },
    { tag: 0x00189225, vr: 'FL', value: NaN },
    { tag: 0x00080012, vr: 'DA', value: '' },
    { tag: 0x00e00010, vr: 'OB', value: new Uint8Array([1, 2, 3, 4]) }, // not in PS3.6
    { tag: 0x00e00011, vr: 'OW', value: new Uint8Array(6) },
  ]);

  it('keys tags as upper-case "GGGG,EEEE" with PS3.6 name, VR and keyword', () => {
    expect(doc.attributes['0010,0010']).toEqual({
      name: "Patient's Name",
      vr: 'PN',
      keyword: 'PatientName',
      value: 'DOE^JOHN',
    });
    expect(doc.attributes['0020,000D']?.keyword).toBe('StudyInstanceUID');
  });

  it('trims padding: both ends for most VRs, only trailing for LT, trailing NULs of UIs', () => {
    expect(valueOf(doc, '0010,0020')).toBe('ID 7');
    expect(valueOf(doc, '0020,4000')).toBe('  indented note');
    expect(valueOf(doc, '0020,000D')).toBe('1.2.3');
  });

  it('gives multi-valued elements as arrays and single values as scalars', () => {
    expect(valueOf(doc, '0008,0008')).toEqual(['ORIGINAL', 'PRIMARY', 'AXIAL']);
    expect(valueOf(doc, '0028,0010')).toBe(512);
  });

  it('turns DS and IS into numbers, keeping invalid ones as the raw string', () => {
    expect(valueOf(doc, '0028,0030')).toEqual([0.5, -22.5]);
    expect(valueOf(doc, '0018,1050')).toBe(1.25);
    expect(valueOf(doc, '0018,0050')).toBe('abc');
    expect(valueOf(doc, '0020,0013')).toBe(42);
    expect(valueOf(doc, '0020,0012')).toBe('4x');
    // An empty value inside a multi-valued element is null.
    expect(valueOf(doc, '0028,0034')).toEqual([1, null, 3]);
  });

  it('reads binary numbers, AT as "GGGG,EEEE", NaN as a string', () => {
    expect(valueOf(doc, '0018,9219')).toBe(-7);
    expect(valueOf(doc, '0028,0009')).toEqual(['0018,5065', '0020,9113']);
    expect(valueOf(doc, '0020,9057')).toBe(4_000_000_000);
    expect(valueOf(doc, '0018,9222')).toEqual([-1, 2]);
    expect(valueOf(doc, '0018,9223')).toBe(1.5);
    expect(valueOf(doc, '0018,9224')).toEqual([Math.PI, -0.125]);
    expect(valueOf(doc, '0018,9225')).toBe('NaN');
  });

  it('reads explicit UV/SV/OV headers (4-byte lengths) and gives UV/SV as numbers within 2^53, strings beyond', () => {
    // dicom-parser 1.8.21 reads these lengths as 2 bytes; patches/dicom-parser+1.8.21.patch fixes it.
    const wide = buildAttributes(
      parseDicom(
        buildDicom([
          { tag: 0x00189228, vr: 'UV', value: u64(2n ** 53n + 1n, false) },
          { tag: 0x00189229, vr: 'SV', value: u64(-5n, true) },
          { tag: 0x0018922a, vr: 'UV', value: u64(7n, false) },
          { tag: 0x7fe00001, vr: 'OV', value: u64(0n, false) },
          { tag: 0x7fe00002, vr: 'OV', value: u64(1024n, false) },
        ]),
      ),
    );
    expect(valueOf(wide, '0018,9228')).toBe('9007199254740993');
    expect(valueOf(wide, '0018,9229')).toBe(-5);
    expect(valueOf(wide, '0018,922A')).toBe(7);
    expect(wide.attributes['7FE0,0001']).toMatchObject({
      keyword: 'ExtendedOffsetTable',
      vr: 'OV',
      value: null,
      length: 8,
    });
    expect(wide.attributes['7FE0,0002']).toMatchObject({ vr: 'OV', length: 8 });
  });

  it('gives an empty element the value null', () => {
    expect(doc.attributes['0008,0012']).toMatchObject({ value: null, vr: 'DA' });
  });

  it('does not inline binary VRs: value null and the byte count', () => {
    expect(doc.attributes['00E0,0010']).toMatchObject({ vr: 'OB', value: null, length: 4 });
    expect(doc.attributes['00E0,0011']).toMatchObject({ vr: 'OW', value: null, length: 6 });
  });

  it('reports public tags missing from the dictionary honestly: name and keyword null', () => {
    expect(doc.attributes['00E0,0010']).toMatchObject({ name: null, keyword: null });
  });

  it('includes the file meta group and counts every top-level key', () => {
    expect(doc.attributes['0002,0010']).toEqual({
      name: 'Transfer Syntax UID',
      vr: 'UI',
      keyword: 'TransferSyntaxUID',
      value: TS.explicitLE,
    });
    expect(doc.count).toBe(Object.keys(doc.attributes).length);
    expect(Object.keys(doc.attributes)[0]).toBe('0002,0000');
  });

  it('drops empty trailing person-name component groups', () => {
    expect(valueOf(attributesOf([{ tag: 0x00100010, vr: 'PN', value: 'DOE^JOHN=' }]), '0010,0010')).toBe('DOE^JOHN');
  });

  it('keeps thousands of DS values (RT contour data) as numbers', () => {
    const points = Array.from({ length: 30_000 }, (_, i) => (i * 0.5 - 100).toFixed(2));
    // Implicit VR, as in real RTSTRUCTs: an explicit DS length field stops at 64 KB.
    const contour = attributesOf([{ tag: 0x30060050, vr: 'DS', value: points.join('\\') }], TS.implicitLE);
    const values = valueOf(contour, '3006,0050') as number[];
    expect(values).toHaveLength(30_000);
    expect(values[29_999]).toBe(14_899.5);
  });
});

describe('sequences', () => {
  const item = (uid: string): FixtureElement[] => [
    { tag: 0x00081150, vr: 'UI', value: '1.2.840.10008.5.1.4.1.1.2' },
    { tag: 0x00081155, vr: 'UI', value: uid },
  ];

  it.each([false, true])('reads items recursively (undefined length: %s)', (undefinedLength) => {
    const doc = attributesOf([
      { tag: 0x00081140, vr: 'SQ', value: { items: [item('1.1'), item('1.2')], undefinedLength } },
      {
        tag: 0x00081115,
        vr: 'SQ',
        value: {
          items: [[{ tag: 0x00081140, vr: 'SQ', value: { items: [item('2.1')], undefinedLength } }]],
          undefinedLength,
        },
      },
    ]);
    const references = doc.attributes['0008,1140']!;
    expect(references).toMatchObject({
      name: 'Referenced Image Sequence',
      vr: 'SQ',
      keyword: 'ReferencedImageSequence',
    });
    expect(references.value).toEqual([
      {
        '0008,1150': {
          name: 'Referenced SOP Class UID',
          vr: 'UI',
          keyword: 'ReferencedSOPClassUID',
          value: '1.2.840.10008.5.1.4.1.1.2',
        },
        '0008,1155': {
          name: 'Referenced SOP Instance UID',
          vr: 'UI',
          keyword: 'ReferencedSOPInstanceUID',
          value: '1.1',
        },
      },
      {
        '0008,1150': {
          name: 'Referenced SOP Class UID',
          vr: 'UI',
          keyword: 'ReferencedSOPClassUID',
          value: '1.2.840.10008.5.1.4.1.1.2',
        },
        '0008,1155': {
          name: 'Referenced SOP Instance UID',
          vr: 'UI',
          keyword: 'ReferencedSOPInstanceUID',
          value: '1.2',
        },
      },
    ]);
    const series = doc.attributes['0008,1115']!.value as AttributeItem[];
    const nested = series[0]!['0008,1140']!.value as AttributeItem[];
    expect(nested[0]!['0008,1155']!.value).toBe('2.1');
    // Item delimiters of undefined-length items are not attributes.
    expect(Object.keys(nested[0]!)).toEqual(['0008,1150', '0008,1155']);
  });

  it('gives an empty sequence null and an empty item {}', () => {
    const doc = attributesOf([
      { tag: 0x00081140, vr: 'SQ', value: { items: [] } },
      { tag: 0x00081115, vr: 'SQ', value: { items: [[]] } },
    ]);
    expect(valueOf(doc, '0008,1140')).toBeNull();
    expect(valueOf(doc, '0008,1115')).toEqual([{}]);
  });

  it(`stops expanding below ${MAX_SEQUENCE_DEPTH} levels and says so`, () => {
    let element: FixtureElement = { tag: 0x00081155, vr: 'UI', value: 'deepest' };
    for (let level = 0; level < MAX_SEQUENCE_DEPTH + 6; level++) {
      element = { tag: 0x00081115, vr: 'SQ', value: { items: [[element]] } };
    }
    const doc = attributesOf([element]);
    let current = doc.attributes['0008,1115']!;
    let depth = 0;
    while (Array.isArray(current.value)) {
      current = (current.value[0] as AttributeItem)['0008,1115']!;
      depth++;
    }
    expect(depth).toBe(MAX_SEQUENCE_DEPTH);
    expect(current).toMatchObject({ vr: 'SQ', value: null, note: expect.stringContaining('nested deeper') });
    expect(current.length).toBeGreaterThan(0);
  });

  it('lets items inherit the character set unless they declare their own', () => {
    const name = new Uint8Array([0xc4]); // "Ä" in Latin-1, "Ф" in ISO 8859-5
    const doc = attributesOf([
      { tag: 0x00080005, vr: 'CS', value: 'ISO_IR 100' },
      {
        tag: 0x00081115,
        vr: 'SQ',
        value: {
          items: [
            [{ tag: 0x00081030, vr: 'LO', value: name }],
            [
              { tag: 0x00080005, vr: 'CS', value: 'ISO_IR 144' },
              { tag: 0x00081030, vr: 'LO', value: name },
            ],
          ],
        },
      },
    ]);
    const items = valueOf(doc, '0008,1115') as AttributeItem[];
    expect(items[0]!['0008,1030']!.value).toBe('Ä');
    expect(items[1]!['0008,1030']!.value).toBe('Ф');
  });
});

describe('implicit VR, big endian, private and UN elements', () => {
  it('takes VRs from the dictionary in an implicit VR file', () => {
    const doc = attributesOf(
      [
        ...patientElements({ name: 'ROE^RICHARD' }),
        ...imageElements({ rows: 2, columns: 2, pixels: [0, 1, 2, 3], signed: true }),
        { tag: 0x00280106, vr: 'SS', value: -5 }, // Smallest Image Pixel Value: "US or SS"
        { tag: 0x00090010, vr: 'LO', value: 'ACME 1.0' },
        { tag: 0x00091001, vr: 'LO', value: 'secret' },
      ],
      TS.implicitLE,
    );
    expect(doc.attributes['0010,0010']).toMatchObject({ vr: 'PN', value: 'ROE^RICHARD' });
    expect(doc.attributes['0028,0010']).toMatchObject({ vr: 'US', value: 2 });
    expect(doc.attributes['0028,0106']).toMatchObject({ vr: 'SS', value: -5 });
    expect(doc.attributes['7FE0,0010']).toMatchObject({ name: 'Pixel Data', vr: 'OW', value: null, length: 8 });
    expect(doc.attributes['0009,0010']).toEqual({
      name: 'Private Creator',
      vr: 'LO',
      keyword: 'PrivateCreator',
      value: 'ACME 1.0',
    });
    expect(doc.attributes['0009,1001']).toEqual({
      name: 'Private tag data',
      vr: 'UN',
      keyword: '',
      privateCreator: 'ACME 1.0',
      value: null,
      length: 6,
    });
  });

  it('reads "US or SS" as unsigned when Pixel Representation is 0, and LUT descriptors by PS3.3 rules', () => {
    const doc = attributesOf(
      [
        { tag: 0x00280103, vr: 'US', value: 1 },
        { tag: 0x00280106, vr: 'US', value: 65_000 },
        {
          tag: 0x00283000,
          vr: 'SQ',
          value: {
            items: [
              [
                { tag: 0x00283002, vr: 'US', value: [4096, 0x10000 - 100, 16] },
                { tag: 0x00283006, vr: 'US', value: new Uint8Array(8192) },
              ],
            ],
          },
        },
      ],
      TS.implicitLE,
    );
    // Pixel Representation 1: signed, but a descriptor's entry count and bit depth stay unsigned.
    expect(valueOf(doc, '0028,0106')).toBe(-536);
    const lut = (valueOf(doc, '0028,3000') as AttributeItem[])[0]!;
    expect(lut['0028,3002']).toMatchObject({ vr: 'SS', value: [4096, -100, 16] });
    expect(lut['0028,3006']).toMatchObject({ vr: 'OW', value: null, length: 8192 });
    const unsigned = attributesOf([{ tag: 0x00280106, vr: 'US', value: 65_000 }], TS.implicitLE);
    expect(valueOf(unsigned, '0028,0106')).toBe(65_000);
  });

  it('reads an implicit VR private sequence of undefined length as SQ', () => {
    const doc = attributesOf(
      [
        { tag: 0x00090010, vr: 'LO', value: 'ACME 1.0' },
        {
          tag: 0x00091002,
          vr: 'SQ',
          value: { items: [[{ tag: 0x00100020, vr: 'LO', value: 'inner' }]], undefinedLength: true },
        },
      ],
      TS.implicitLE,
    );
    expect(doc.attributes['0009,1002']).toMatchObject({ name: 'Private tag data', vr: 'SQ' });
    expect((valueOf(doc, '0009,1002') as AttributeItem[])[0]!['0010,0020']!.value).toBe('inner');
  });

  it('reads numbers and AT in explicit VR big endian', () => {
    const doc = attributesOf(
      [
        { tag: 0x00280010, vr: 'US', value: 300 },
        { tag: 0x00189219, vr: 'SS', value: -300 },
        { tag: 0x00280009, vr: 'AT', value: 0x00185065 },
        { tag: 0x00189224, vr: 'FD', value: 2.5 },
      ],
      TS.explicitBE,
    );
    expect(valueOf(doc, '0028,0010')).toBe(300);
    expect(valueOf(doc, '0018,9219')).toBe(-300);
    expect(valueOf(doc, '0028,0009')).toBe('0018,5065');
    expect(valueOf(doc, '0018,9224')).toBe(2.5);
    // The meta group stays little endian.
    expect(valueOf(doc, '0002,0000')).toBeGreaterThan(50);
    expect(valueOf(doc, '0002,0000')).toBeLessThan(1000);
  });

  it('decodes UN elements of known tags with the dictionary VR, sequences included', () => {
    const sequenceBytes = encodeDataset(
      [{ tag: 0x00081140, vr: 'SQ', value: { items: [[{ tag: 0x00081155, vr: 'UI', value: '9.8.7' }]] } }],
      TS.implicitLE,
    ).subarray(8); // drop the implicit tag and length: keep the items
    const doc = attributesOf([
      { tag: 0x00100010, vr: 'UN', value: ascii('DOE^JANE') },
      { tag: 0x00280010, vr: 'UN', value: new Uint8Array([0x00, 0x02]) },
      { tag: 0x00081140, vr: 'UN', value: sequenceBytes },
      { tag: 0x00091001, vr: 'UN', value: new Uint8Array([1, 2]) },
    ]);
    expect(doc.attributes['0010,0010']).toMatchObject({ vr: 'PN', value: 'DOE^JANE' });
    expect(doc.attributes['0028,0010']).toMatchObject({ vr: 'US', value: 512 });
    expect(doc.attributes['0008,1140']).toMatchObject({
      vr: 'SQ',
      value: [{ '0008,1155': { vr: 'UI', value: '9.8.7' } }],
    });
    expect(doc.attributes['0009,1001']).toMatchObject({ vr: 'UN', value: null, length: 2 });
  });

  it('decodes ISO 2022 person names in the attributes', () => {
    const ESC = 0x1b;
    const name = new Uint8Array([
      ...ascii('Yamada^Tarou='),
      ...[ESC, 0x24, 0x42],
      ...ascii(';3ED'),
      ...[ESC, 0x28, 0x42],
      0x5e,
      ...[ESC, 0x24, 0x42],
      ...ascii('B@O:'),
      ...[ESC, 0x28, 0x42],
    ]);
    const doc = attributesOf([
      { tag: 0x00080005, vr: 'CS', value: '\\ISO 2022 IR 87' },
      { tag: 0x00100010, vr: 'PN', value: name },
    ]);
    expect(valueOf(doc, '0010,0010')).toBe('Yamada^Tarou=山田^太郎');
    expect(valueOf(doc, '0008,0005')).toEqual([null, 'ISO 2022 IR 87']);
  });

  it('leaves out the elements dicom-parser invents from the preamble of a deflated file', () => {
    const parsed = parseDicom(buildDeflatedDicom(patientElements({ name: 'DEFLATED^DORA' })));
    const doc = buildAttributes(parsed);
    expect(valueOf(doc, '0010,0010')).toBe('DEFLATED^DORA');
    expect(Object.keys(doc.attributes).filter((tag) => !/^(0002|0008|0010),/.test(tag))).toEqual([]);
  });

  it('marks Pixel Data cut short by a truncated file', () => {
    const full = buildDicom([
      ...patientElements(),
      ...imageElements({ rows: 64, columns: 64, pixels: new Array(4096).fill(7) }),
    ]);
    const parsed = parseDicom(full.subarray(0, full.length - 1000));
    expect(parsed.truncatedPixelData).toBe(true);
    const pixels = buildAttributes(parsed).attributes['7FE0,0010']!;
    expect(pixels).toMatchObject({
      value: null,
      length: 8192 - 1000,
      note: 'truncated: the file holds 7192 of 8192 bytes',
    });
    expect(dicomInfo(parsed).ImageDimensions).toEqual({ rows: 64, columns: 64 });
  });
});

describe('dicomInfo and summaryFields', () => {
  it('reports the identifying attributes and the image size', () => {
    const parsed = parseDicom(
      buildDicom(
        [
          ...patientElements({
            name: 'DOE^JOHN',
            id: '12345',
            studyDate: '20231215',
            description: 'MRI BRAIN',
            modality: 'MR',
          }),
          ...imageElements({ rows: 3, columns: 2, pixels: [1, 2, 3, 4, 5, 6] }),
          { tag: 0x0020000d, vr: 'UI', value: '1.2.3.4' },
          { tag: 0x00280008, vr: 'IS', value: '1' },
        ],
        { sopInstanceUid: '1.2.3.5' },
      ),
    );
    expect(dicomInfo(parsed)).toEqual({
      PatientName: 'DOE^JOHN',
      PatientID: '12345',
      StudyDate: '20231215',
      StudyDescription: 'MRI BRAIN',
      Modality: 'MR',
      ImageDimensions: { rows: 3, columns: 2 },
    });
    expect(summaryFields(parsed)).toEqual({
      sopInstanceUid: '1.2.3.5',
      sopClassUid: '1.2.840.10008.5.1.4.1.1.7',
      studyInstanceUid: '1.2.3.4',
      seriesInstanceUid: null,
      transferSyntaxUid: TS.explicitLE,
      numberOfFrames: 1,
    });
  });

  it('gives null for absent or empty attributes and for an object without pixel data', () => {
    const parsed = parseDicom(
      buildDicom([
        { tag: 0x00100010, vr: 'PN', value: '' },
        { tag: 0x00080060, vr: 'CS', value: '  ' },
        { tag: 0x00280010, vr: 'US', value: 8 },
        { tag: 0x00280011, vr: 'US', value: 8 },
      ]),
    );
    expect(dicomInfo(parsed)).toEqual({
      PatientName: null,
      PatientID: null,
      StudyDate: null,
      StudyDescription: null,
      Modality: null,
      ImageDimensions: null,
    });
    expect(summaryFields(parsed).numberOfFrames).toBeNull();
  });

  it('decodes the person name with the file character set', () => {
    const parsed = parseDicom(
      buildDicom([
        { tag: 0x00080005, vr: 'CS', value: 'ISO_IR 100' },
        { tag: 0x00100010, vr: 'PN', value: new Uint8Array([0xc4, ...ascii('neas^R'), 0xfc, ...ascii('diger')]) },
      ]),
    );
    expect(dicomInfo(parsed).PatientName).toBe('Äneas^Rüdiger');
  });
});

describe('?tag= lookups', () => {
  const doc = attributesOf(patientElements({ name: 'DOE^JOHN' }));

  it.each(['0010,0010', '(0010,0010)', '00100010', '(0010, 0010)', 'PatientName'])('accepts %s', (query) => {
    expect(parseTagQuery(query)).toBe('0010,0010');
    expect(findAttribute(doc, query)).toEqual({
      tag: '0010,0010',
      attribute: { name: "Patient's Name", vr: 'PN', keyword: 'PatientName', value: 'DOE^JOHN' },
    });
  });

  it('accepts lower-case hex and the file meta keywords', () => {
    expect(parseTagQuery('7fe0,0010')).toBe('7FE0,0010');
    expect(findAttribute(doc, 'TransferSyntaxUID').attribute.value).toBe(TS.explicitLE);
  });

  it.each(['0010,001', '0010-0010', 'x00100010', '(0010,0010', '', 'NoSuchKeyword', '0010,00G0', 'Patient Name'])(
    'rejects %j with 400 naming the accepted forms',
    (query) => {
      const error = (() => {
        try {
          parseTagQuery(query);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      const answer = clientError(error);
      expect(answer?.status).toBe(400);
      expect(answer?.code).toBe('INVALID_TAG');
      expect(answer?.message).toContain('GGGG,EEEE');
    },
  );

  it('answers 404 naming the tag when the file lacks it', () => {
    let missing: unknown;
    try {
      findAttribute(doc, 'Rows');
    } catch (error) {
      missing = error;
    }
    expect(clientError(missing)?.status).toBe(404);
    expect(() => findAttribute(doc, '0028,0010')).toThrow(/\(0028,0010\) Rows/);
    expect(() => findAttribute(doc, '0029,1010')).toThrow(/\(0029,1010\)/);
  });
});
