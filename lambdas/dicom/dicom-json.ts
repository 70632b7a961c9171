// Encodes a parsed DICOM dataset in the DICOM JSON Model (PS3.18 Annex F.2) for WADO-RS metadata and QIDO-RS.
import type { DataSet, Element } from 'dicom-parser';
import {
  attributeTags,
  binaryNumbers,
  BINARY_VRS,
  contextFor,
  datasetStartOf,
  describeTag,
  elementBytes,
  MAX_SEQUENCE_DEPTH,
  readImplicitSequence,
  resolveVr,
  rootContext,
  startsWithItemTag,
  textValue,
  TEXT_VRS,
  type AttributeScalar,
  type DatasetContext,
} from './attributes.js';
import type { ParsedDicom } from './parse.js';
import { PIXEL_DATA_TAGS, TAG_HEX } from './tags.js';

export interface DicomJsonAttribute {
  vr: string;
  Value?: unknown[];
  BulkDataURI?: string;
  InlineBinary?: string;
}
export type DicomJsonDataset = Record<string, DicomJsonAttribute>; // keys: 8 upper-case hex digits 'GGGGEEEE'
/** Where a bulk value sits: top-level tag, or a path through sequences: ['00540016', 0, '00181072']-style. */
export type BulkDataPath = (string | number)[];
export interface DicomJsonOptions {
  /** Binary values (OB OD OF OL OV OW UN, and Pixel Data / Float / Double Float Pixel Data always) longer than this become BulkDataURI; shorter ones InlineBinary (base64). Default 1024. */
  bulkDataThreshold?: number;
  /** Builds the BulkDataURI for a path (the caller decides the URL); default: `bulkdata/<path joined by '.'>`. */
  bulkDataUri?: (path: BulkDataPath) => string;
}

export const DEFAULT_BULK_DATA_THRESHOLD = 1024;

const PERSON_NAME_GROUPS = ['Alphabetic', 'Ideographic', 'Phonetic'] as const;
/** Bytes per word of the binary VRs whose values a big endian file stores byte-swapped. */
const WORD_SIZES: Record<string, number> = { OW: 2, OF: 4, OL: 4, OD: 8, OV: 8 };
const TAG_PATTERN = /^[0-9A-Fa-f]{8}$/;
const INDEX_PATTERN = /^(?:0|[1-9]\d{0,8})$/;

/** How an element is written: a sequence, a binary value (inline or bulk) or a list of values. */
type Resolved =
  | { kind: 'sequence'; items: Element[]; itemContext: DatasetContext }
  | { kind: 'binary'; vr: string; encapsulated: boolean }
  | { kind: 'values'; vr: string };

/** Group 0002 is the file meta header, not the dataset, and group lengths are retired: F.2.2 leaves both out. */
function isExcluded(tagHex: string): boolean {
  return tagHex.startsWith('0002') || tagHex.endsWith('0000');
}

/** The elements of one dataset that are attributes, by tag ("xggggeeee"), in tag order. */
function attributeEntries(dataSet: DataSet, datasetStart: number): Array<[string, Element]> {
  const entries: Array<[string, Element]> = [];
  // Tags are "xggggeeee" of fixed width, so string order is tag order.
  for (const tag of Object.keys(dataSet.elements).sort()) {
    const element = dataSet.elements[tag];
    // Like attributes.ts: skip dicom-parser's synthetic elements, item delimiters and preamble ghosts.
    if (!element || typeof element.dataOffset !== 'number' || tag.startsWith('xfffe')) continue;
    if (element.dataOffset < datasetStart) continue;
    if (isExcluded(tag.slice(1).toUpperCase())) continue;
    entries.push([tag, element]);
  }
  return entries;
}

