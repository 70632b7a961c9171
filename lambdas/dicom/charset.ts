// Decodes DICOM text values per Specific Character Set (0008,0005), incl. ISO 2022 code extensions (PS3.5 6.1).
import { TextDecoder } from 'node:util';

/** VRs whose values use the Specific Character Set; all other text VRs are the default repertoire. */
const CHARSET_VRS = new Set(['SH', 'LO', 'ST', 'LT', 'UT', 'PN', 'UC']);
/** VRs that hold one value, in which a backslash is text and not a value delimiter. */
const SINGLE_VALUE_VRS = new Set(['ST', 'LT', 'UT', 'UR']);

const ESC = 0x1b;
const BACKSLASH = 0x5c;

/** One graphic character set as it is invoked into G0 (7-bit bytes) or G1 (8-bit bytes). */
interface GraphicSet {
  readonly name: string;
  /** True for 94x94 sets, whose characters are byte pairs (space and controls stay single bytes). */
  readonly doubleByte: boolean;
  decode(run: Uint8Array): string;
}

const decoders = new Map<string, TextDecoder>();
function textDecoder(label: string): TextDecoder {
  let decoder = decoders.get(label);
  if (!decoder) {
    decoder = new TextDecoder(label);
    decoders.set(label, decoder);
  }
  return decoder;
}

/** ISO 8859-1 maps every byte to the same code point; TextDecoder's "latin1" is windows-1252, so do it here. */
function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
}

function withHighBits(run: Uint8Array, prefix?: number): Uint8Array {
  const out = new Uint8Array(prefix === undefined ? run.length : run.length + Math.floor(run.length / 2));
  let o = 0;
  for (let i = 0; i < run.length; i++) {
    if (prefix !== undefined && i % 2 === 0) out[o++] = prefix;
    out[o++] = (run[i] ?? 0) | 0x80;
  }
  return out.subarray(0, o);
}

const ASCII: GraphicSet = { name: 'ASCII', doubleByte: false, decode: latin1 };
/** JIS X 0201 Roman: ASCII except yen sign and overline. */
const JIS_ROMAN: GraphicSet = {
  name: 'JIS X 0201 Roman',
  doubleByte: false,
  decode: (run) => latin1(run).replace(/\\/g, '\u00a5').replace(/~/g, '\u203e'),
};
/** JIS X 0201 Katakana in G1 (0xA1-0xDF): half-width katakana U+FF61-U+FF9F. */
const JIS_KATAKANA: GraphicSet = {
  name: 'JIS X 0201 Katakana',
  doubleByte: false,
  decode: (run) => {
    let text = '';
    for (const b of run)
      text += b >= 0xa1 && b <= 0xdf ? String.fromCharCode(0xff61 + b - 0xa1) : String.fromCharCode(b);
    return text;
  },
};
/** JIS X 0208 is designated to G0 (7-bit pairs): setting the high bits gives EUC-JP. */
const JIS_X_0208: GraphicSet = {
  name: 'JIS X 0208',
  doubleByte: true,
  decode: (run) => textDecoder('euc-jp').decode(withHighBits(run)),
};
/** JIS X 0212 in G0: EUC-JP writes it as SS3 (0x8F) plus the pair with high bits set. */
const JIS_X_0212: GraphicSet = {
  name: 'JIS X 0212',
  doubleByte: true,
  decode: (run) => textDecoder('euc-jp').decode(withHighBits(run, 0x8f)),
};
/** KS X 1001 and GB 2312 are designated to G1: their bytes already have the high bit, i.e. EUC-KR / EUC-CN. */
const KS_X_1001: GraphicSet = {
  name: 'KS X 1001',
  doubleByte: true,
  decode: (run) => textDecoder('euc-kr').decode(run),
};
const GB_2312: GraphicSet = { name: 'GB 2312', doubleByte: true, decode: (run) => textDecoder('gb18030').decode(run) };

function isoSet(name: string, label: string): GraphicSet {
  return { name, doubleByte: false, decode: (run) => textDecoder(label).decode(run) };
}
const LATIN1: GraphicSet = { name: 'ISO 8859-1', doubleByte: false, decode: latin1 };
const G1_SETS: Record<string, GraphicSet> = {
  '100': LATIN1,
  '101': isoSet('ISO 8859-2', 'iso-8859-2'),
  '109': isoSet('ISO 8859-3', 'iso-8859-3'),
  '110': isoSet('ISO 8859-4', 'iso-8859-4'),
  '144': isoSet('ISO 8859-5', 'iso-8859-5'),
  '127': isoSet('ISO 8859-6', 'iso-8859-6'),
  '126': isoSet('ISO 8859-7', 'iso-8859-7'),
  '138': isoSet('ISO 8859-8', 'iso-8859-8'),
  '148': isoSet('ISO 8859-9', 'iso-8859-9'),
  '203': isoSet('ISO 8859-15', 'iso-8859-15'),
  '166': isoSet('TIS 620', 'tis-620'),
  '13': JIS_KATAKANA,
};
/** Final byte of "ESC - F" (96-character set into G1) for each ISO_IR number (PS3.3 Table C.12-3). */
const G1_FINAL_BYTES: Record<string, number> = {
  '100': 0x41,
  '101': 0x42,
  '109': 0x43,
  '110': 0x44,
  '144': 0x4c,
  '127': 0x47,
  '126': 0x46,
  '138': 0x48,
  '148': 0x4d,
  '203': 0x62,
  '166': 0x54,
};

