// Private data elements named and decoded with the private dictionary (dcmtk's, as dcmjs ships it), and every element
// of a dataset accounted for in the attributes JSON: a value, or a binary marker with its length (issue #22).
import type { DataSet, Element } from 'dicom-parser';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  buildAttributes,
  type AttributeItem,
  type AttributeJson,
  type AttributesDocument,
} from '../../lambdas/dicom/attributes.js';
import { lookupTag } from '../../lambdas/dicom/dictionary.js';
import { parseDicom } from '../../lambdas/dicom/parse.js';
import { processDicom } from '../../lambdas/dicom/process.js';
import { loadPrivateDictionary, type PrivateDictionary } from '../../lambdas/dicom/private-dictionary.js';
import { buildDicom, encodeUnSequenceValue, TS, type FixtureElement } from '../fixtures/dicom-builder.js';

let privateDictionary: PrivateDictionary;
beforeAll(async () => {
  privateDictionary = await loadPrivateDictionary();
});

const attributesOf = (elements: FixtureElement[], transferSyntax: string): AttributesDocument =>
  buildAttributes(parseDicom(buildDicom(elements, { transferSyntax })), { privateDictionary });
const ascii = (text: string): Uint8Array => new Uint8Array([...text].map((c) => c.charCodeAt(0)));
const int32LittleEndian = (value: number): Uint8Array => {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setInt32(0, value, true);
  return out;
};
const itemsOf = (attribute: AttributeJson | undefined): AttributeItem[] => attribute!.value as AttributeItem[];
/** The private elements of a document (odd groups), without the meta group and the SOP identifiers. */
const privateOf = (doc: AttributesDocument): Record<string, AttributeJson> =>
  Object.fromEntries(Object.entries(doc.attributes).filter(([tag]) => parseInt(tag.slice(0, 4), 16) % 2 === 1));

/** A GE CT's private header as GE writes it (values made up): two creators, numbers and text. */
const GE_HEADER: FixtureElement[] = [
  { tag: 0x00090010, vr: 'LO', value: 'GEMS_IDEN_01' },
  { tag: 0x00091001, vr: 'LO', value: 'GE_GENESIS_FF' },
  { tag: 0x00190010, vr: 'LO', value: 'GEMS_ACQU_01' },
  { tag: 0x00191002, vr: 'SL', value: 912 },
  { tag: 0x00191011, vr: 'SS', value: -2 },
  { tag: 0x00191018, vr: 'LO', value: 'S' },
  { tag: 0x0019101e, vr: 'DS', value: '250.5' },
  { tag: 0x00191023, vr: 'DS', value: '5\\7.5' },
];

/** A Siemens header: two creators in one group, so (0029,10xx) and (0029,11xx) belong to different dictionaries. */
const SIEMENS_HEADER: FixtureElement[] = [
  { tag: 0x00290010, vr: 'LO', value: 'SIEMENS CSA HEADER' },
  { tag: 0x00290011, vr: 'LO', value: 'SIEMENS MEDCOM HEADER' },
  { tag: 0x00291008, vr: 'CS', value: 'IMAGE NUM 4' },
  { tag: 0x00291010, vr: 'OB', value: new Uint8Array(64).fill(0x53) },
  { tag: 0x00291108, vr: 'CS', value: 'MEDCOM 1' },
  {
    tag: 0x00291170,
    vr: 'SQ',
    value: {
      items: [
        [
          // A creator holds for the dataset it is in: each item names its own (PS3.5 7.8.1).
          { tag: 0x00290011, vr: 'LO', value: 'SIEMENS MEDCOM HEADER' },
          { tag: 0x00291171, vr: 'AT', value: 0x00100010 },
          { tag: 0x00291173, vr: 'UL', value: 14 },
        ],
      ],
    },
  },
];

