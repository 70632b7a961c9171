// Sequential DCT JPEG (processes 1, 2 and 4: 8- and 12-bit, Huffman) with IJG's integer IDCT, for 12-bit frames.
//
// Written by hand because no maintained package decodes 12-bit JPEG correctly (measured: the cornerstone codecs
// refuse it, jpeg-js returns the wrong length, and daikon's pdf.js-derived decoder shifts every sample by about +15
// through an 8-bit level-shift constant, MAD 2.27 on the corpus MR). The IDCT is IJG's jidctint.c ("islow", the
// default of libjpeg and of GDCM, which made the reference images), so results match those decoders exactly.
import { UndecodablePixels } from '../errors.js';

const NAME = 'JPEG (12-bit DCT)';

function corrupt(reason: string): UndecodablePixels {
  return new UndecodablePixels(`${NAME} cannot decode the frame: ${reason}`, 'PIXEL_DATA_CORRUPT');
}

/** Position k in zig-zag order -> index in the natural (row-major) 8x8 block. */
const ZIGZAG = new Uint8Array([
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
  35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47,
  55, 62, 63,
]);

interface HuffmanTable {
  /** 9-bit lookahead: (code length << 8) | symbol, or 0 when the code is longer. */
  fast: Uint16Array;
  /** Largest code of each length 1..16 (-1 when none), and the index of its first symbol. */
  maxCode: Int32Array;
  valueOffset: Int32Array;
  symbols: Uint8Array;
}

const LOOKAHEAD = 9;

function buildHuffman(counts: Uint8Array, symbols: Uint8Array): HuffmanTable {
  const fast = new Uint16Array(1 << LOOKAHEAD);
  const maxCode = new Int32Array(18).fill(-1);
  const valueOffset = new Int32Array(18);
  let code = 0;
  let k = 0;
  for (let length = 1; length <= 16; length++) {
    const n = counts[length - 1]!;
    valueOffset[length] = k - code;
    for (let i = 0; i < n; i++, k++, code++) {
      if (length <= LOOKAHEAD) {
        const shift = LOOKAHEAD - length;
        for (let fill = 0; fill < 1 << shift; fill++) fast[(code << shift) | fill] = (length << 8) | symbols[k]!;
      }
    }
    if (n > 0) maxCode[length] = code - 1;
    if (code > 1 << length) throw corrupt('a Huffman table has more codes than its lengths allow');
    code <<= 1;
  }
  maxCode[17] = 0x7fffffff; // ends the slow-path search
  return { fast, maxCode, valueOffset, symbols };
}

interface Component {
  id: number;
  h: number;
  v: number;
  quantTable: number;
  /** Samples, blocksPerLine * 8 wide, padded to whole MCUs. */
  plane: Uint16Array;
  blocksPerLine: number;
  blocksPerColumn: number;
  dcPrediction: number;
}

interface Frame {
  precision: number;
  width: number;
  height: number;
  components: Component[];
  hMax: number;
  vMax: number;
  mcusPerLine: number;
  mcusPerColumn: number;
}

/** Entropy-coded data, bit by bit: skips stuffed zero bytes, stops at markers, and knows when it ran out. */
class BitReader {
  private buffer = 0;
  private count = 0;
  /** Zero bits fed after a marker or the end of data: reading any of them means the data was cut short. */
  private padding = 0;
  constructor(
    private readonly data: Uint8Array,
    public position: number,
  ) {}

  private fill(): void {
    while (this.count <= 24) {
      let byte = 0;
      const at = this.position;
      if (at < this.data.length && !(this.data[at] === 0xff && this.data[at + 1] !== 0x00)) {
        byte = this.data[at]!;
        this.position += byte === 0xff ? 2 : 1; // 0xFF 0x00 stands for a data byte 0xFF
      } else {
        this.padding += 8; // a marker (or the end): feed zeros, as libjpeg does, and remember it
      }
      this.buffer = ((this.buffer << 8) | byte) >>> 0;
      this.count += 8;
    }
  }

  bits(n: number): number {
    if (n === 0) return 0;
    if (this.count < n) this.fill();
    this.count -= n;
    return (this.buffer >>> this.count) & ((1 << n) - 1);
  }

