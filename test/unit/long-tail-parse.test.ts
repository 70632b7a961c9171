// Issue 22's long tail in parsing: datasets whose transfer syntax must be inferred from their own first bytes
// (no file meta, or a meta group without a Transfer Syntax UID), and elements whose VR bytes name no VR.
import { describe, expect, it } from 'vitest';
import { buildAttributes } from '../../lambdas/dicom/attributes.js';
import '../../lambdas/dicom/codecs/index.js';
import { StoredFrameReader } from '../../lambdas/dicom/frame-source.js';
import { NotDicom } from '../../lambdas/dicom/errors.js';
import { parseDicom } from '../../lambdas/dicom/parse.js';
import { decodeFrameAsync } from '../../lambdas/dicom/pixels.js';
import { processDicom } from '../../lambdas/dicom/process.js';
import {
  TS,
  buildDicom,
  buildDicomWithoutTransferSyntaxUid,
  encodeDataset,
  encodeElementWithRawVr,
  encodeFlatBlockJpeg,
  imageElements,
  implicitEncapsulatedPixelDataElement,
  withoutMetaGroupLength,
  patientElements,
  type FixtureElement,
  pixelModuleElements,
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

/** dicom-parser's and the byte readers' own words: never in an answer. */
const LIBRARY_WORDS = /dicomParser|byteArray|ByteStream|readUint|readFixedString|parameter|maxP|position|buffer/i;

/** Where each item tag (FFFE,E000) of an explicit or implicit little endian file starts. */
function itemTagOffsets(bytes: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i + 4 <= bytes.length; i++)
    if (bytes[i] === 0xfe && bytes[i + 1] === 0xff && bytes[i + 2] === 0x00 && bytes[i + 3] === 0xe0) out.push(i);
  return out;
}

// ---------------------------------------------------------------------------------------------
// 4. A dataset starting with a group below 0008 (not 0002) right after a well-formed meta group (pydicom's
// nested_priv_SQ.dcm and meta_missing_tsyntax.dcm). PS3.5 7.1 reserves those groups, but pydicom and dcmtk read them.

describe('a dataset that starts with a group below 0008', () => {
  const groupOne = (): FixtureElement[] => [
    { tag: 0x00010001, vr: 'LO', value: 'GROUP ONE' },
    { tag: 0x00030010, vr: 'LO', value: 'GROUP THREE' },
    ...imageFile(true),
  ];

  // Before the fix each was refused "the file ends after its file meta header: it holds no dataset": dicom-parser ends
  // the meta group only at a tag above (0002,FFFF), so it read the whole dataset into the meta group.
  it.each([
    ['implicit VR, with a meta group length', TS.implicitLE, true],
    ['implicit VR, without a meta group length', TS.implicitLE, false],
    ['explicit VR, with a meta group length', TS.explicitLE, true],
    ['explicit VR, without a meta group length', TS.explicitLE, false],
  ] as const)('reads it (%s): meta group, the low groups and the image', async (_name, transferSyntax, groupLength) => {
    const built = buildDicom(groupOne(), { transferSyntax });
    const file = groupLength ? built : withoutMetaGroupLength(built);
    const parsed = parseDicom(file);
    expect(parsed).toMatchObject({ hasMeta: true, transferSyntaxUid: transferSyntax, truncatedPixelData: false });
    const { attributes } = buildAttributes(parsed);
    // No dictionary knows these groups: in implicit VR their values are bytes (UN), as pydicom shows them.
    if (transferSyntax === TS.implicitLE) {
      expect(attributes['0001,0001']).toMatchObject({ vr: 'UN', length: 10 });
      expect(attributes['0003,0010']).toMatchObject({ name: 'Private Creator', value: 'GROUP THREE' });
    } else {
      expect(attributes['0001,0001']!.value).toBe('GROUP ONE');
      expect(attributes['0003,0010']!.value).toBe('GROUP THREE');
    }
    expect(Object.keys(attributes).filter((tag) => tag.startsWith('0002'))).toEqual(
      groupLength
        ? ['0002,0000', '0002,0001', '0002,0002', '0002,0003', '0002,0010', '0002,0012']
        : ['0002,0001', '0002,0002', '0002,0003', '0002,0010', '0002,0012'],
    );
    expectImageAttributes(attributes);
    const outcome = await processDicom(file);
    expect(outcome.result.image).toMatchObject({ state: 'RENDERED' });
  });

  // meta_missing_tsyntax.dcm: the same, and the meta group names no transfer syntax (inferred from the dataset).
  it('reads it when the meta group has no Transfer Syntax UID either', () => {
    const file = buildDicomWithoutTransferSyntaxUid(groupOne(), { transferSyntax: TS.implicitLE });
    const parsed = parseDicom(file);
    expect(parsed.transferSyntaxUid).toBe(TS.implicitLE);
    const { attributes } = buildAttributes(parsed);
    expect(attributes['0001,0001']).toMatchObject({ vr: 'UN', length: 10 });
    expectImageAttributes(attributes);
  });
});

