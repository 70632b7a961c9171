// The DICOM JSON Model encoder (PS3.18 F.2): values per VR, sequences, bulk data paths and bytes, sample corpus.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildAttributes, MAX_SEQUENCE_DEPTH } from '../../lambdas/dicom/attributes.js';
import {
  bulkDataBytes,
  parseBulkDataPath,
  pickAttributes,
  stringifyDicomJson,
  toDicomJson,
  type BulkDataPath,
  type DicomJsonAttribute,
  type DicomJsonDataset,
  type DicomJsonOptions,
} from '../../lambdas/dicom/dicom-json.js';
import { parseDicom } from '../../lambdas/dicom/parse.js';
import { NotDicom } from '../../lambdas/dicom/errors.js';
import {
  buildDicom,
  buildEncapsulatedDicom,
  imageElements,
  patientElements,
  TS,
  type FixtureElement,
} from '../fixtures/dicom-builder.js';

const jsonOf = (
  elements: FixtureElement[],
  transferSyntax: string = TS.explicitLE,
  options?: DicomJsonOptions,
): DicomJsonDataset => toDicomJson(parseDicom(buildDicom(elements, { transferSyntax })), options);
const latin1 = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'latin1'));
const ascii = (text: string): number[] => [...text].map((c) => c.charCodeAt(0));
const u64 = (value: bigint, signed: boolean): Uint8Array => {
  const out = new Uint8Array(8);
  if (signed) new DataView(out.buffer).setBigInt64(0, value, true);
  else new DataView(out.buffer).setBigUint64(0, value, true);
  return out;
};
const item = (uid: string): FixtureElement[] => [
  { tag: 0x00081150, vr: 'UI', value: '1.2.840.10008.5.1.4.1.1.2' },
  { tag: 0x00081155, vr: 'UI', value: uid },
];