  decode(table: HuffmanTable): number {
    if (this.count < 16) this.fill();
    const peek = (this.buffer >>> (this.count - LOOKAHEAD)) & ((1 << LOOKAHEAD) - 1);
    const entry = table.fast[peek]!;
    if (entry !== 0) {
      this.count -= entry >> 8;
      return entry & 0xff;
    }
    let length = LOOKAHEAD + 1;
    let code = (this.buffer >>> (this.count - length)) & ((1 << length) - 1);
    while (code > table.maxCode[length]!) {
      length++;
      if (length > 16) throw corrupt('a Huffman code matches no table entry');
      code = (this.buffer >>> (this.count - length)) & ((1 << length) - 1);
    }
    this.count -= length;
    const symbol = table.symbols[table.valueOffset[length]! + code];
    if (symbol === undefined) throw corrupt('a Huffman code matches no table entry');
    return symbol;
  }

  /** Throws when bits invented past a marker were used: the scan is shorter than the image. */
  checkNotExhausted(): void {
    if (this.padding > this.count) throw corrupt('the compressed data ends before the image is complete');
  }

  /** Drops buffered bits and skips to the next marker (restart or end of scan); returns its position. */
  align(): number {
    this.buffer = 0;
    this.count = 0;
    this.padding = 0;
    let at = this.position;
    while (
      at + 1 < this.data.length &&
      !(this.data[at] === 0xff && this.data[at + 1] !== 0 && this.data[at + 1] !== 0xff)
    )
      at++;
    this.position = at;
    return at;
  }
}

/** F.2.2.1 EXTEND: the s-bit value v as a signed difference. */
function extend(v: number, s: number): number {
  return v < 1 << (s - 1) ? v - (1 << s) + 1 : v;
}

// jidctint.c constants: FIX(x) = round(x * 2^13).
const CONST_BITS = 13;
const FIX_0_298631336 = 2446;
const FIX_0_390180644 = 3196;
const FIX_0_541196100 = 4433;
const FIX_0_765366865 = 6270;
const FIX_0_899976223 = 7373;
const FIX_1_175875602 = 9633;
const FIX_1_501321110 = 12299;
const FIX_1_847759065 = 15137;
const FIX_1_961570560 = 16069;
const FIX_2_053119869 = 16819;
const FIX_2_562915447 = 20995;
const FIX_3_072711026 = 25172;

/** DESCALE: divide by 2^n rounding half up, as an arithmetic shift does (on doubles, so nothing wraps at 32 bits). */
function descale(x: number, n: number): number {
  return Math.floor((x + 2 ** (n - 1)) / 2 ** n);
}

/**
 * jpeg_idct_islow: dequantized coefficients (natural order) -> 64 samples in the plane at `offset` with `stride`.
 * `workspace` holds the column pass. Output goes through IJG's range limit: clamp(x + centre), wrapping like its
 * masked table for values far outside the range so even corrupt data decodes as libjpeg decodes it.
 */