// ---------------------------------------------------------------------------------------------
// 5. A file cut short anywhere (pydicom's rtplan_truncated.dcm is cut inside a sequence): what was read before the cut
// is kept and the file is flagged truncated, with a note on the element the file ends in, as for a cut in Pixel Data.

describe('a file cut short outside its Pixel Data', () => {
  const item = (n: number): FixtureElement[] => [
    { tag: 0x300a00c0, vr: 'IS', value: String(n) },
    { tag: 0x300a00c2, vr: 'LO', value: `BEAM ${n} WITH A LONGER NAME` },
  ];
  const plan = (undefinedLength: boolean): FixtureElement[] => [
    ...patientElements({ modality: 'RTPLAN', description: 'CUT PLAN' }),
    { tag: 0x300a0002, vr: 'SH', value: 'PLAN' },
    { tag: 0x300a00b0, vr: 'SQ', value: { items: [item(1), item(2), item(3)], undefinedLength } },
    { tag: 0x300c0002, vr: 'SQ', value: { items: [[{ tag: 0x00081155, vr: 'UI', value: '1.2.3' }]] } },
  ];

  // Before the fix every one was refused 400: "the file ends inside an element: it is cut short..." (or, for implicit
  // VR, "the dataset cannot be read: its element structure is malformed", dicom-parser's 'maxPosition' failure).
  it.each([
    ['explicit VR, defined lengths', TS.explicitLE, false],
    ['explicit VR, undefined lengths', TS.explicitLE, true],
    ['implicit VR, defined lengths', TS.implicitLE, false],
    ['implicit VR, undefined lengths', TS.implicitLE, true],
  ] as const)(
    'keeps everything before a cut inside a sequence (%s)',
    async (_name, transferSyntax, undefinedLength) => {
      const file = buildDicom(plan(undefinedLength), { transferSyntax });
      const secondItem = itemTagOffsets(file)[1]!;
      const cut = file.subarray(0, secondItem + 20); // inside item 2's first element
      const parsed = parseDicom(cut);
      expect(parsed).toMatchObject({ truncated: true, truncatedPixelData: false, transferSyntaxUid: transferSyntax });
      const { attributes } = buildAttributes(parsed);
      expect(attributes['0010,0010']!.value).toBe('DOE^JOHN');
      expect(attributes['0008,0060']!.value).toBe('RTPLAN');
      expect(attributes['300A,0002']!.value).toBe('PLAN');
      const beams = attributes['300A,00B0']!;
      expect(beams.note).toMatch(/^truncated: the file ends inside item 2 of this sequence/);
      const items = beams.value as Array<Record<string, { value: unknown }>>;
      expect(items[0]!['300A,00C2']!.value).toBe('BEAM 1 WITH A LONGER NAME');
      expect(attributes['300C,0002']).toBeUndefined(); // after the cut
      const outcome = await processDicom(cut);
      expect(outcome.result.image).toMatchObject({ state: 'NO_IMAGE' });
    },
  );

  it('accepts every cut after the identifying elements, refuses every cut before them, in our own words', () => {
    for (const transferSyntax of [TS.explicitLE, TS.implicitLE]) {
      const file = buildDicom(plan(false), { transferSyntax });
      // The SOP Instance UID (0008,0018) is the second element of the dataset; it ends before Study Date (0008,0020).
      const sopInstanceEnd = file.findIndex(
        (_b, i) => file[i] === 0x08 && file[i + 1] === 0 && file[i + 2] === 0x20 && file[i + 3] === 0,
      );
      for (let at = 132; at < file.length; at++) {
        const cut = file.subarray(0, at);
        let parsed;
        try {
          parsed = parseDicom(cut);
        } catch (error) {
          expect(error).toBeInstanceOf(NotDicom);
          expect((error as Error).message).not.toMatch(LIBRARY_WORDS);
          // Refused only while the identifying elements (and 3 standard elements) are not whole.
          expect(at).toBeLessThan(sopInstanceEnd + 16);
          continue;
        }
        // A cut between two top-level elements leaves a well-formed shorter file: nothing to flag.
        if (!parsed.truncated) continue;
        expect(at).toBeGreaterThanOrEqual(sopInstanceEnd);
        expect(parsed.dataSet.string('x00080018')).toBe('1.2.826.0.1.3680043.8.498.1');
        const notes = JSON.stringify(buildAttributes(parsed).attributes);
        expect(notes).not.toMatch(LIBRARY_WORDS);
      }
    }
  });

  it('still refuses a meta group followed by garbage, and one with no dataset, in our own words', () => {
    const head = buildDicom([], { transferSyntax: TS.explicitLE });
    const metaEnd = 144 + new DataView(head.buffer).getUint32(140, true);
    expect(() => parseDicom(head.subarray(0, metaEnd))).toThrow(/no dataset/);
    let seed = 7;
    const random = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) & 0xff;
    for (let n = 0; n < 50; n++) {
      const garbage = Uint8Array.from({ length: 300 }, random);
      const file = new Uint8Array([...head.subarray(0, metaEnd), ...garbage]);
      // Before the fix some of these were accepted as "cut inside Pixel Data" (a last garbage tag in 0028..7FDF).
      expect(() => parseDicom(file)).toThrow(NotDicom);
      try {
        parseDicom(file);
      } catch (error) {
        expect((error as Error).message).not.toMatch(LIBRARY_WORDS);
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------
// 6. An item whose length runs past the end of its sequence or of the file (pydicom's DICOMDIR-nooffset: the last
// directory record says 248 bytes, 224 are left). dcmtk reads the item up to the end silently; we do, with a note.

describe('an item longer than its sequence', () => {
  const record = (n: number): FixtureElement[] => [
    { tag: 0x00041430, vr: 'CS', value: 'PATIENT' },
    { tag: 0x00100010, vr: 'PN', value: `PATIENT^${n}` },
  ];
  /** A directory whose records are in (0004,1220), followed by the SOP UIDs; or, `last`, in (0040,A730) at the end. */
  const directory = (last: boolean): FixtureElement[] => [
    { tag: 0x00041130, vr: 'CS', value: 'FILESET' },
    { tag: 0x00041200, vr: 'UL', value: 0 },
    { tag: 0x00041202, vr: 'UL', value: 0 },
    { tag: 0x00041212, vr: 'US', value: 0 },
    { tag: last ? 0x0040a730 : 0x00041220, vr: 'SQ', value: { items: [record(1), record(2)] } },
  ];

  function withLongLastItem(last: boolean, transferSyntax: string): Uint8Array {
    const file = buildDicom(directory(last), {
      transferSyntax,
      sopClassUid: '1.2.840.10008.1.3.10',
    }).slice();
    const lastItem = itemTagOffsets(file).at(-1)!;
    const view = new DataView(file.buffer);
    view.setUint32(lastItem + 4, view.getUint32(lastItem + 4, true) + 24, true);
    return file;
  }

  // Before the fix both were refused 400 "the dataset cannot be read: its element structure is malformed"
  // (dicom-parser: "invalid value for parameter 'maxPosition'").
  it.each([
    ['the file', true, TS.explicitLE],
    ['the file', true, TS.implicitLE],
    ['its sequence', false, TS.explicitLE],
    ['its sequence', false, TS.implicitLE],
  ] as const)('reads the last item up to the end of %s, with a note', (where, last, transferSyntax) => {
    const parsed = parseDicom(withLongLastItem(last, transferSyntax));
    expect(parsed.truncated).toBeUndefined();
    const { attributes } = buildAttributes(parsed);
    const records = attributes[last ? '0040,A730' : '0004,1220']!;
    // Each item holds (0004,1430) CS "PATIENT" (8 + 8 bytes) and (0010,0010) PN "PATIENT^n" (8 + 10 bytes).
    expect(records.note).toBe(`item 2 declares ${34 + 24} bytes; 34 remain in ${where}: read up to its end`);
    const items = records.value as Array<Record<string, { value: unknown }>>;
    expect(items.map((i) => i['0010,0010']!.value)).toEqual(['PATIENT^1', 'PATIENT^2']);
    // (The data dictionary lacks the directory elements: in implicit VR (0004,1130) is UN bytes.)
    if (transferSyntax === TS.explicitLE) expect(attributes['0004,1130']!.value).toBe('FILESET');
    // What follows the sequence is still read.
    if (!last) expect(attributes['0008,0018']!.value).toBe('1.2.826.0.1.3680043.8.498.1');
    expect(JSON.stringify(attributes)).not.toMatch(LIBRARY_WORDS);
  });
});

// ---------------------------------------------------------------------------------------------
// 7. The meta group says one VR encoding and the dataset is written in the other (pydicom's SC_rgb_jpeg.dcm: JPEG
// Baseline declared, the dataset in implicit VR). pydicom reads the bytes as written; so do we.

describe('a dataset written in another VR encoding than its meta group says', () => {
  // Before the fix: the dataset was read as explicit VR, giving 2 garbage elements, and accepted as "truncated pixel
  // data" (no Modality, no image size, SOP Instance UID only from the meta group; /png 422).
  it('reads an implicit VR dataset declared JPEG Baseline, and renders its fragments', async () => {
    const jpeg = encodeFlatBlockJpeg([[[100], [200]]]);
    const elements: FixtureElement[] = [
      ...patientElements({ modality: 'OT', description: 'WRONG META' }),
      ...pixelModuleElements({ rows: 8, columns: 16 }),
    ];
    const head = buildDicom(elements, { transferSyntax: TS.implicitLE, declaredTransferSyntax: TS.jpegBaseline });
    const file = new Uint8Array([...head, ...implicitEncapsulatedPixelDataElement([[jpeg]])]);
    const parsed = parseDicom(file);
    expect(parsed).toMatchObject({ transferSyntaxUid: TS.jpegBaseline, truncatedPixelData: false });
    expect(parsed.truncated).toBeUndefined();
    const { attributes } = buildAttributes(parsed);
    expect(attributes['0008,0060']!.value).toBe('OT');
    expect(attributes['0028,0010']).toMatchObject({ vr: 'US', value: 8 });
    expect(attributes['0028,0011']).toMatchObject({ vr: 'US', value: 16 });
    expect(attributes['0008,0018']!.value).toBe('1.2.826.0.1.3680043.8.498.1');
    expect(parsed.dataSet.elements.x7fe00010!.fragments).toHaveLength(1);
    const outcome = await processDicom(file);
    expect(outcome.result.image).toMatchObject({ state: 'RENDERED', width: 16, height: 8 });
  });

  it.each([
    ['explicit VR little endian declared, implicit VR written', TS.implicitLE, TS.explicitLE],
    ['implicit VR declared, explicit VR little endian written', TS.explicitLE, TS.implicitLE],
  ] as const)('reads the bytes as written: %s', async (_name, written, declared) => {
    const file = buildDicom(imageFile(true), { transferSyntax: written, declaredTransferSyntax: declared });
    const parsed = parseDicom(file);
    expect(parsed.transferSyntaxUid).toBe(declared);
    expectImageAttributes(buildAttributes(parsed).attributes);
    expect(parsed.truncatedPixelData).toBe(false);
  });
});