describe('values per VR', () => {
  const json = jsonOf([
    { tag: 0x00080008, vr: 'CS', value: 'ORIGINAL\\PRIMARY\\AXIAL' },
    { tag: 0x00080012, vr: 'DA', value: '' },
    { tag: 0x00100020, vr: 'LO', value: '  ID 7  ' },
    { tag: 0x0020000d, vr: 'UI', value: '1.2.3' }, // odd length: padded with NUL
    { tag: 0x00204000, vr: 'LT', value: '  indented \\ note  ' },
    { tag: 0x00280030, vr: 'DS', value: '0.5\\-2.25e1' },
    { tag: 0x00181050, vr: 'DS', value: ' 1.25 ' },
    { tag: 0x00180050, vr: 'DS', value: 'abc' },
    { tag: 0x00200013, vr: 'IS', value: '42' },
    { tag: 0x00280034, vr: 'IS', value: '1\\\\3' },
    { tag: 0x00280010, vr: 'US', value: 512 },
    { tag: 0x00189219, vr: 'SS', value: -7 },
    { tag: 0x00209057, vr: 'UL', value: 4_000_000_000 },
    { tag: 0x00189222, vr: 'SL', value: [-1, 2] },
    { tag: 0x00189223, vr: 'FL', value: 1.5 },
    { tag: 0x00189224, vr: 'FD', value: [Math.PI, -0.125] },
    { tag: 0x00189228, vr: 'UV', value: u64(2n ** 53n + 1n, false) },
    { tag: 0x00189229, vr: 'SV', value: u64(-5n, true) },
    { tag: 0x00280009, vr: 'AT', value: [0x00185065, 0x00209113] },
  ]);

  it('gives strings as trimmed strings, split at "\\" except for LT, with leading spaces kept only for LT', () => {
    expect(json['00080008']).toEqual({ vr: 'CS', Value: ['ORIGINAL', 'PRIMARY', 'AXIAL'] });
    expect(json['00100020']).toEqual({ vr: 'LO', Value: ['ID 7'] });
    expect(json['0020000D']).toEqual({ vr: 'UI', Value: ['1.2.3'] });
    expect(json['00204000']).toEqual({ vr: 'LT', Value: ['  indented \\ note'] });
  });

  it('leaves out Value for an empty element and gives empty values in a list as null', () => {
    expect(json['00080012']).toEqual({ vr: 'DA' });
    expect(json['00280034']).toEqual({ vr: 'IS', Value: [1, null, 3] });
  });

  it('gives DS and IS as JSON numbers, an invalid one as its string', () => {
    expect(json['00280030']).toEqual({ vr: 'DS', Value: [0.5, -22.5] });
    expect(json['00181050']).toEqual({ vr: 'DS', Value: [1.25] });
    expect(json['00180050']).toEqual({ vr: 'DS', Value: ['abc'] });
    expect(json['00200013']).toEqual({ vr: 'IS', Value: [42] });
  });

  it('gives binary numbers as numbers, UV/SV beyond 2^53 as strings, AT as "GGGGEEEE"', () => {
    expect(json['00280010']).toEqual({ vr: 'US', Value: [512] });
    expect(json['00189219']).toEqual({ vr: 'SS', Value: [-7] });
    expect(json['00209057']).toEqual({ vr: 'UL', Value: [4_000_000_000] });
    expect(json['00189222']).toEqual({ vr: 'SL', Value: [-1, 2] });
    expect(json['00189223']).toEqual({ vr: 'FL', Value: [1.5] });
    expect(json['00189224']).toEqual({ vr: 'FD', Value: [Math.PI, -0.125] });
    expect(json['00189228']).toEqual({ vr: 'UV', Value: ['9007199254740993'] });
    expect(json['00189229']).toEqual({ vr: 'SV', Value: [-5] });
    expect(json['00280009']).toEqual({ vr: 'AT', Value: ['00185065', '00209113'] });
  });

  it('leaves out the file meta group and group lengths, and inserts keys in ascending tag order', () => {
    const withGroupLength = jsonOf([...patientElements(), { tag: 0x00100000, vr: 'UL', value: 40 }]);
    for (const doc of [json, withGroupLength]) {
      const keys = Object.keys(doc);
      expect(keys.length).toBeGreaterThan(5);
      expect(keys.filter((k) => k.startsWith('0002') || k.endsWith('0000'))).toEqual([]);
      expect(keys).toEqual([...keys].sort());
      for (const key of keys) expect(key).toMatch(/^[0-9A-F]{8}$/);
    }
  });
});

describe('person names and character sets', () => {
  it('splits Latin-1 (ISO_IR 100) names into component groups and replaces the charset with ISO_IR 192', () => {
    const json = jsonOf([
      { tag: 0x00080005, vr: 'CS', value: 'ISO_IR 100' },
      { tag: 0x00100010, vr: 'PN', value: latin1('Müller^Jürgen=MÜLLER^JÜRGEN=Mueller^Juergen') },
      { tag: 0x00081070, vr: 'PN', value: latin1('Öberg^Åsa\\=Ideo') },
      { tag: 0x00081030, vr: 'LO', value: latin1('Schädel') },
    ]);
    expect(json['00080005']).toEqual({ vr: 'CS', Value: ['ISO_IR 192'] });
    expect(json['00100010']).toEqual({
      vr: 'PN',
      Value: [{ Alphabetic: 'Müller^Jürgen', Ideographic: 'MÜLLER^JÜRGEN', Phonetic: 'Mueller^Juergen' }],
    });
    expect(json['00081070']).toEqual({ vr: 'PN', Value: [{ Alphabetic: 'Öberg^Åsa' }, { Ideographic: 'Ideo' }] });
    expect(json['00081030']).toEqual({ vr: 'LO', Value: ['Schädel'] });
  });

  it('decodes ISO 2022 IR 87 Japanese names (PS3.5 H.3.1) into three component groups', () => {
    const ESC = 0x1b;
    const kanji = (text: string): number[] => [ESC, 0x24, 0x42, ...ascii(text), ESC, 0x28, 0x42];
    const name = new Uint8Array([
      ...ascii('Yamada^Tarou='),
      ...kanji(';3ED'),
      0x5e,
      ...kanji('B@O:'),
      0x3d,
      ...kanji('$d$^$@'),
      0x5e,
      ...kanji('$?$m$&'),
    ]);
    const json = jsonOf([
      { tag: 0x00080005, vr: 'CS', value: '\\ISO 2022 IR 87' },
      { tag: 0x00100010, vr: 'PN', value: name },
    ]);
    expect(json['00100010']).toEqual({
      vr: 'PN',
      Value: [{ Alphabetic: 'Yamada^Tarou', Ideographic: '山田^太郎', Phonetic: 'やまだ^たろう' }],
    });
    expect(json['00080005']).toEqual({ vr: 'CS', Value: ['ISO_IR 192'] });
  });
});