function resolve(tagHex: string, element: Element, dataSet: DataSet, context: DatasetContext): Resolved {
  const vr = resolveVr(tagHex, element, describeTag(tagHex), dataSet, context);
  const isPixelData = PIXEL_DATA_TAGS.includes(element.tag);
  if (vr === 'SQ') {
    if (!element.items && element.length === 0) return { kind: 'sequence', items: [], itemContext: context };
    let items = element.items;
    // UN or private values of undefined length hold an implicit VR sequence that dicom-parser did not keep.
    if (!items && (element.hadUndefinedLength || startsWithItemTag(dataSet, element)))
      items = readImplicitSequence(dataSet, element);
    // Bytes that do not read as a sequence are still data: hand them out as UN rather than drop them.
    if (!items) return { kind: 'binary', vr: 'UN', encapsulated: false };
    const viaUn = !element.items || element.vr === 'UN';
    return {
      kind: 'sequence',
      items,
      itemContext: viaUn ? { ...context, implicitVr: true, littleEndian: true } : context,
    };
  }
  // Encapsulated (compressed) Pixel Data is a sequence of fragments, always OB (PS3.5 A.4).
  if (isPixelData && element.hadUndefinedLength) return { kind: 'binary', vr: 'OB', encapsulated: true };
  if (BINARY_VRS.has(vr) || isPixelData) return { kind: 'binary', vr, encapsulated: false };
  return { kind: 'values', vr };
}

function copySwapped(bytes: Uint8Array, wordSize: number): Uint8Array {
  const out = new Uint8Array(bytes.length - (bytes.length % wordSize));
  for (let word = 0; word < out.length; word += wordSize)
    for (let i = 0; i < wordSize; i++) out[word + i] = bytes[word + wordSize - 1 - i]!;
  return out;
}

/** Fragments of encapsulated Pixel Data, read from the items when dicom-parser did not list them (truncated file). */
function fragmentRanges(dataSet: DataSet, element: Element): Array<{ position: number; length: number }> {
  if (element.fragments) return element.fragments;
  const bytes = dataSet.byteArray;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ranges: Array<{ position: number; length: number }> = [];
  let at = element.dataOffset;
  let first = true;
  while (at + 8 <= bytes.length && view.getUint16(at, true) === 0xfffe && view.getUint16(at + 2, true) === 0xe000) {
    const length = view.getUint32(at + 4, true);
    // The first item is the Basic Offset Table, not pixel data.
    if (!first) ranges.push({ position: at + 8, length });
    first = false;
    at += 8 + length;
  }
  return ranges;
}

function encapsulatedBytes(dataSet: DataSet, element: Element): Uint8Array {
  const all = dataSet.byteArray;
  const pieces = fragmentRanges(dataSet, element).map((f) =>
    all.subarray(Math.min(f.position, all.length), Math.min(f.position + f.length, all.length)),
  );
  const out = new Uint8Array(pieces.reduce((n, piece) => n + piece.length, 0));
  let at = 0;
  for (const piece of pieces) {
    out.set(piece, at);
    at += piece.length;
  }
  return out;
}

/** A binary value's bytes, little endian (bulk data and InlineBinary are little endian whatever the file's order). */
function binaryBytes(
  dataSet: DataSet,
  element: Element,
  resolved: { vr: string; encapsulated: boolean },
  context: DatasetContext,
): Uint8Array {
  if (resolved.encapsulated) return encapsulatedBytes(dataSet, element);
  const { bytes } = elementBytes(dataSet, element);
  const wordSize = WORD_SIZES[resolved.vr];
  return !context.littleEndian && wordSize ? copySwapped(bytes, wordSize) : bytes;
}

function personName(value: AttributeScalar): Record<string, string> | null {
  if (typeof value !== 'string') return null;
  const name: Record<string, string> = {};
  value.split('=').forEach((group, i) => {
    const key = PERSON_NAME_GROUPS[i];
    if (key && group !== '') name[key] = group;
  });
  return Object.keys(name).length > 0 ? name : null;
}

function asList<T>(value: T | T[] | null): T[] {
  if (value === null) return [];
  return Array.isArray(value) ? value : [value];
}