describe('the private dictionary (PS3.5 7.8: creator, group and element byte)', () => {
  it('finds an element in whichever block its creator reserved', () => {
    expect(privateDictionary.lookup('GEMS_ACQU_01', 0x0019, 0x101e)).toEqual({ name: 'DisplayFieldOfView', vr: 'DS' });
    expect(privateDictionary.lookup('GEMS_ACQU_01', 0x0019, 0x2a1e)).toEqual({ name: 'DisplayFieldOfView', vr: 'DS' });
    // The creator's padding does not count; its case does (creators are compared as written).
    expect(privateDictionary.lookup('GEMS_ACQU_01 ', 0x0019, 0x101e)?.name).toBe('DisplayFieldOfView');
    expect(privateDictionary.lookup('gems_acqu_01', 0x0019, 0x101e)).toBeUndefined();
  });

  it('knows nothing outside private data elements, and nothing for another group or creator', () => {
    expect(privateDictionary.lookup('GEMS_ACQU_01', 0x0018, 0x101e)).toBeUndefined(); // even group
    expect(privateDictionary.lookup('GEMS_ACQU_01', 0x0019, 0x001e)).toBeUndefined(); // not a private data element
    expect(privateDictionary.lookup('GEMS_ACQU_01', 0x0021, 0x101e)).toBeUndefined();
    expect(privateDictionary.lookup('ACME 1.0', 0x0019, 0x101e)).toBeUndefined();
  });

  it("reads dcmtk's fixed element numbers, odd group ranges, VR-only entries and OB-or-OW", () => {
    // '(0019,"PHILIPS MR/PART",1005)': only element 1005, in block 10.
    expect(privateDictionary.lookup('PHILIPS MR/PART', 0x0019, 0x1005)).toEqual({ name: 'CCAngulation', vr: 'DS' });
    expect(privateDictionary.lookup('PHILIPS MR/PART', 0x0019, 0x1105)).toBeUndefined();
    // '(6001-o-60ff,"PAPYRUS 3.0",10)': every odd group of the range.
    expect(privateDictionary.lookup('PAPYRUS 3.0', 0x6021, 0x1010)).toEqual({ name: 'OverlayRows', vr: 'US' });
    // dcmtk names some elements "Unknown": their VR is still known.
    expect(privateDictionary.lookup('GEMS_RELA_01', 0x0021, 0x1015)).toEqual({ name: undefined, vr: 'US' });
    expect(privateDictionary.lookup('SPI-P Release 1', 0x7fe1, 0x1010)).toEqual({ name: 'PixelData', vr: 'OW' });
  });

  it('is loaded once per process', async () => {
    expect(await loadPrivateDictionary()).toBe(privateDictionary);
  });
});