describe('sequences', () => {
  it('encodes items recursively, an empty item as {} and an empty sequence without Value', () => {
    const json = jsonOf([
      { tag: 0x00081140, vr: 'SQ', value: { items: [item('1.1'), []] } },
      {
        tag: 0x00081115,
        vr: 'SQ',
        value: {
          items: [[{ tag: 0x00081140, vr: 'SQ', value: { items: [item('2.1')], undefinedLength: true } }]],
          undefinedLength: true,
        },
      },
      { tag: 0x00081250, vr: 'SQ', value: { items: [] } },
    ]);
    expect(json['00081140']).toEqual({
      vr: 'SQ',
      Value: [
        {
          '00081150': { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.2'] },
          '00081155': { vr: 'UI', Value: ['1.1'] },
        },
        {},
      ],
    });
    const nested = (json['00081115']!.Value![0] as DicomJsonDataset)['00081140']!;
    expect(nested.Value).toEqual([
      {
        '00081150': { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.2'] },
        '00081155': { vr: 'UI', Value: ['2.1'] },
      },
    ]);
    expect(json['00081250']).toEqual({ vr: 'SQ' });
  });

  it(`stops expanding below ${MAX_SEQUENCE_DEPTH} levels, like the attributes JSON`, () => {
    let element: FixtureElement = { tag: 0x00081155, vr: 'UI', value: 'deepest' };
    for (let level = 0; level < MAX_SEQUENCE_DEPTH + 6; level++) {
      element = { tag: 0x00081115, vr: 'SQ', value: { items: [[element]] } };
    }
    let current: DicomJsonAttribute = jsonOf([element])['00081115']!;
    let depth = 0;
    while (current.Value) {
      current = (current.Value[0] as DicomJsonDataset)['00081115']!;
      depth++;
    }
    expect(depth).toBe(MAX_SEQUENCE_DEPTH);
    expect(current).toEqual({ vr: 'SQ' });
  });
});

describe('binary values and bulk data', () => {
  const icon = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
  const elements: FixtureElement[] = [
    ...patientElements(),
    ...imageElements({ rows: 2, columns: 2, pixels: [10, 20, 300, 40_000] }),
    { tag: 0x00090010, vr: 'LO', value: 'ACME 1.0' },
    { tag: 0x00091001, vr: 'UN', value: new Uint8Array(6) },
    { tag: 0x00420011, vr: 'OB', value: new Uint8Array(16).fill(0xab) },
    { tag: 0x00880200, vr: 'SQ', value: { items: [[{ tag: 0x7fe00010, vr: 'OB', value: icon }]] } },
  ];
  const parsed = parseDicom(buildDicom(elements));
  const pixelBytes = new Uint8Array(new Uint16Array([10, 20, 300, 40_000]).buffer);

  it('inlines binary values up to the threshold as base64 and refers to longer ones', () => {
    const small = toDicomJson(parsed, { bulkDataThreshold: 16 });
    expect(small['00420011']).toEqual({
      vr: 'OB',
      InlineBinary: Buffer.from(new Uint8Array(16).fill(0xab)).toString('base64'),
    });
    expect(small['00091001']).toEqual({ vr: 'UN', InlineBinary: 'AAAAAAAA' });
    const large = toDicomJson(parsed, { bulkDataThreshold: 15 });
    expect(large['00420011']).toEqual({ vr: 'OB', BulkDataURI: 'bulkdata/00420011' });
    // The default threshold is 1 KiB.
    expect(toDicomJson(parsed)['00420011']).toHaveProperty('InlineBinary');
    expect(toDicomJson(parseDicom(buildDicom([{ tag: 0x00420011, vr: 'OB', value: new Uint8Array(1026) }])))).toEqual(
      expect.objectContaining({ '00420011': { vr: 'OB', BulkDataURI: 'bulkdata/00420011' } }),
    );
  });

  it('always refers to Pixel Data, at top level and in items, through the caller-built URI', () => {
    const json = toDicomJson(parsed, {
      bulkDataThreshold: 1_000_000,
      bulkDataUri: (path) => `https://dicom.example/studies/1/series/2/instances/3/bulk/${path.join('/')}`,
    });
    expect(json['7FE00010']).toEqual({
      vr: 'OW',
      BulkDataURI: 'https://dicom.example/studies/1/series/2/instances/3/bulk/7FE00010',
    });
    expect(json['00880200']!.Value).toEqual([
      {
        '7FE00010': {
          vr: 'OB',
          BulkDataURI: 'https://dicom.example/studies/1/series/2/instances/3/bulk/00880200/0/7FE00010',
        },
      },
    ]);
    expect(json['00090010']).toEqual({ vr: 'LO', Value: ['ACME 1.0'] });
  });

  it('hands out exactly the bytes of a bulk value, at top level and inside a sequence item', () => {
    expect(bulkDataBytes(parsed, ['7FE00010'])).toEqual(pixelBytes);
    expect(bulkDataBytes(parsed, ['00880200', 0, '7FE00010'])).toEqual(icon);
    expect(bulkDataBytes(parsed, ['00420011'])).toEqual(new Uint8Array(16).fill(0xab));
  });

  it('has no bulk data for text, absent tags, missing items, the meta group or a malformed path', () => {
    expect(bulkDataBytes(parsed, ['00100010'])).toBeUndefined();
    expect(bulkDataBytes(parsed, ['00420012'])).toBeUndefined();
    expect(bulkDataBytes(parsed, ['00880200', 1, '7FE00010'])).toBeUndefined();
    expect(bulkDataBytes(parsed, ['00880200'])).toBeUndefined();
    expect(bulkDataBytes(parsed, ['00020001'])).toBeUndefined();
    expect(bulkDataBytes(parsed, ['00880200', -1, '7FE00010'])).toBeUndefined();
    expect(bulkDataBytes(parsed, ['00880200', 0])).toBeUndefined();
  });

  it('gives encapsulated Pixel Data the VR OB and its fragments concatenated as bulk data', () => {
    const fragments = [[new Uint8Array([1, 2, 3, 4]), new Uint8Array([5, 6])], [new Uint8Array([7, 8, 9, 10])]];
    const encapsulated = parseDicom(
      buildEncapsulatedDicom(
        [...patientElements(), ...imageElements({ rows: 1, columns: 2, pixels: [0, 0] })],
        fragments,
        { transferSyntax: TS.rle },
      ),
    );
    expect(toDicomJson(encapsulated)['7FE00010']).toEqual({ vr: 'OB', BulkDataURI: 'bulkdata/7FE00010' });
    expect(bulkDataBytes(encapsulated, ['7FE00010'])).toEqual(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]));
  });

  it('keeps the header of a file whose Pixel Data is cut short', () => {
    const full = buildDicom([
      ...patientElements({ name: 'CUT^SHORT' }),
      ...imageElements({ rows: 64, columns: 64, pixels: new Array(4096).fill(7) }),
    ]);
    const parsed = parseDicom(full.subarray(0, full.length - 1000));
    expect(parsed.truncatedPixelData).toBe(true);
    const json = toDicomJson(parsed);
    expect(json['00100010']).toEqual({ vr: 'PN', Value: [{ Alphabetic: 'CUT^SHORT' }] });
    expect(json['00280010']).toEqual({ vr: 'US', Value: [64] });
    expect(json['7FE00010']).toEqual({ vr: 'OW', BulkDataURI: 'bulkdata/7FE00010' });
    // The bulk data is what the file holds of the value.
    expect(bulkDataBytes(parsed, ['7FE00010'])?.length).toBe(8192 - 1000);
  });
});

