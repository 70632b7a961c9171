// Parsing: which bytes are DICOM, in every encoding the fixtures can build, and which are refused.
import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { NotDicom } from '../../lambdas/dicom/errors.js';
import { parseDicom } from '../../lambdas/dicom/parse.js';
import { buildDicom, encodeDataset, patientElements, sampleCt, TS } from '../fixtures/dicom-builder.js';

function patientName(bytes: Uint8Array): string | undefined {
  return parseDicom(bytes).dataSet.string('x00100010');
}

describe('parseDicom', () => {
  it.each([TS.implicitLE, TS.explicitLE, TS.explicitBE])('reads a Part 10 file in %s', (ts) => {
    const parsed = parseDicom(sampleCt({ transferSyntax: ts }));
    expect(parsed.transferSyntaxUid).toBe(ts);
    expect(parsed.hasMeta).toBe(true);
    expect(patientName(sampleCt({ transferSyntax: ts }))).toBe('DOE^JOHN');
    expect(parsed.dataSet.uint16('x00280010')).toBe(16);
  });

  it('reads a deflated explicit little endian file', () => {
    const dataset = encodeDataset(patientElements({ name: 'DEFLATE^ME' }), TS.explicitLE);
    const meta = buildDicom([], { transferSyntax: TS.deflatedLE });
    // buildDicom put SOP UIDs in the dataset: keep its meta part and replace the dataset by a deflated one.
    const metaEnd =
      meta.length -
      encodeDataset(
        [
          { tag: 0x00080016, vr: 'UI', value: '1.2.840.10008.5.1.4.1.1.7' },
          { tag: 0x00080018, vr: 'UI', value: '1.2.826.0.1.3680043.8.498.1' },
        ],
        TS.explicitLE,
      ).length;
    const deflated = deflateRawSync(dataset);
    const file = new Uint8Array(metaEnd + deflated.length);
    file.set(meta.subarray(0, metaEnd));
    file.set(deflated, metaEnd);
    const parsed = parseDicom(file);
    expect(parsed.transferSyntaxUid).toBe(TS.deflatedLE);
    expect(parsed.dataSet.string('x00100010')).toBe('DEFLATE^ME');
  });

  it.each([TS.implicitLE, TS.explicitLE])('accepts a bare dataset without preamble and meta (%s)', (ts) => {
    const parsed = parseDicom(sampleCt({ noMeta: true, transferSyntax: ts }));
    expect(parsed.hasMeta).toBe(false);
    expect(parsed.transferSyntaxUid).toBe(ts);
    expect(parsed.dataSet.string('x00100010')).toBe('DOE^JOHN');
  });

  it.each([
    ['an empty file', new Uint8Array(0), /empty/],
    [
      'a PDF',
      new TextEncoder().encode('%PDF-1.4\n%âãÏÓ\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n'),
      /DICM/,
    ],
    ['text', new TextEncoder().encode('hello world, this is not a medical image at all'.repeat(20)), /DICM/],
    ['zeros', new Uint8Array(2048), /DICM/],
  ])('refuses %s with NotDicom', (_name, bytes, reason) => {
    expect(() => parseDicom(bytes)).toThrow(NotDicom);
    expect(() => parseDicom(bytes)).toThrow(reason);
  });

  it('refuses a file cut inside its header, and accepts one cut only inside the pixel data', () => {
    const full = sampleCt({ rows: 64, columns: 64 });
    expect(() => parseDicom(full.subarray(0, 300))).toThrow(NotDicom);
    const cutInPixels = parseDicom(full.subarray(0, full.length - 1000));
    expect(cutInPixels.truncatedPixelData).toBe(true);
    expect(cutInPixels.dataSet.string('x00100010')).toBe('DOE^JOHN');
    expect(cutInPixels.transferSyntaxUid).toBe(TS.explicitLE);
  });

  it('refuses 10,000 nested sequences with a 400 reason instead of crashing', () => {
    let inner = encodeDataset([{ tag: 0x00100010, vr: 'PN', value: 'DEEP' }], TS.explicitLE);
    const wrap = (bytes: Uint8Array): Uint8Array => {
      const out = new Uint8Array(bytes.length + 28);
      const dv = new DataView(out.buffer);
      // (0040,A730) SQ undefined length, one item of undefined length, item and sequence delimiters.
      dv.setUint16(0, 0x0040, true);
      dv.setUint16(2, 0xa730, true);
      out.set([0x53, 0x51, 0, 0], 4);
      dv.setUint32(8, 0xffffffff, true);
      dv.setUint16(12, 0xfffe, true);
      dv.setUint16(14, 0xe000, true);
      dv.setUint32(16, 0xffffffff, true);
      out.set(bytes, 20);
      const end = 20 + bytes.length;
      dv.setUint16(end, 0xfffe, true);
      dv.setUint16(end + 2, 0xe00d, true);
      dv.setUint32(end + 4, 0, true);
      return out.subarray(0, end + 8);
    };
    for (let i = 0; i < 10_000; i++) inner = wrap(inner);
    const file = buildDicom([{ tag: 0x00100020, vr: 'LO', value: 'X' }]);
    const combined = new Uint8Array(file.length + inner.length);
    combined.set(file);
    combined.set(inner, file.length);
    expect(() => parseDicom(combined)).toThrow(/nested too deeply/);
  });
});