function idctIslow(
  coef: Float64Array,
  workspace: Float64Array,
  precision: number,
  plane: Uint16Array,
  offset: number,
  stride: number,
): void {
  const pass1Bits = precision === 8 ? 2 : 1; // 12-bit loses a bit of precision to avoid overflow, as IJG does
  const max = (1 << precision) - 1;
  const centre = 1 << (precision - 1);
  const rangeMask = 4 * (max + 1) - 1;
  const limit = (x: number): number => {
    const i = x & rangeMask;
    if (i < centre) return i + centre;
    if (i < 2 * (max + 1)) return max;
    if (i < 4 * (max + 1) - centre) return 0;
    return i - (4 * (max + 1) - centre);
  };

  // Pass 1: columns.
  for (let c = 0; c < 8; c++) {
    if (
      coef[8 + c] === 0 &&
      coef[16 + c] === 0 &&
      coef[24 + c] === 0 &&
      coef[32 + c] === 0 &&
      coef[40 + c] === 0 &&
      coef[48 + c] === 0 &&
      coef[56 + c] === 0
    ) {
      const dc = coef[c]! * 2 ** pass1Bits;
      for (let r = 0; r < 8; r++) workspace[r * 8 + c] = dc;
      continue;
    }
    let z2 = coef[16 + c]!;
    let z3 = coef[48 + c]!;
    let z1 = (z2 + z3) * FIX_0_541196100;
    let tmp2 = z1 + z3 * -FIX_1_847759065;
    let tmp3 = z1 + z2 * FIX_0_765366865;
    z2 = coef[c]!;
    z3 = coef[32 + c]!;
    let tmp0 = (z2 + z3) * 2 ** CONST_BITS;
    let tmp1 = (z2 - z3) * 2 ** CONST_BITS;
    const tmp10 = tmp0 + tmp3;
    const tmp13 = tmp0 - tmp3;
    const tmp11 = tmp1 + tmp2;
    const tmp12 = tmp1 - tmp2;

    tmp0 = coef[56 + c]!;
    tmp1 = coef[40 + c]!;
    tmp2 = coef[24 + c]!;
    tmp3 = coef[8 + c]!;
    z1 = tmp0 + tmp3;
    z2 = tmp1 + tmp2;
    z3 = tmp0 + tmp2;
    let z4 = tmp1 + tmp3;
    const z5 = (z3 + z4) * FIX_1_175875602;
    tmp0 *= FIX_0_298631336;
    tmp1 *= FIX_2_053119869;
    tmp2 *= FIX_3_072711026;
    tmp3 *= FIX_1_501321110;
    z1 *= -FIX_0_899976223;
    z2 *= -FIX_2_562915447;
    z3 = z3 * -FIX_1_961570560 + z5;
    z4 = z4 * -FIX_0_390180644 + z5;
    tmp0 += z1 + z3;
    tmp1 += z2 + z4;
    tmp2 += z2 + z3;
    tmp3 += z1 + z4;

    const shift = CONST_BITS - pass1Bits;
    workspace[c] = descale(tmp10 + tmp3, shift);
    workspace[56 + c] = descale(tmp10 - tmp3, shift);
    workspace[8 + c] = descale(tmp11 + tmp2, shift);
    workspace[48 + c] = descale(tmp11 - tmp2, shift);
    workspace[16 + c] = descale(tmp12 + tmp1, shift);
    workspace[40 + c] = descale(tmp12 - tmp1, shift);
    workspace[24 + c] = descale(tmp13 + tmp0, shift);
    workspace[32 + c] = descale(tmp13 - tmp0, shift);
  }

  // Pass 2: rows, into the output.
  const shift = CONST_BITS + pass1Bits + 3;
  for (let r = 0; r < 8; r++) {
    const w = r * 8;
    const out = offset + r * stride;
    if (
      workspace[w + 1] === 0 &&
      workspace[w + 2] === 0 &&
      workspace[w + 3] === 0 &&
      workspace[w + 4] === 0 &&
      workspace[w + 5] === 0 &&
      workspace[w + 6] === 0 &&
      workspace[w + 7] === 0
    ) {
      const value = limit(descale(workspace[w]!, pass1Bits + 3));
      for (let c = 0; c < 8; c++) plane[out + c] = value;
      continue;
    }
    let z2 = workspace[w + 2]!;
    let z3 = workspace[w + 6]!;
    let z1 = (z2 + z3) * FIX_0_541196100;
    let tmp2 = z1 + z3 * -FIX_1_847759065;
    let tmp3 = z1 + z2 * FIX_0_765366865;
    let tmp0 = (workspace[w]! + workspace[w + 4]!) * 2 ** CONST_BITS;
    let tmp1 = (workspace[w]! - workspace[w + 4]!) * 2 ** CONST_BITS;
    const tmp10 = tmp0 + tmp3;
    const tmp13 = tmp0 - tmp3;
    const tmp11 = tmp1 + tmp2;
    const tmp12 = tmp1 - tmp2;

    tmp0 = workspace[w + 7]!;
    tmp1 = workspace[w + 5]!;
    tmp2 = workspace[w + 3]!;
    tmp3 = workspace[w + 1]!;
    z1 = tmp0 + tmp3;
    z2 = tmp1 + tmp2;
    z3 = tmp0 + tmp2;
    let z4 = tmp1 + tmp3;
    const z5 = (z3 + z4) * FIX_1_175875602;
    tmp0 *= FIX_0_298631336;
    tmp1 *= FIX_2_053119869;
    tmp2 *= FIX_3_072711026;
    tmp3 *= FIX_1_501321110;
    z1 *= -FIX_0_899976223;
    z2 *= -FIX_2_562915447;
    z3 = z3 * -FIX_1_961570560 + z5;
    z4 = z4 * -FIX_0_390180644 + z5;
    tmp0 += z1 + z3;
    tmp1 += z2 + z4;
    tmp2 += z2 + z3;
    tmp3 += z1 + z4;

    plane[out] = limit(descale(tmp10 + tmp3, shift));
    plane[out + 7] = limit(descale(tmp10 - tmp3, shift));
    plane[out + 1] = limit(descale(tmp11 + tmp2, shift));
    plane[out + 6] = limit(descale(tmp11 - tmp2, shift));
    plane[out + 2] = limit(descale(tmp12 + tmp1, shift));
    plane[out + 5] = limit(descale(tmp12 - tmp1, shift));
    plane[out + 3] = limit(descale(tmp13 + tmp0, shift));
    plane[out + 4] = limit(descale(tmp13 - tmp0, shift));
  }
}