interface Designation {
  readonly register: 'G0' | 'G1';
  readonly set: GraphicSet;
}
/** Escape sequences (the bytes after ESC) of PS3.3 Tables C.12-3/C.12-4, recognised whatever the file declares. */
const ESCAPES: Array<{ bytes: number[]; designation: Designation }> = [
  { bytes: [0x28, 0x42], designation: { register: 'G0', set: ASCII } },
  { bytes: [0x28, 0x4a], designation: { register: 'G0', set: JIS_ROMAN } },
  { bytes: [0x29, 0x49], designation: { register: 'G1', set: JIS_KATAKANA } },
  { bytes: [0x24, 0x42], designation: { register: 'G0', set: JIS_X_0208 } },
  { bytes: [0x24, 0x28, 0x44], designation: { register: 'G0', set: JIS_X_0212 } },
  { bytes: [0x24, 0x29, 0x43], designation: { register: 'G1', set: KS_X_1001 } },
  { bytes: [0x24, 0x29, 0x41], designation: { register: 'G1', set: GB_2312 } },
  ...Object.entries(G1_FINAL_BYTES).map(([ir, final]) => ({
    bytes: [0x2d, final],
    designation: { register: 'G1' as const, set: G1_SETS[ir]! },
  })),
];

function matchEscape(bytes: Uint8Array, at: number): { length: number; designation: Designation } | undefined {
  for (const escape of ESCAPES) {
    if (escape.bytes.every((b, i) => bytes[at + i] === b))
      return { length: escape.bytes.length, designation: escape.designation };
  }
  return undefined;
}

/** A parsed Specific Character Set: how a value starts out and which escapes it may use. */
export interface CharacterSet {
  /** The defined terms as written in (0008,0005), e.g. ["", "ISO 2022 IR 87"]. */
  readonly terms: readonly string[];
  /** Terms this decoder does not know; their text is decoded as the default repertoire. */
  readonly unknownTerms: readonly string[];
  /** Set for UTF-8, GB18030 and GBK: the whole value is decoded at once, without code extensions. */
  readonly wholeValueEncoding?: string;
  /** G0 and G1 at the start of a value and after each delimiter (from the first term). */
  readonly initialG0: GraphicSet;
  readonly initialG1?: GraphicSet;
  /** No (0008,0005) at all: text with high bytes is read as UTF-8 when it is valid UTF-8, else Latin-1. */
  readonly undeclared: boolean;
}

/** Accepts the common misspellings ("ISO_IR100", "ISO-IR 100", "UTF-8") seen in real files. */
function normaliseTerm(term: string): string {
  const upper = term.trim().toUpperCase();
  const single = /^ISO[ _-]?IR[ _-]?(\d+)$/.exec(upper);
  if (single) return `ISO_IR ${single[1]}`;
  const extension = /^ISO[ _-]?2022[ _-]?IR[ _-]?(\d+)$/.exec(upper);
  if (extension) return `ISO 2022 IR ${extension[1]}`;
  if (upper === 'UTF-8' || upper === 'UTF8') return 'ISO_IR 192';
  return upper;
}

const WHOLE_VALUE_ENCODINGS: Record<string, string> = { 'ISO_IR 192': 'utf-8', GB18030: 'gb18030', GBK: 'gbk' };
const KNOWN_EXTENSION_ONLY = new Set(['87', '159', '149', '58', '6']);

/** Builds the decoder state for the raw value of (0008,0005) ("\"-separated terms); undefined = not present. */
export function characterSetFromValue(specificCharacterSet: string | undefined): CharacterSet {
  const terms = specificCharacterSet === undefined ? [] : specificCharacterSet.split('\\').map((t) => t.trim());
  const normalised = terms.map(normaliseTerm);
  const unknownTerms: string[] = [];
  for (const [i, term] of normalised.entries()) {
    if (term === '' || WHOLE_VALUE_ENCODINGS[term]) continue;
    const ir = /^(?:ISO_IR|ISO 2022 IR) (\d+)$/.exec(term)?.[1];
    if (ir && (G1_SETS[ir] || KNOWN_EXTENSION_ONLY.has(ir))) continue;
    unknownTerms.push(terms[i] ?? term);
  }
  const first = normalised[0] ?? '';
  const wholeValueEncoding = WHOLE_VALUE_ENCODINGS[first];
  const firstIr = /^(?:ISO_IR|ISO 2022 IR) (\d+)$/.exec(first)?.[1];
  const initialG1 = firstIr ? G1_SETS[firstIr] : undefined;
  return {
    terms,
    unknownTerms,
    ...(wholeValueEncoding ? { wholeValueEncoding } : {}),
    initialG0: firstIr === '13' ? JIS_ROMAN : ASCII,
    ...(initialG1 ? { initialG1 } : {}),
    undeclared: specificCharacterSet === undefined || terms.every((t) => t === ''),
  };
}