describe('private elements in the attributes JSON', () => {
  it('names known elements and decodes implicit VR values with the dictionary VR', () => {
    const doc = attributesOf([...GE_HEADER, ...SIEMENS_HEADER], TS.implicitLE);
    expect(doc.attributes['0019,0010']).toEqual({
      name: 'Private Creator',
      vr: 'LO',
      keyword: 'PrivateCreator',
      value: 'GEMS_ACQU_01',
    });
    expect(doc.attributes['0009,1001']).toEqual({
      name: 'FullFidelity',
      vr: 'LO',
      keyword: '',
      privateCreator: 'GEMS_IDEN_01',
      value: 'GE_GENESIS_FF',
    });
    expect(doc.attributes['0019,1002']).toMatchObject({ name: 'NumberOfCellsInDetector', vr: 'SL', value: 912 });
    expect(doc.attributes['0019,1011']).toMatchObject({ name: 'SeriesContrast', vr: 'SS', value: -2 });
    expect(doc.attributes['0019,1018']).toMatchObject({ name: 'FirstScanRAS', vr: 'LO', value: 'S' });
    expect(doc.attributes['0019,101E']).toMatchObject({ name: 'DisplayFieldOfView', vr: 'DS', value: 250.5 });
    expect(doc.attributes['0019,1023']).toMatchObject({ name: 'TableSpeed', vr: 'DS', value: [5, 7.5] });
    // The same element byte in two blocks: each block's creator decides.
    expect(doc.attributes['0029,1008']).toMatchObject({
      name: 'CSAImageHeaderType',
      privateCreator: 'SIEMENS CSA HEADER',
      vr: 'CS',
      value: 'IMAGE NUM 4',
    });
    expect(doc.attributes['0029,1108']).toMatchObject({
      name: 'MedComHeaderType',
      privateCreator: 'SIEMENS MEDCOM HEADER',
      vr: 'CS',
      value: 'MEDCOM 1',
    });
    // A binary private value: named, marked binary, with its length.
    expect(doc.attributes['0029,1010']).toEqual({
      name: 'CSAImageHeaderInfo',
      vr: 'OB',
      keyword: '',
      privateCreator: 'SIEMENS CSA HEADER',
      value: null,
      length: 64,
    });
  });

  it('decodes a private sequence and the private elements of its items, each item with its own creator', () => {
    for (const transferSyntax of [TS.implicitLE, TS.explicitLE]) {
      const doc = attributesOf(SIEMENS_HEADER, transferSyntax);
      expect(doc.attributes['0029,1170']).toMatchObject({ name: 'SiemensLinkSequence', vr: 'SQ' });
      const [item] = itemsOf(doc.attributes['0029,1170']);
      expect(item!['0029,1171']).toMatchObject({ name: 'ReferencedTag', vr: 'AT', value: '0010,0010' });
      expect(item!['0029,1173']).toMatchObject({ name: 'ReferencedValueLength', vr: 'UL', value: 14 });
    }
  });

  it('gives an implicit VR file the same private attributes as its explicit VR copy', () => {
    const implicit = attributesOf([...GE_HEADER, ...SIEMENS_HEADER], TS.implicitLE);
    const explicit = attributesOf([...GE_HEADER, ...SIEMENS_HEADER], TS.explicitLE);
    const bigEndian = attributesOf([...GE_HEADER, ...SIEMENS_HEADER], TS.explicitBE);
    expect(Object.keys(privateOf(implicit))).toHaveLength(14);
    expect(privateOf(implicit)).toEqual(privateOf(explicit));
    expect(privateOf(bigEndian)).toEqual(privateOf(explicit));
  });

  it('decodes UN values with the dictionary VR, little endian whatever the transfer syntax (PS3.5 6.2.2)', () => {
    const asUn: FixtureElement[] = [
      { tag: 0x00190010, vr: 'LO', value: 'GEMS_ACQU_01' },
      { tag: 0x00191002, vr: 'UN', value: int32LittleEndian(912) },
      { tag: 0x0019101e, vr: 'UN', value: ascii('250.5 ') },
      {
        tag: 0x00291000,
        vr: 'UN',
        value: encodeUnSequenceValue([
          [
            { tag: 0x00290010, vr: 'LO', value: 'CARDIO-D.R. 1.0' },
            { tag: 0x00291001, vr: 'US', value: [5, 5] },
          ],
        ]),
      },
      { tag: 0x00290010, vr: 'LO', value: 'CARDIO-D.R. 1.0' },
    ];
    for (const transferSyntax of [TS.explicitLE, TS.explicitBE]) {
      const doc = attributesOf(asUn, transferSyntax);
      expect(doc.attributes['0019,1002']).toMatchObject({ name: 'NumberOfCellsInDetector', vr: 'SL', value: 912 });
      expect(doc.attributes['0019,101E']).toMatchObject({ name: 'DisplayFieldOfView', vr: 'DS', value: 250.5 });
      expect(doc.attributes['0029,1000']).toMatchObject({ name: 'EdgeEnhancementSequence', vr: 'SQ' });
      const [item] = itemsOf(doc.attributes['0029,1000']);
      expect(item!['0029,1001']).toMatchObject({ name: 'ConvolutionKernelSize', vr: 'US', value: [5, 5] });
    }
  });

  it('keeps the VR an explicit VR file states, and names the element all the same', () => {
    const doc = attributesOf(
      [
        { tag: 0x00190010, vr: 'LO', value: 'GEMS_ACQU_01' },
        { tag: 0x0019101e, vr: 'FD', value: 250.5 }, // the dictionary says DS; the file says FD
      ],
      TS.explicitLE,
    );
    expect(doc.attributes['0019,101E']).toMatchObject({ name: 'DisplayFieldOfView', vr: 'FD', value: 250.5 });
  });

  it('reads a private sequence of undefined length in implicit VR, named from the dictionary', () => {
    const doc = attributesOf(
      [
        { tag: 0x00290010, vr: 'LO', value: 'CARDIO-D.R. 1.0' },
        {
          tag: 0x00291000,
          vr: 'SQ',
          value: {
            undefinedLength: true,
            items: [
              [
                { tag: 0x00290010, vr: 'LO', value: 'CARDIO-D.R. 1.0' },
                { tag: 0x00291003, vr: 'DS', value: '0.5' },
              ],
              // An item without a creator of its own: its private elements belong to nobody known.
              [{ tag: 0x00291003, vr: 'DS', value: '0.5' }],
            ],
          },
        },
      ],
      TS.implicitLE,
    );
    const [first, second] = itemsOf(doc.attributes['0029,1000']);
    expect(first!['0029,1003']).toMatchObject({ name: 'EdgeEnhancementGain', vr: 'DS', value: 0.5 });
    expect(second!['0029,1003']).toEqual({ name: 'Private tag data', vr: 'UN', keyword: '', value: null, length: 4 });
  });

  it('keeps "Private tag data" for elements the dictionary does not know, with their creator', () => {
    const doc = attributesOf(
      [
        { tag: 0x00110010, vr: 'LO', value: 'ACME 1.0' },
        { tag: 0x00111001, vr: 'LO', value: 'secret' },
        { tag: 0x00190010, vr: 'LO', value: 'GEMS_ACQU_01' },
        { tag: 0x001910fe, vr: 'LO', value: 'not in the dictionary' },
        { tag: 0x00131001, vr: 'LO', value: 'no creator at all' },
        { tag: 0x00210010, vr: 'LO', value: 'GEMS_RELA_01' },
        { tag: 0x00211015, vr: 'US', value: 24078 }, // known VR, no name
      ],
      TS.implicitLE,
    );
    expect(doc.attributes['0011,1001']).toEqual({
      name: 'Private tag data',
      vr: 'UN',
      keyword: '',
      privateCreator: 'ACME 1.0',
      value: null,
      length: 6,
    });
    expect(doc.attributes['0019,10FE']).toMatchObject({
      name: 'Private tag data',
      vr: 'UN',
      privateCreator: 'GEMS_ACQU_01',
      length: 22,
    });
    expect(doc.attributes['0013,1001']).toEqual({
      name: 'Private tag data',
      vr: 'UN',
      keyword: '',
      value: null,
      length: 18,
    });
    expect(doc.attributes['0021,1015']).toMatchObject({
      name: 'Private tag data',
      vr: 'US',
      privateCreator: 'GEMS_RELA_01',
      value: 24078,
    });
  });

  it('keeps a value that does not fit the dictionary VR as bytes, with its length and why', () => {
    const doc = attributesOf(
      [
        { tag: 0x00190010, vr: 'LO', value: 'GEMS_ACQU_01' },
        { tag: 0x00191002, vr: 'UN', value: new Uint8Array([1, 2, 3, 4, 5, 6]) }, // SL needs a multiple of 4
        { tag: 0x00191018, vr: 'UN', value: new Uint8Array([1, 2, 3, 4]) }, // LO cannot hold control bytes
      ],
      TS.implicitLE,
    );
    expect(doc.attributes['0019,1002']).toMatchObject({
      name: 'NumberOfCellsInDetector',
      vr: 'UN',
      value: null,
      length: 6,
      note: "not decoded: these 6 bytes do not fit the private dictionary's VR SL",
    });
    expect(doc.attributes['0019,1018']).toMatchObject({ name: 'FirstScanRAS', vr: 'UN', value: null, length: 4 });
  });

  it('leaves private elements undecoded when no dictionary is given', () => {
    const doc = buildAttributes(parseDicom(buildDicom(GE_HEADER, { transferSyntax: TS.implicitLE })));
    expect(doc.attributes['0019,101E']).toEqual({
      name: 'Private tag data',
      vr: 'UN',
      keyword: '',
      privateCreator: 'GEMS_ACQU_01',
      value: null,
      length: 6,
    });
  });

  it('is what the processor stores', async () => {
    const outcome = await processDicom(buildDicom(GE_HEADER, { transferSyntax: TS.implicitLE }));
    const stored = JSON.parse(new TextDecoder().decode(outcome.attributesJson)) as AttributesDocument;
    expect(stored.attributes['0019,101E']).toMatchObject({ name: 'DisplayFieldOfView', vr: 'DS', value: 250.5 });
  });
});