export interface DctImage {
  width: number;
  height: number;
  precision: number;
  components: number;
  /** Colour-by-pixel samples as stored (no colour conversion: jpeg-colour.ts decides what they hold). */
  samples: Uint16Array;
}

/** Marker names for error messages about processes this decoder does not handle. */
const UNSUPPORTED_SOF: Record<number, string> = {
  0xc2: 'progressive DCT',
  0xc3: 'lossless',
  0xc5: 'hierarchical',
  0xc6: 'hierarchical',
  0xc7: 'hierarchical',
  0xc9: 'arithmetic-coded',
  0xca: 'arithmetic-coded',
  0xcb: 'arithmetic-coded',
  0xcd: 'arithmetic-coded',
  0xce: 'arithmetic-coded',
  0xcf: 'arithmetic-coded',
};

/** Decodes a sequential Huffman DCT JPEG (SOF0/SOF1) of 8 or 12 bits; colour only without subsampling. */
export function decodeDctJpeg(data: Uint8Array): DctImage {
  if (data[0] !== 0xff || data[1] !== 0xd8) throw corrupt('no JPEG start-of-image marker');
  const quantTables: (Uint16Array | undefined)[] = [];
  const dcTables: (HuffmanTable | undefined)[] = [];
  const acTables: (HuffmanTable | undefined)[] = [];
  let frame: Frame | undefined;
  let restartInterval = 0;
  let pos = 2;
  const u16 = (at: number): number => {
    if (at + 1 >= data.length) throw corrupt('a marker segment runs past the end of the data');
    return (data[at]! << 8) | data[at + 1]!;
  };

  for (;;) {
    // Tolerate fill bytes (0xFF repeated) between segments.
    while (pos < data.length && data[pos] === 0xff && data[pos + 1] === 0xff) pos++;
    if (pos + 1 >= data.length) break;
    if (data[pos] !== 0xff) throw corrupt(`expected a marker at byte ${pos}`);
    const marker = data[pos + 1]!;
    pos += 2;
    if (marker === 0xd9) break; // EOI
    if (marker >= 0xd0 && marker <= 0xd7) continue; // stray RSTn
    const length = u16(pos);
    const end = pos + length;
    if (length < 2 || end > data.length) throw corrupt(`marker segment 0xFF${marker.toString(16)} is cut short`);
    const segment = data.subarray(pos + 2, end);

    if (marker === 0xdb) {
      for (let i = 0; i < segment.length;) {
        const pq = segment[i]! >> 4;
        const tq = segment[i]! & 15;
        const size = pq ? 128 : 64;
        if (tq > 3 || i + 1 + size > segment.length) throw corrupt('invalid quantization table');
        const table = new Uint16Array(64);
        for (let k = 0; k < 64; k++) {
          table[ZIGZAG[k]!] = pq ? (segment[i + 1 + 2 * k]! << 8) | segment[i + 2 + 2 * k]! : segment[i + 1 + k]!;
        }
        quantTables[tq] = table;
        i += 1 + size;
      }
    } else if (marker === 0xc4) {
      for (let i = 0; i < segment.length;) {
        const tc = segment[i]! >> 4;
        const th = segment[i]! & 15;
        if (i + 17 > segment.length || tc > 1 || th > 3) throw corrupt('invalid Huffman table');
        const counts = segment.subarray(i + 1, i + 17);
        const total = counts.reduce((sum, n) => sum + n, 0);
        if (total > 256 || i + 17 + total > segment.length) throw corrupt('invalid Huffman table');
        const table = buildHuffman(counts, segment.slice(i + 17, i + 17 + total));
        (tc === 0 ? dcTables : acTables)[th] = table;
        i += 17 + total;
      }
    } else if (marker === 0xdd) {
      restartInterval = u16(pos + 2);
    } else if (marker === 0xc0 || marker === 0xc1) {
      if (frame) throw corrupt('more than one frame header');
      frame = readFrame(segment);
    } else if (UNSUPPORTED_SOF[marker]) {
      throw corrupt(`${UNSUPPORTED_SOF[marker]} JPEG is not supported here`);
    } else if (marker === 0xda) {
      if (!frame) throw corrupt('scan before the frame header');
      pos = decodeScan(data, end, segment, frame, quantTables, dcTables, acTables, restartInterval);
      continue;
    }
    pos = end; // APPn, COM, DNL and other segments carry nothing the samples need
  }
  if (!frame) throw corrupt('no frame header (SOF) found');
  return output(frame);
}