describe('parseBulkDataPath', () => {
  it('reads back the paths of the BulkDataURIs the encoder writes, and they lead to bytes', () => {
    const parsed = parseDicom(
      buildDicom([
        ...imageElements({ rows: 1, columns: 2, pixels: [1, 2] }),
        {
          tag: 0x00540016,
          vr: 'SQ',
          value: {
            items: [
              [],
              [
                {
                  tag: 0x00540300,
                  vr: 'SQ',
                  value: { items: [[{ tag: 0x00420011, vr: 'OB', value: new Uint8Array(4) }]] },
                },
              ],
            ],
          },
        },
      ]),
    );
    const written: BulkDataPath[] = [];
    const json = toDicomJson(parsed, {
      bulkDataThreshold: 0,
      bulkDataUri: (path) => {
        written.push(path);
        return `bulkdata/${path.join('/')}`;
      },
    });
    expect(written).toEqual([['00540016', 1, '00540300', 0, '00420011'], ['7FE00010']]);
    const uris = [...stringifyDicomJson(json).matchAll(/"BulkDataURI":"bulkdata\/([^"]+)"/g)].map((m) => m[1]!);
    expect(uris).toEqual(['00540016/1/00540300/0/00420011', '7FE00010']);
    for (const [i, uri] of uris.entries()) {
      const path = parseBulkDataPath(uri);
      expect(path).toEqual(written[i]);
      expect(bulkDataBytes(parsed, path!)?.length).toBe(4);
    }
    expect(parseBulkDataPath('7fe00010')).toEqual(['7FE00010']);
  });

  it.each([
    '',
    '..',
    'zz',
    '7FE00010/x',
    '7FE00010/',
    '/7FE00010',
    '00880200/0',
    '00880200/-1/7FE00010',
    '00880200/01/7FE00010',
    '00880200/1.5/7FE00010',
    '7FE0001',
    '7FE00010/0/../x',
    '%37FE00010',
  ])('rejects %j', (text) => {
    expect(parseBulkDataPath(text)).toBeUndefined();
  });
});