function values(tagHex: string, vr: string, bytes: Uint8Array, context: DatasetContext): unknown[] {
  if (bytes.length === 0) return [];
  // Strings are trimmed per PS3.5 padding rules, split at "\" (not ST LT UT UR), decoded with the
  // charset, and DS/IS become numbers; a DS/IS that is not a valid number stays a string (F.2.3 allows it).
  if (TEXT_VRS.has(vr)) {
    const list = asList(textValue(bytes, vr, context.charset));
    return vr === 'PN' ? list.map(personName) : list;
  }
  if (vr === 'AT') return asList(attributeTags(bytes, context.littleEndian)).map((t) => String(t).replace(',', ''));
  // US SS UL SL FL FD as numbers, UV SV beyond 2^53 as strings; NaN and Infinity as strings (JSON has none).
  return asList(binaryNumbers(bytes, vr, context.littleEndian, tagHex));
}

interface Encoder {
  readonly threshold: number;
  readonly bulkDataUri: (path: BulkDataPath) => string;
}

function encodeElement(
  tagHex: string,
  element: Element,
  dataSet: DataSet,
  context: DatasetContext,
  path: BulkDataPath,
  encoder: Encoder,
): DicomJsonAttribute {
  const resolved = resolve(tagHex, element, dataSet, context);
  if (resolved.kind === 'sequence') {
    // Beyond the cap (hostile input) the items are left out: the attribute keeps its VR but shows no Value.
    if (resolved.items.length === 0 || context.depth >= MAX_SEQUENCE_DEPTH) return { vr: 'SQ' };
    const itemContext = { ...resolved.itemContext, depth: context.depth + 1 };
    return {
      vr: 'SQ',
      Value: resolved.items.map((item, index) =>
        item.dataSet ? encodeDataSet(item.dataSet, itemContext, [...path, index], encoder, 0) : {},
      ),
    };
  }
  if (resolved.kind === 'binary') {
    const isPixelData = PIXEL_DATA_TAGS.includes(element.tag);
    // The encapsulated length counts item headers too: enough to tell empty from not, and pixel data is bulk anyway.
    const length = resolved.encapsulated ? element.length : elementBytes(dataSet, element).bytes.length;
    if (length === 0) return { vr: resolved.vr };
    if (isPixelData || length > encoder.threshold) return { vr: resolved.vr, BulkDataURI: encoder.bulkDataUri(path) };
    const bytes = binaryBytes(dataSet, element, resolved, context);
    return {
      vr: resolved.vr,
      InlineBinary: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('base64'),
    };
  }
  if (tagHex === TAG_HEX.SpecificCharacterSet) {
    // Every string in this JSON is decoded to Unicode (JSON text is UTF-8), so the source charset no longer
    // describes the values: a client re-encoding this JSON as DICOM must treat them as UTF-8.
    return { vr: resolved.vr, Value: ['ISO_IR 192'] };
  }
  const list = values(tagHex, resolved.vr, elementBytes(dataSet, element).bytes, context);
  return list.length > 0 ? { vr: resolved.vr, Value: list } : { vr: resolved.vr };
}

function encodeDataSet(
  dataSet: DataSet,
  inherited: DatasetContext,
  path: BulkDataPath,
  encoder: Encoder,
  datasetStart: number,
): DicomJsonDataset {
  const context = contextFor(dataSet, inherited);
  const out: DicomJsonDataset = {};
  for (const [tag, element] of attributeEntries(dataSet, datasetStart)) {
    const tagHex = tag.slice(1).toUpperCase();
    out[tagHex] = encodeElement(tagHex, element, dataSet, context, [...path, tagHex], encoder);
  }
  return out;
}

/**
 * The dataset (file meta group left out) in the DICOM JSON Model. Keys are inserted in tag order, but
 * JavaScript lists all-digit keys such as "52009230" first: serialise with stringifyDicomJson.
 */
export function toDicomJson(parsed: ParsedDicom, options: DicomJsonOptions = {}): DicomJsonDataset {
  const encoder: Encoder = {
    threshold: options.bulkDataThreshold ?? DEFAULT_BULK_DATA_THRESHOLD,
    // One path segment (`bulkdata/00540016.0.00181072`): the WADO-RS bulk data route's {path} cannot hold a slash.
    bulkDataUri: options.bulkDataUri ?? ((path) => `bulkdata/${path.join('.')}`),
  };
  return encodeDataSet(parsed.dataSet, rootContext(parsed), [], encoder, datasetStartOf(parsed));
}