function readFrame(segment: Uint8Array): Frame {
  if (segment.length < 6) throw corrupt('frame header is cut short');
  const precision = segment[0]!;
  const height = (segment[1]! << 8) | segment[2]!;
  const width = (segment[3]! << 8) | segment[4]!;
  const count = segment[5]!;
  if (precision !== 8 && precision !== 12) throw corrupt(`sample precision ${precision} (8 or 12 expected)`);
  if (width === 0 || height === 0) throw corrupt('the frame header gives no image size (DNL is not supported)');
  if (count < 1 || count > 4 || segment.length < 6 + 3 * count) throw corrupt(`${count} components in the frame`);
  const raw: { id: number; h: number; v: number; quantTable: number }[] = [];
  for (let i = 0; i < count; i++) {
    const o = 6 + 3 * i;
    const h = segment[o + 1]! >> 4;
    const v = segment[o + 1]! & 15;
    if (h < 1 || h > 4 || v < 1 || v > 4) throw corrupt('invalid sampling factors');
    raw.push({ id: segment[o]!, h, v, quantTable: segment[o + 2]! & 3 });
  }
  const hMax = Math.max(...raw.map((c) => c.h));
  const vMax = Math.max(...raw.map((c) => c.v));
  const mcusPerLine = Math.ceil(width / (8 * hMax));
  const mcusPerColumn = Math.ceil(height / (8 * vMax));
  const components = raw.map((c) => {
    const blocksPerLine = mcusPerLine * c.h;
    const blocksPerColumn = mcusPerColumn * c.v;
    return {
      ...c,
      blocksPerLine,
      blocksPerColumn,
      plane: new Uint16Array(blocksPerLine * blocksPerColumn * 64),
      dcPrediction: 0,
    };
  });
  return { precision, width, height, components, hMax, vMax, mcusPerLine, mcusPerColumn };
}