describe('transfer syntaxes', () => {
  const elementsFor = (littleEndian: boolean): FixtureElement[] => [
    ...patientElements({ name: 'SAME^ANSWER' }),
    ...imageElements(
      { rows: 2, columns: 2, pixels: [-5, 0, 300, -1000], signed: true, rescale: { slope: 1, intercept: -1024 } },
      littleEndian,
    ),
    { tag: 0x00280106, vr: 'SS', value: -1000 },
    { tag: 0x00189089, vr: 'FD', value: [2.5, -0.5, 0] },
    { tag: 0x00700253, vr: 'FL', value: 0.25 },
    { tag: 0x00209057, vr: 'UL', value: 70_000 },
    { tag: 0x00280009, vr: 'AT', value: [0x00185065, 0x00209113] },
    { tag: 0x00283010, vr: 'SQ', value: { items: [[{ tag: 0x00283003, vr: 'LO', value: 'VOI' }], []] } },
  ];

  it('gives the same JSON and bulk bytes for implicit VR little endian and explicit VR big endian', () => {
    const implicit = parseDicom(buildDicom(elementsFor(true), { transferSyntax: TS.implicitLE }));
    const bigEndian = parseDicom(buildDicom(elementsFor(false), { transferSyntax: TS.explicitBE }));
    const explicit = parseDicom(buildDicom(elementsFor(true), { transferSyntax: TS.explicitLE }));
    const json = toDicomJson(implicit, { bulkDataThreshold: 0 });
    expect(json['00280106']).toEqual({ vr: 'SS', Value: [-1000] });
    expect(json['7FE00010']).toEqual({ vr: 'OW', BulkDataURI: 'bulkdata/7FE00010' });
    expect(toDicomJson(bigEndian, { bulkDataThreshold: 0 })).toEqual(json);
    expect(toDicomJson(explicit, { bulkDataThreshold: 0 })).toEqual(json);
    const pixels = new Uint8Array(new Int16Array([-5, 0, 300, -1000]).buffer);
    expect(bulkDataBytes(implicit, ['7FE00010'])).toEqual(pixels);
    expect(bulkDataBytes(bigEndian, ['7FE00010'])).toEqual(pixels);
  });

  it('gives inline OW values of a big endian file in little endian order', () => {
    const ow = (littleEndian: boolean): Uint8Array => {
      const bytes = new Uint8Array(4);
      new DataView(bytes.buffer).setUint16(0, 0x0102, littleEndian);
      new DataView(bytes.buffer).setUint16(2, 0x0304, littleEndian);
      return bytes;
    };
    const le = jsonOf([{ tag: 0x00283006, vr: 'OW', value: ow(true) }]);
    const be = jsonOf([{ tag: 0x00283006, vr: 'OW', value: ow(false) }], TS.explicitBE);
    expect(le['00283006']).toEqual({
      vr: 'OW',
      InlineBinary: Buffer.from([0x02, 0x01, 0x04, 0x03]).toString('base64'),
    });
    expect(be).toEqual(le);
  });

  it('reads private data elements of an implicit VR file as UN, their creators as LO', () => {
    const json = jsonOf(
      [
        { tag: 0x00090010, vr: 'LO', value: 'ACME 1.0' },
        { tag: 0x00091001, vr: 'LO', value: 'secret' },
      ],
      TS.implicitLE,
    );
    expect(json['00090010']).toEqual({ vr: 'LO', Value: ['ACME 1.0'] });
    expect(json['00091001']).toEqual({ vr: 'UN', InlineBinary: Buffer.from('secret').toString('base64') });
  });
});

