// Seeded mutations of synthetic DICOM files for fuzzing: byte flips, cuts, inflated lengths, nesting, corrupt codecs.
import {
  buildDeflatedDicom,
  buildDicom,
  buildEncapsulatedDicom,
  encodeRleFrame,
  imageElements,
  patientElements,
  sampleCt,
  TS,
  type FixtureElement,
} from '../fixtures/dicom-builder.js';
import { random } from '../support/synthetic-records.js';

export { random };

function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)]!;
}

const nested: FixtureElement = {
  tag: 0x0040a730,
  vr: 'SQ',
  value: {
    undefinedLength: true,
    items: [[{ tag: 0x0040a730, vr: 'SQ', value: { items: [[{ tag: 0x00100010, vr: 'PN', value: 'A^B' }]] } }]],
  },
};

const grey = (rows: number, columns: number, bits: 8 | 16 = 16): FixtureElement[] =>
  imageElements({
    rows,
    columns,
    bitsAllocated: bits,
    pixels: Array.from({ length: rows * columns }, (_, i) => (i * 37) % (bits === 8 ? 256 : 4096)),
  });

/** The seed corpus the mutations start from: one file per parsing and decoding path. */
export function seedFiles(): Uint8Array[] {
  const rleFrame = encodeRleFrame(
    Array.from({ length: 64 }, (_, i) => i * 50),
    { rows: 8, columns: 8, bitsAllocated: 16 },
  );
  const rleElements = grey(8, 8).filter((e) => e.tag !== 0x7fe00010);
  return [
    sampleCt(),
    sampleCt({ transferSyntax: TS.implicitLE }),
    sampleCt({ transferSyntax: TS.explicitBE }),
    sampleCt({ noMeta: true, transferSyntax: TS.implicitLE }),
    buildDeflatedDicom([...patientElements(), ...grey(4, 4)]),
    buildDicom([...patientElements({ charset: '\\ISO 2022 IR 87' }), nested]),
    buildDicom([
      ...patientElements(),
      ...imageElements({
        rows: 4,
        columns: 4,
        samplesPerPixel: 3,
        bitsAllocated: 8,
        pixels: new Uint8Array(48).fill(90),
      }),
    ]),
    buildEncapsulatedDicom([...patientElements(), ...rleElements], [[rleFrame]], { transferSyntax: TS.rle }),
    buildEncapsulatedDicom(
      [...patientElements(), ...grey(8, 8, 8).filter((e) => e.tag !== 0x7fe00010)],
      [[new Uint8Array([0xff, 0xd8, 0xff, 0xdb, 0, 0x43, 0, 1, 2, 3, 0xff, 0xd9])]],
      { transferSyntax: TS.jpegBaseline },
    ),
  ];
}

/** Offsets of 32-bit and 16-bit length fields of top-level explicit-VR elements (best effort). */
function lengthFieldOffsets(bytes: Uint8Array): number[] {
  const offsets: number[] = [];
  for (let i = 132; i + 8 < bytes.length; i++) {
    const a = bytes[i + 4]!;
    const b = bytes[i + 5]!;
    if (a >= 0x41 && a <= 0x5a && b >= 0x41 && b <= 0x5a) offsets.push(i + 6);
  }
  return offsets;
}

export type MutationName = 'flip' | 'truncate' | 'inflate-length' | 'zero-run' | 'splice' | 'nest';

/** Applies 1-3 random mutations to a copy of `input`. */
export function mutate(input: Uint8Array, rand: () => number): { bytes: Uint8Array; applied: MutationName[] } {
  let bytes = new Uint8Array(input);
  const applied: MutationName[] = [];
  const count = 1 + Math.floor(rand() * 3);
  for (let n = 0; n < count; n++) {
    const kind = pick(rand, ['flip', 'truncate', 'inflate-length', 'zero-run', 'splice', 'nest'] as const);
    applied.push(kind);
    if (kind === 'flip') {
      for (let k = 0; k < 1 + Math.floor(rand() * 8); k++) {
        const at = Math.floor(rand() * bytes.length);
        bytes[at] = bytes[at]! ^ (1 << Math.floor(rand() * 8));
      }
    } else if (kind === 'truncate') {
      bytes = bytes.slice(0, Math.floor(rand() * bytes.length));
    } else if (kind === 'inflate-length') {
      const offsets = lengthFieldOffsets(bytes);
      if (offsets.length) {
        const at = pick(rand, offsets);
        const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        const huge = pick(rand, [0xffffffff, 0xfffffff0, 0x7fffffff, bytes.length * 2, 0xffff]);
        if (at + 6 <= bytes.length) view.setUint32(Math.min(at + 2, bytes.length - 4), huge >>> 0, true);
        if (at + 2 <= bytes.length) view.setUint16(at, huge & 0xffff, true);
      }
    } else if (kind === 'zero-run') {
      const at = Math.floor(rand() * bytes.length);
      bytes.fill(0, at, Math.min(bytes.length, at + 1 + Math.floor(rand() * 64)));
    } else if (kind === 'splice') {
      const from = Math.floor(rand() * bytes.length);
      const to = Math.floor(rand() * bytes.length);
      const length = Math.floor(rand() * 128);
      bytes.copyWithin(to, from, from + length);
    } else {
      // Wrap the dataset tail in many undefined-length sequence levels.
      const depth = 1 + Math.floor(rand() * 3000);
      const open = new Uint8Array([
        0x40, 0x00, 0x30, 0xa7, 0x53, 0x51, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xfe, 0xff, 0x00, 0xe0, 0xff, 0xff, 0xff,
        0xff,
      ]);
      const out = new Uint8Array(bytes.length + depth * open.length);
      out.set(bytes);
      for (let d = 0; d < depth; d++) out.set(open, bytes.length + d * open.length);
      bytes = out;
    }
  }
  return { bytes, applied };
}