/** Decodes one scan (F.2.2) into the components' planes; returns the position of the marker that ends it. */
function decodeScan(
  data: Uint8Array,
  start: number,
  header: Uint8Array,
  frame: Frame,
  quantTables: (Uint16Array | undefined)[],
  dcTables: (HuffmanTable | undefined)[],
  acTables: (HuffmanTable | undefined)[],
  restartInterval: number,
): number {
  const count = header[0] ?? 0;
  if (count < 1 || count > 4 || header.length < 1 + 2 * count + 3) throw corrupt('invalid scan header');
  const scan: { component: Component; dc: HuffmanTable; ac: HuffmanTable; quant: Uint16Array }[] = [];
  for (let i = 0; i < count; i++) {
    const id = header[1 + 2 * i]!;
    const component = frame.components.find((c) => c.id === id);
    const dc = dcTables[header[2 + 2 * i]! >> 4];
    const ac = acTables[header[2 + 2 * i]! & 15];
    const quant = component ? quantTables[component.quantTable] : undefined;
    if (!component || !dc || !ac || !quant) throw corrupt('a scan refers to a component or table that is not defined');
    scan.push({ component, dc, ac, quant });
  }
  // Ss, Se, Ah and Al mean nothing in a sequential scan; some encoders write Se = 0 (the corpus MR does): libjpeg
  // ignores them with a warning, and so does this.

  const reader = new BitReader(data, start);
  const coef = new Float64Array(64);
  const workspace = new Float64Array(64);
  for (const s of scan) s.component.dcPrediction = 0;

  const decodeBlock = (s: (typeof scan)[number], row: number, col: number): void => {
    coef.fill(0);
    const t = reader.decode(s.dc);
    if (t > 16) throw corrupt('a DC difference is out of range');
    s.component.dcPrediction += t === 0 ? 0 : extend(reader.bits(t), t);
    coef[0] = s.component.dcPrediction * s.quant[0]!;
    for (let k = 1; k < 64;) {
      const rs = reader.decode(s.ac);
      const r = rs >> 4;
      const size = rs & 15;
      if (size === 0) {
        if (r !== 15) break; // EOB
        k += 16;
        continue;
      }
      k += r;
      if (k > 63) throw corrupt('an AC run passes the end of the block');
      const z = ZIGZAG[k]!;
      coef[z] = extend(reader.bits(size), size) * s.quant[z]!;
      k++;
    }
    const { plane, blocksPerLine } = s.component;
    const stride = blocksPerLine * 8;
    idctIslow(coef, workspace, frame.precision, plane, row * 8 * stride + col * 8, stride);
  };

  // A single-component scan codes that component's blocks in raster order, one per MCU (A.2.2).
  const single = count === 1 ? scan[0]! : undefined;
  const mcus = single
    ? Math.ceil(Math.ceil((frame.width * single.component.h) / frame.hMax) / 8) *
      Math.ceil(Math.ceil((frame.height * single.component.v) / frame.vMax) / 8)
    : frame.mcusPerLine * frame.mcusPerColumn;
  const singleBlocksPerLine = single ? Math.ceil(Math.ceil((frame.width * single.component.h) / frame.hMax) / 8) : 0;

  for (let mcu = 0; mcu < mcus; mcu++) {
    if (restartInterval > 0 && mcu > 0 && mcu % restartInterval === 0) {
      const at = reader.align();
      const marker = data[at + 1] ?? 0;
      if (data[at] !== 0xff || marker < 0xd0 || marker > 0xd7) throw corrupt('a restart marker is missing');
      reader.position = at + 2;
      for (const s of scan) s.component.dcPrediction = 0;
    }
    if (single) {
      decodeBlock(single, Math.floor(mcu / singleBlocksPerLine), mcu % singleBlocksPerLine);
    } else {
      const mcuRow = Math.floor(mcu / frame.mcusPerLine);
      const mcuCol = mcu % frame.mcusPerLine;
      for (const s of scan) {
        for (let v = 0; v < s.component.v; v++) {
          for (let h = 0; h < s.component.h; h++)
            decodeBlock(s, mcuRow * s.component.v + v, mcuCol * s.component.h + h);
        }
      }
    }
    reader.checkNotExhausted();
  }
  return reader.align();
}

function output(frame: Frame): DctImage {
  const { width, height, components } = frame;
  if (components.some((c) => c.h !== frame.hMax || c.v !== frame.vMax)) {
    throw corrupt('subsampled colour is not supported in 12-bit JPEG');
  }
  const n = components.length;
  const samples = new Uint16Array(width * height * n);
  components.forEach((c, index) => {
    const stride = c.blocksPerLine * 8;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) samples[(y * width + x) * n + index] = c.plane[y * stride + x]!;
    }
  });
  return { width, height, precision: frame.precision, components: n, samples };
}