/** The default repertoire (no Specific Character Set). */
export const DEFAULT_CHARACTER_SET: CharacterSet = characterSetFromValue(undefined);

/** Does this VR's text use the Specific Character Set? */
export function usesCharacterSet(vr: string): boolean {
  return CHARSET_VRS.has(vr);
}

function isAsciiOnly(bytes: Uint8Array): boolean {
  for (const b of bytes) if (b >= 0x80 || b === ESC) return false;
  return true;
}

function splitDecoded(text: string, splitValues: boolean): string[] {
  return splitValues ? text.split('\\') : [text];
}

/**
 * Decodes a value with code extensions: each byte below 0x80 belongs to the set in G0, each byte
 * above to the set in G1; escape sequences change G0/G1, and delimiters restore the initial sets.
 * Delimiters only count while G0 holds a single-byte set: inside JIS X 0208 text, 0x5C or 0x5E
 * is half of a kanji (encoders switch back to ASCII before every delimiter, PS3.5 6.1.2.5.3).
 */
function decodeWithCodeExtensions(
  bytes: Uint8Array,
  charset: CharacterSet,
  splitValues: boolean,
  personName: boolean,
): string[] {
  const values: string[] = [];
  const fallbackG1 = LATIN1;
  let g0 = charset.initialG0;
  let g1 = charset.initialG1;
  let text = '';
  let runSet: GraphicSet | undefined;
  let runStart = 0;
  const flush = (end: number): void => {
    if (runSet && end > runStart) text += runSet.decode(bytes.subarray(runStart, end));
    runSet = undefined;
  };
  const extend = (set: GraphicSet, at: number): void => {
    if (runSet !== set) {
      flush(at);
      runSet = set;
      runStart = at;
    }
  };
  const reset = (): void => {
    g0 = charset.initialG0;
    g1 = charset.initialG1;
  };
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    if (b === ESC) {
      flush(i);
      const escape = matchEscape(bytes, i + 1);
      if (escape) {
        if (escape.designation.register === 'G0') g0 = escape.designation.set;
        else g1 = escape.designation.set;
        i += 1 + escape.length;
      } else {
        // An escape we do not know stays visible rather than silently vanishing.
        text += '\u001b';
        i++;
      }
      continue;
    }
    if (b >= 0x80) {
      extend(g1 ?? fallbackG1, i);
      i++;
      continue;
    }
    if (g0.doubleByte && b > 0x20 && b < 0x7f) {
      extend(g0, i);
      i++;
      continue;
    }
    if (b === BACKSLASH && splitValues) {
      flush(i);
      values.push(text);
      text = '';
      reset();
      i++;
      continue;
    }
    if (b < 0x20 || (personName && (b === 0x5e || b === 0x3d))) {
      flush(i);
      text += String.fromCharCode(b);
      reset();
      i++;
      continue;
    }
    // Space and DEL in a double-byte G0 are still single ASCII bytes.
    extend(g0.doubleByte ? ASCII : g0, i);
    i++;
  }
  flush(bytes.length);
  values.push(text);
  return values;
}

/**
 * Decodes the bytes of one text element into its values (split at "\" unless the VR is
 * single-valued), without trimming padding. VRs outside SH LO ST LT UT PN UC are read as the
 * default repertoire (bytes above 0x7F as Latin-1, so nothing is lost).
 */
export function decodeTextValues(bytes: Uint8Array, charset: CharacterSet, vr: string): string[] {
  const splitValues = !SINGLE_VALUE_VRS.has(vr);
  if (!usesCharacterSet(vr) || isAsciiOnly(bytes)) return splitDecoded(latin1(bytes), splitValues);
  if (charset.wholeValueEncoding) {
    // GBK/GB18030 trail bytes may be 0x5C, so split after decoding, never on raw bytes.
    return splitDecoded(textDecoder(charset.wholeValueEncoding).decode(bytes), splitValues);
  }
  if (charset.undeclared && !bytes.includes(ESC)) {
    try {
      return splitDecoded(new TextDecoder('utf-8', { fatal: true }).decode(bytes), splitValues);
    } catch {
      return splitDecoded(latin1(bytes), splitValues);
    }
  }
  return decodeWithCodeExtensions(bytes, charset, splitValues, vr === 'PN');
}

/** Decodes one text element as a single string (values joined by "\"), e.g. for a person name. */
export function decodeText(bytes: Uint8Array, charset: CharacterSet, vr: string): string {
  return decodeTextValues(bytes, charset, vr).join('\\');
}