describe('nothing silently dropped', () => {
  const UNKNOWN_PUBLIC_TAG = 0x00640001;

  /** Public and private, text, numbers, binary, empty, nested: every kind of element a file may hold. */
  const MIXED: FixtureElement[] = [
    ...GE_HEADER,
    ...SIEMENS_HEADER,
    { tag: 0x00100010, vr: 'PN', value: 'DOE^JANE' },
    { tag: 0x00080080, vr: 'LO', value: '' }, // empty
    { tag: 0x00280010, vr: 'US', value: 2 },
    { tag: 0x00209057, vr: 'UL', value: new Uint8Array([1, 0, 0, 0, 9, 9]) }, // 1 whole UL and 2 stray bytes
    { tag: 0x00420011, vr: 'OB', value: new Uint8Array(10) }, // Encapsulated Document
    { tag: 0x00283006, vr: 'OW', value: new Uint8Array(8) }, // LUT Data
    { tag: UNKNOWN_PUBLIC_TAG, vr: 'UN', value: new Uint8Array([1, 2, 3, 4]) },
    { tag: 0x00110010, vr: 'LO', value: 'ACME 1.0' },
    { tag: 0x00111001, vr: 'OB', value: new Uint8Array(12) },
    { tag: 0x00111002, vr: 'UN', value: new Uint8Array([7, 7]) },
    {
      tag: 0x00111003,
      vr: 'SQ',
      value: {
        items: [
          [
            { tag: 0x00100020, vr: 'LO', value: 'inner' },
            { tag: 0x00110010, vr: 'LO', value: 'ACME 1.0' },
            { tag: 0x00111001, vr: 'FD', value: 1.5 },
          ],
        ],
      },
    },
    { tag: 0x7fe00010, vr: 'OW', value: new Uint8Array([1, 0, 2, 0, 3, 0, 4, 0]) },
  ];

  /** Every element the parser found, at any depth, is in the JSON with a name, and a value or a length. */
  function expectAccountedFor(dataSet: DataSet, item: AttributeItem, path: string): number {
    let checked = 0;
    for (const [tag, element] of Object.entries(dataSet.elements) as Array<[string, Element]>) {
      if (tag.startsWith('xfffe')) continue;
      const key = `${tag.slice(1, 5).toUpperCase()},${tag.slice(5).toUpperCase()}`;
      const attribute = item[key];
      expect(attribute, `${path}${key} is in the JSON`).toBeDefined();
      checked++;
      const unknownPublic = key === '0064,0001';
      if (unknownPublic) expect(attribute!.name, 'an unknown public tag is reported, not named').toBeNull();
      else expect(typeof attribute!.name, `${path}${key} has a name`).toBe('string');
      expect(attribute!.vr, `${path}${key} has a VR`).toMatch(/^[A-Z]{2}$/);
      if (element.items) {
        const items = attribute!.value as AttributeItem[];
        expect(items, `${path}${key} holds its items`).toHaveLength(element.items.length);
        element.items.forEach((sequenceItem, index) => {
          checked += expectAccountedFor(sequenceItem.dataSet!, items[index]!, `${path}${key}[${index}].`);
        });
        continue;
      }
      const decoded = attribute!.value !== null;
      const markedBinary = attribute!.length === element.length;
      expect(decoded || markedBinary || element.length === 0, `${path}${key}: a value or its length`).toBe(true);
    }
    return checked;
  }

  it.each([
    ['implicit VR', TS.implicitLE],
    ['explicit VR', TS.explicitLE],
    ['explicit VR big endian', TS.explicitBE],
  ])('%s: every element is decoded or marked binary with its length', (_, transferSyntax) => {
    expect(lookupTag('00640001'), 'the test needs a public tag the dictionary lacks').toBeUndefined();
    const parsed = parseDicom(buildDicom(MIXED, { transferSyntax }));
    const doc = buildAttributes(parsed, { privateDictionary });
    expect(expectAccountedFor(parsed.dataSet, doc.attributes, '')).toBeGreaterThan(MIXED.length);
    expect(doc.attributes['0011,1001']).toMatchObject({ name: 'Private tag data', value: null, length: 12 });
    expect(doc.attributes['0064,0001']).toMatchObject({ name: null, vr: 'UN', value: null, length: 4 });
    expect(doc.attributes['7FE0,0010']).toMatchObject({ name: 'Pixel Data', value: null, length: 8 });
  });

  it('says when a value has bytes past its last whole number instead of dropping them', () => {
    const doc = attributesOf([{ tag: 0x00209057, vr: 'UL', value: new Uint8Array([1, 0, 0, 0, 9, 9]) }], TS.explicitLE);
    expect(doc.attributes['0020,9057']).toMatchObject({
      vr: 'UL',
      value: 1,
      note: 'the last 2 of 6 bytes do not make a whole UL value and are not shown',
    });
  });
});