describe('pickAttributes and stringifyDicomJson', () => {
  const json = jsonOf([
    ...patientElements(),
    { tag: 0x52009229, vr: 'SQ', value: { items: [[{ tag: 0x00280030, vr: 'DS', value: '1\\1' }]] } },
  ]);

  it('picks the named attributes in tag order and ignores absent or inherited names', () => {
    const picked = pickAttributes(json, ['00100020', '00080060', '00100010', '00101010', 'constructor', '00100020']);
    expect(Object.keys(picked)).toEqual(['00080060', '00100010', '00100020']);
    expect(picked['00100020']).toBe(json['00100020']);
  });

  it('writes keys in ascending order where JSON.stringify puts all-digit tags first', () => {
    const text = stringifyDicomJson([json]);
    expect(JSON.parse(text)).toEqual([json]);
    expect(text.indexOf('"00080018"')).toBeLessThan(text.indexOf('"52009229"'));
    expect(JSON.stringify(json).indexOf('"52009229"')).toBeLessThan(JSON.stringify(json).indexOf('"00080018"'));
  });
});

const samplesDir = join(import.meta.dirname, '../../../shared/dicom-samples');
const samples = existsSync(samplesDir) ? readdirSync(samplesDir).filter((f) => f.endsWith('.dcm')) : [];

describe.skipIf(samples.length === 0)('the sample corpus', () => {
  it.each(samples)('%s: encodes, serialises and agrees with the attributes JSON on SOPInstanceUID', (file) => {
    let parsed;
    try {
      parsed = parseDicom(new Uint8Array(readFileSync(join(samplesDir, file))));
    } catch (error) {
      // Files parseDicom rejects (empty, not DICOM) are the upload path's business, not the encoder's.
      expect(error).toBeInstanceOf(NotDicom);
      return;
    }
    const json = toDicomJson(parsed);
    expect(stringifyDicomJson(json).length).toBeGreaterThan(2);
    expect(JSON.stringify(json).length).toBeGreaterThan(2);
    const fromAttributes = buildAttributes(parsed).attributes['0008,0018']?.value;
    expect(json['00080018']?.Value?.[0]).toBe(fromAttributes ?? undefined);
    expect(Object.keys(json).some((tag) => tag.startsWith('0002'))).toBe(false);
  });
});