function isBulkDataPath(path: BulkDataPath): boolean {
  if (path.length % 2 === 0 || path.length > 2 * MAX_SEQUENCE_DEPTH + 1) return false;
  return path.every((part, i) =>
    i % 2 === 0
      ? typeof part === 'string' && TAG_PATTERN.test(part)
      : typeof part === 'number' && Number.isSafeInteger(part) && part >= 0,
  );
}

/**
 * The raw bytes of the bulk value at `path` (little-endian as stored for native; for encapsulated Pixel
 * Data the fragments' bytes concatenated), or undefined if there is none. Native values of a little
 * endian file are a view into the file's bytes, not a copy.
 */
export function bulkDataBytes(parsed: ParsedDicom, path: BulkDataPath): Uint8Array | undefined {
  if (!isBulkDataPath(path)) return undefined;
  let dataSet = parsed.dataSet;
  let inherited = rootContext(parsed);
  let datasetStart = datasetStartOf(parsed);
  for (let i = 0; i < path.length; i += 2) {
    const tagHex = (path[i] as string).toUpperCase();
    const tag = `x${tagHex.toLowerCase()}`;
    const element = attributeEntries(dataSet, datasetStart).find(([t]) => t === tag)?.[1];
    if (!element) return undefined;
    const context = contextFor(dataSet, inherited);
    const resolved = resolve(tagHex, element, dataSet, context);
    if (i === path.length - 1)
      return resolved.kind === 'binary' ? binaryBytes(dataSet, element, resolved, context) : undefined;
    if (resolved.kind !== 'sequence' || context.depth >= MAX_SEQUENCE_DEPTH) return undefined;
    const item = resolved.items[path[i + 1] as number];
    if (!item?.dataSet) return undefined;
    dataSet = item.dataSet;
    inherited = { ...resolved.itemContext, depth: context.depth + 1 };
    datasetStart = 0;
  }
  return undefined;
}

/** Parses a path as it appears in our BulkDataURIs ('7FE00010' or '00540016/0/00181072') -> BulkDataPath; undefined if malformed. */
export function parseBulkDataPath(text: string): BulkDataPath | undefined {
  const parts = text.split('/');
  if (parts.length % 2 === 0 || parts.length > 2 * MAX_SEQUENCE_DEPTH + 1) return undefined;
  const path: BulkDataPath = [];
  for (const [i, part] of parts.entries()) {
    if (i % 2 === 0) {
      if (!TAG_PATTERN.test(part)) return undefined;
      path.push(part.toUpperCase());
    } else {
      if (!INDEX_PATTERN.test(part)) return undefined;
      path.push(Number(part));
    }
  }
  return path;
}

/** Picks the attributes with the given tags (upper-case 8 hex) from a dataset, in tag order. */
export function pickAttributes(dataset: DicomJsonDataset, tags: Iterable<string>): DicomJsonDataset {
  const out: DicomJsonDataset = {};
  for (const tag of [...new Set(tags)].sort()) {
    // Object.hasOwn: a tag list from a request must not reach inherited properties such as "constructor".
    const attribute = Object.hasOwn(dataset, tag) ? dataset[tag] : undefined;
    if (attribute) out[tag] = attribute;
  }
  return out;
}

function writeJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : writeJson(v))).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const members = Object.keys(record)
      .sort()
      .filter((key) => record[key] !== undefined)
      .map((key) => `${JSON.stringify(key)}:${writeJson(record[key])}`);
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * JSON text of one dataset or a list of them with every object's keys in ascending order, as F.2.2
 * requires. JSON.stringify cannot do it: it puts integer-like keys ("30060020", "52009230") first.
 */
export function stringifyDicomJson(value: DicomJsonDataset | DicomJsonDataset[]): string {
  return writeJson(value);
}