describe('public elements newer than the main dictionary (PS3.6 2019e)', () => {
  const NEWER: FixtureElement[] = [
    { tag: 0x00041130, vr: 'CS', value: 'FILESET1' },
    { tag: 0x0008001c, vr: 'CS', value: 'YES' },
    { tag: 0x00080019, vr: 'UI', value: '1.2.3.4.5' },
  ];

  it('are named from the data file and decoded with its VR in an implicit VR file', () => {
    const doc = attributesOf(NEWER, TS.implicitLE);
    expect(doc.attributes['0008,001C']).toMatchObject({
      name: 'Synthetic Data',
      keyword: 'SyntheticData',
      vr: 'CS',
      value: 'YES',
    });
    expect(doc.attributes['0008,0019']).toMatchObject({ keyword: 'PyramidUID', vr: 'UI', value: '1.2.3.4.5' });
    expect(doc.attributes['0004,1130']).toMatchObject({ name: 'File Set ID', keyword: 'FileSetID', value: 'FILESET1' });
  });

  it('stay unnamed without the data file (the API Lambdas, which do not load it)', () => {
    const doc = buildAttributes(parseDicom(buildDicom(NEWER, { transferSyntax: TS.implicitLE })));
    expect(doc.attributes['0008,001C']).toMatchObject({ name: null, keyword: null });
  });
});
