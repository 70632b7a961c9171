// Turns a parsed DICOM dataset into the API's attribute JSON, the record's dicom_info and summary fields.
import dicomParser from 'dicom-parser';
import type { DataSet, Element } from 'dicom-parser';
import { characterSetFromValue, decodeTextValues, type CharacterSet } from './charset.js';
import { lookupTag, tagForKeyword } from './dictionary.js';
import { AttributeNotFound, InvalidTag } from './errors.js';
import type { DicomInfo } from './model.js';
import type { PrivateDictionary } from './private-dictionary.js';
import type { ParsedDicom } from './parse.js';
import { PIXEL_DATA_TAGS, TAG_HEX, TAGS } from './tags.js';
import { TRANSFER_SYNTAX } from './uids.js';

export type AttributeScalar = string | number | null;
/** One sequence item: attributes keyed "GGGG,EEEE", like the top level. */
export type AttributeItem = { [tag: string]: AttributeJson };
export type AttributeValue = AttributeScalar | AttributeScalar[] | AttributeItem[];

export interface AttributeJson {
  /**
   * PS3.6 name; null for a public tag the dictionary does not know (reported, not invented). A private data element
   * has the private dictionary's name ("DisplayFieldOfView"), or "Private tag data" when the dictionary lacks it.
   */
  name: string | null;
  vr: string;
  keyword: string | null;
  /** The private creator (PS3.5 7.8.1) whose block holds this private data element, when the file names one. */
  privateCreator?: string;
  value: AttributeValue;
  /** Byte count of a value that is not inlined (binary VRs, Pixel Data, sequences cut off by depth). */
  length?: number;
  /** Why a value is incomplete or not decoded (truncated file, nesting too deep, bytes that do not fit the VR). */
  note?: string;
}

export interface BuildAttributesOptions {
  /** Names and VRs of well-known private data elements (loadPrivateDictionary); without it they stay "Private tag data". */
  privateDictionary?: PrivateDictionary;
}

export interface AttributesDocument {
  /** Number of top-level keys in `attributes` (file meta group included). */
  count: number;
  attributes: Record<string, AttributeJson>;
}

export interface SummaryFields {
  sopInstanceUid: string | null;
  sopClassUid: string | null;
  studyInstanceUid: string | null;
  seriesInstanceUid: string | null;
  transferSyntaxUid: string | null;
  numberOfFrames: number | null;
}

/** Sequences nested deeper than this are reported with their length instead of their items. */
export const MAX_SEQUENCE_DEPTH = 64;

const VALID_VRS = new Set(
  'AE AS AT CS DA DS DT FD FL IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM UC UI UL UN UR US UT UV'.split(' '),
);
const TEXT_VRS = new Set('AE AS CS DA DS DT IS LO LT PN SH ST TM UC UI UR UT'.split(' '));
/** Text VRs whose leading spaces are significant (PS3.5 Table 6.2-1). */
const TEXT_KEEP_LEADING = new Set(['ST', 'LT', 'UT']);
const BINARY_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'UN']);

/** PS3.6 Table 7-1: the file meta elements, which the data dictionary package (Table 6-1 only) lacks. */
const FILE_META_ELEMENTS: Record<string, { name: string; keyword: string; vr: string }> = {
  '00020000': { name: 'File Meta Information Group Length', keyword: 'FileMetaInformationGroupLength', vr: 'UL' },
  '00020001': { name: 'File Meta Information Version', keyword: 'FileMetaInformationVersion', vr: 'OB' },
  '00020002': { name: 'Media Storage SOP Class UID', keyword: 'MediaStorageSOPClassUID', vr: 'UI' },
  '00020003': { name: 'Media Storage SOP Instance UID', keyword: 'MediaStorageSOPInstanceUID', vr: 'UI' },
  '00020010': { name: 'Transfer Syntax UID', keyword: 'TransferSyntaxUID', vr: 'UI' },
  '00020012': { name: 'Implementation Class UID', keyword: 'ImplementationClassUID', vr: 'UI' },
  '00020013': { name: 'Implementation Version Name', keyword: 'ImplementationVersionName', vr: 'SH' },
  '00020016': { name: 'Source Application Entity Title', keyword: 'SourceApplicationEntityTitle', vr: 'AE' },
  '00020017': { name: 'Sending Application Entity Title', keyword: 'SendingApplicationEntityTitle', vr: 'AE' },
  '00020018': { name: 'Receiving Application Entity Title', keyword: 'ReceivingApplicationEntityTitle', vr: 'AE' },
  '00020026': { name: 'Source Presentation Address', keyword: 'SourcePresentationAddress', vr: 'UR' },
  '00020027': { name: 'Sending Presentation Address', keyword: 'SendingPresentationAddress', vr: 'UR' },
  '00020028': { name: 'Receiving Presentation Address', keyword: 'ReceivingPresentationAddress', vr: 'UR' },
  '00020031': { name: 'RTV Meta Information Version', keyword: 'RTVMetaInformationVersion', vr: 'OB' },
  '00020032': { name: 'RTV Communication SOP Class UID', keyword: 'RTVCommunicationSOPClassUID', vr: 'UI' },
  '00020033': { name: 'RTV Communication SOP Instance UID', keyword: 'RTVCommunicationSOPInstanceUID', vr: 'UI' },
  '00020035': { name: 'RTV Source Identifier', keyword: 'RTVSourceIdentifier', vr: 'OB' },
  '00020036': { name: 'RTV Flow Identifier', keyword: 'RTVFlowIdentifier', vr: 'OB' },
  '00020037': { name: 'RTV Flow RTP Sampling Rate', keyword: 'RTVFlowRTPSamplingRate', vr: 'UL' },
  '00020038': { name: 'RTV Flow Actual Frame Duration', keyword: 'RTVFlowActualFrameDuration', vr: 'FD' },
  '00020100': { name: 'Private Information Creator UID', keyword: 'PrivateInformationCreatorUID', vr: 'UI' },
  '00020102': { name: 'Private Information', keyword: 'PrivateInformation', vr: 'OB' },
};
const FILE_META_BY_KEYWORD = new Map(Object.entries(FILE_META_ELEMENTS).map(([tag, e]) => [e.keyword, tag]));

/** "US or SS" elements (PS3.6): SS when Pixel Representation is 1. */
const US_OR_SS_TAGS = new Set(
  (
    '00189810 00221452 00280071 00280104 00280105 00280106 00280107 00280108 00280109 00280110 00280111 ' +
    '00280120 00280121 00281100 00281101 00281102 00281103 00281111 00281112 00281113 00283002 00409211 ' +
    '00409216 00603004 00603006'
  ).split(' '),
);
/** LUT descriptors: the entry count and bit depth are always unsigned, only the first mapped value follows Pixel Representation. */
const LUT_DESCRIPTOR_TAGS = new Set(
  '00281100 00281101 00281102 00281103 00281111 00281112 00281113 00283002'.split(' '),
);

interface Context {
  readonly charset: CharacterSet;
  /** True when element VRs are not in the bytes (implicit VR dataset, or items of a UN sequence). */
  readonly implicitVr: boolean;
  readonly littleEndian: boolean;
  readonly pixelRepresentation: number | undefined;
  readonly depth: number;
  readonly privateDictionary?: PrivateDictionary | undefined;
}

interface TagDescription {
  name: string | null;
  keyword: string | null;
  /** The VR the dictionary gives, undefined for unknown and (without the private dictionary) private data elements. */
  dictionaryVr: string | undefined;
  /** A private data element's creator, when its block has one. */
  privateCreator?: string;
  /** True when dictionaryVr comes from the private dictionary (a vendor's word, checked against the bytes). */
  privateVr?: boolean;
}

function describeTag(tagHex: string): TagDescription {
  const group = parseInt(tagHex.slice(0, 4), 16);
  const elementNumber = parseInt(tagHex.slice(4), 16);
  if (group % 2 === 1) {
    if (elementNumber >= 0x10 && elementNumber <= 0xff) {
      return { name: 'Private Creator', keyword: 'PrivateCreator', dictionaryVr: 'LO' };
    }
    if (elementNumber === 0) return { name: 'Group Length', keyword: '', dictionaryVr: 'UL' };
    return { name: 'Private tag data', keyword: '', dictionaryVr: undefined };
  }
  const meta = FILE_META_ELEMENTS[tagHex];
  if (meta) return { name: meta.name, keyword: meta.keyword, dictionaryVr: meta.vr };
  // Group lengths (gggg,0000) are retired and absent from the dictionary package.
  if (elementNumber === 0) return { name: 'Group Length', keyword: '', dictionaryVr: 'UL' };
  const entry = lookupTag(tagHex);
  if (entry)
    return { name: entry.name, keyword: entry.keyword, dictionaryVr: VALID_VRS.has(entry.vr) ? entry.vr : undefined };
  return { name: null, keyword: null, dictionaryVr: undefined };
}

/** The private creator of private data element (gggg,xxyy): the value of (gggg,00xx) in the same dataset (PS3.5 7.8.1). */
function privateCreatorOf(dataSet: DataSet, tagHex: string): string | undefined {
  const group = parseInt(tagHex.slice(0, 4), 16);
  const block = parseInt(tagHex.slice(4, 6), 16);
  // Odd groups 0001-0007 and FFFF are not private; (gggg,0000-0FFF) are no private data elements.
  if (group % 2 === 0 || group <= 0x0007 || group === 0xffff || block < 0x10) return undefined;
  const creator = dataSet.elements[`x${tagHex.slice(0, 4)}00${tagHex.slice(4, 6)}`.toLowerCase()];
  if (!creator || typeof creator.dataOffset !== 'number') return undefined;
  // Creator strings are LO; vendors write them in ASCII, and dcmtk compares them byte for byte.
  const text = latin1(elementBytes(dataSet, creator).bytes)
    .replace(/^ +/, '')
    .replace(/[ \0]+$/, '');
  return text === '' ? undefined : text;
}

/** describeTag, plus for a private data element its creator and, when the private dictionary knows it, its name and VR. */
function describeElement(tagHex: string, dataSet: DataSet, context: Context): TagDescription {
  const description = describeTag(tagHex);
  const privateCreator = privateCreatorOf(dataSet, tagHex);
  if (privateCreator === undefined) {
    // A public element newer than the main dictionary (or of the directory group 0004): named from its keyword.
    const standard = description.name === null ? context.privateDictionary?.standard(tagHex) : undefined;
    if (!standard) return description;
    return {
      name: standard.keyword.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2'),
      keyword: standard.keyword,
      dictionaryVr: VALID_VRS.has(standard.vr) ? standard.vr : undefined,
    };
  }
  const entry = context.privateDictionary?.lookup(
    privateCreator,
    parseInt(tagHex.slice(0, 4), 16),
    parseInt(tagHex.slice(4), 16),
  );
  if (!entry) return { ...description, privateCreator };
  const dictionaryVr = VALID_VRS.has(entry.vr) ? entry.vr : undefined;
  return {
    name: entry.name ?? description.name,
    // PS3.6 keywords are public: a private element's name is unique only together with its creator.
    keyword: description.keyword,
    dictionaryVr,
    privateCreator,
    privateVr: dictionaryVr !== undefined,
  };
}

const dataViews = new WeakMap<Uint8Array, DataView>();
function dataViewOf(bytes: Uint8Array): DataView {
  let view = dataViews.get(bytes);
  if (!view) {
    view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    dataViews.set(bytes, view);
  }
  return view;
}

function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
}

/** The bytes of an element that are really in the file (a truncated file may declare more). */
function elementBytes(dataSet: DataSet, element: Element): { bytes: Uint8Array; declared: number; truncated: boolean } {
  const all = dataSet.byteArray;
  const declared = element.length;
  const available = Math.max(0, Math.min(declared, all.length - element.dataOffset));
  return {
    bytes: all.subarray(element.dataOffset, element.dataOffset + available),
    declared,
    truncated: available < declared,
  };
}

/** Undefined-length binary values (encapsulated Pixel Data) end with a Sequence Delimitation Item that is not data. */
function binaryLength(dataSet: DataSet, element: Element, available: number): number {
  if (!element.hadUndefinedLength || available < 8) return available;
  const view = dataViewOf(dataSet.byteArray);
  const at = element.dataOffset + available - 8;
  const delimiter = view.getUint16(at, true) === 0xfffe && view.getUint16(at + 2, true) === 0xe0dd;
  return delimiter ? available - 8 : available;
}

function readUint16(dataSet: DataSet, tag: string, littleEndian: boolean, index = 0): number | undefined {
  const element = dataSet.elements[tag];
  if (!element || element.length < 2 * (index + 1) || element.dataOffset + 2 * (index + 1) > dataSet.byteArray.length)
    return undefined;
  return dataViewOf(dataSet.byteArray).getUint16(element.dataOffset + 2 * index, littleEndian);
}

/** The VR used to decode an element: the file's when it states one, else the dictionary's, resolved by context. */
function resolveVr(
  tagHex: string,
  element: Element,
  description: TagDescription,
  dataSet: DataSet,
  context: Context,
): string {
  if (element.items) return 'SQ';
  const fileVr = !context.implicitVr && element.vr && VALID_VRS.has(element.vr) ? element.vr : undefined;
  if (fileVr && fileVr !== 'UN') return fileVr;
  // Only a sequence (or encapsulated Pixel Data) may have undefined length (PS3.5 7.1.3): a private one is read as SQ.
  if (element.hadUndefinedLength && !PIXEL_DATA_TAGS.includes(element.tag)) return 'SQ';
  // Private data has no dictionary here, so it stays UN; a creator is always LO (PS3.5 7.8.1).
  const vr = description.dictionaryVr;
  if (!vr) return 'UN';
  if (US_OR_SS_TAGS.has(tagHex)) return context.pixelRepresentation === 1 ? 'SS' : 'US';
  if (tagHex === TAG_HEX.LUTData) {
    // LUT Data is US only for a one-entry LUT (PS3.3 C.11.1.1.1); otherwise OW.
    return readUint16(dataSet, TAGS.LUTDescriptor, context.littleEndian) === 1 ? 'US' : 'OW';
  }
  if (tagHex === TAG_HEX.GrayLookupTableData) return 'OW';
  // "OB or OW" entries: implicit VR encodes them as OW (PS3.5 A.1), and they are not inlined either way.
  if (vr === 'OB' && isObOrOw(tagHex)) return 'OW';
  return vr;
}

function isObOrOw(tagHex: string): boolean {
  if (['00143050', '00143070', '54000110', '54000112', '5400100A', '54001010', '7FE00010'].includes(tagHex))
    return true;
  const group = tagHex.slice(0, 2);
  const element = tagHex.slice(4);
  return (
    (group === '50' && (element === '200C' || element === '3000')) ||
    (group === '60' && element === '3000') ||
    (group === '7F' && element === '0010')
  );
}

const DS_PATTERN = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const IS_PATTERN = /^[+-]?\d+$/;

function trimText(text: string, vr: string): string {
  // Trailing NULs pad UIs (and appear in sloppy writers' other strings); spaces pad everything else.
  if (TEXT_KEEP_LEADING.has(vr)) return text.replace(/[ \0]+$/, '');
  const trimmed = text.replace(/^ +/, '').replace(/[ \0]+$/, '');
  // Empty trailing component groups ("DOE^JOHN=") carry nothing (PS3.5 6.2.1.1).
  return vr === 'PN' ? trimmed.replace(/(?:=[ ^]*)+$/, '') : trimmed;
}

function toNumberOrText(text: string, vr: string): string | number {
  if (vr === 'DS' && DS_PATTERN.test(text)) {
    const n = Number(text);
    if (Number.isFinite(n)) return n;
  }
  if (vr === 'IS' && IS_PATTERN.test(text)) {
    const n = Number(text);
    if (Number.isSafeInteger(n)) return n;
  }
  return text;
}

function singleOrArray(values: AttributeScalar[]): AttributeScalar | AttributeScalar[] {
  if (values.length === 0) return null;
  if (values.length === 1) return values[0] ?? null;
  return values;
}

function textValue(bytes: Uint8Array, vr: string, charset: CharacterSet): AttributeScalar | AttributeScalar[] {
  const values: AttributeScalar[] = [];
  let allEmpty = true;
  for (const raw of decodeTextValues(bytes, charset, vr)) {
    const text = trimText(raw, vr);
    if (text === '') {
      values.push(null);
      continue;
    }
    allEmpty = false;
    values.push(vr === 'DS' || vr === 'IS' ? toNumberOrText(text, vr) : text);
  }
  return allEmpty ? null : singleOrArray(values);
}

/** JSON has no NaN or Infinity: keep them visible as strings rather than letting them become null. */
function jsonNumber(n: number): number | string {
  return Number.isFinite(n) ? n : String(n);
}

const NUMBER_SIZES: Record<string, number> = { US: 2, SS: 2, UL: 4, SL: 4, FL: 4, FD: 8, UV: 8, SV: 8 };

function binaryNumbers(
  bytes: Uint8Array,
  vr: string,
  littleEndian: boolean,
  tagHex: string,
): AttributeScalar | AttributeScalar[] {
  const size = NUMBER_SIZES[vr] ?? 1;
  const count = Math.floor(bytes.length / size);
  const view = new DataView(bytes.buffer, bytes.byteOffset, count * size);
  const values: AttributeScalar[] = new Array<AttributeScalar>(count);
  for (let i = 0; i < count; i++) {
    const at = i * size;
    switch (vr) {
      case 'US':
        values[i] = view.getUint16(at, littleEndian);
        break;
      case 'SS':
        // A LUT descriptor's entry count and bit depth stay unsigned even when its VR is SS.
        values[i] =
          LUT_DESCRIPTOR_TAGS.has(tagHex) && i !== 1
            ? view.getUint16(at, littleEndian)
            : view.getInt16(at, littleEndian);
        break;
      case 'UL':
        values[i] = view.getUint32(at, littleEndian);
        break;
      case 'SL':
        values[i] = view.getInt32(at, littleEndian);
        break;
      case 'FL':
        values[i] = jsonNumber(view.getFloat32(at, littleEndian));
        break;
      case 'FD':
        values[i] = jsonNumber(view.getFloat64(at, littleEndian));
        break;
      default: {
        const big = vr === 'UV' ? view.getBigUint64(at, littleEndian) : view.getBigInt64(at, littleEndian);
        const n = Number(big);
        values[i] = Number.isSafeInteger(n) ? n : big.toString();
      }
    }
  }
  return singleOrArray(values);
}

function attributeTags(bytes: Uint8Array, littleEndian: boolean): AttributeScalar | AttributeScalar[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const values: AttributeScalar[] = [];
  for (let at = 0; at + 4 <= bytes.length; at += 4) {
    const group = view.getUint16(at, littleEndian).toString(16).toUpperCase().padStart(4, '0');
    const element = view
      .getUint16(at + 2, littleEndian)
      .toString(16)
      .toUpperCase()
      .padStart(4, '0');
    values.push(`${group},${element}`);
  }
  return singleOrArray(values);
}

/** VR lookup for sequences re-read from UN or private bytes: private data elements stay without VR. */
function implicitVrCallback(tag: string): string | undefined {
  const tagHex = tag.slice(1).toUpperCase();
  return parseInt(tagHex.slice(0, 4), 16) % 2 === 1 ? undefined : lookupTag(tagHex)?.vr;
}

/**
 * Reads a value as an implicit VR little endian sequence (how UN sequences are encoded, PS3.5 6.2.2),
 * or undefined when the bytes are not one.
 */
function readImplicitSequence(dataSet: DataSet, element: Element): Element[] | undefined {
  const end = Math.min(dataSet.byteArray.length, element.dataOffset + element.length);
  const stream = new dicomParser.ByteStream(
    dicomParser.littleEndianByteArrayParser,
    dataSet.byteArray.subarray(0, end),
    element.dataOffset,
  );
  const sequence: Element = {
    tag: element.tag,
    vr: 'SQ',
    length: element.hadUndefinedLength ? 0xffffffff : element.length,
    dataOffset: element.dataOffset,
  };
  try {
    // dicom-parser's typing says string, but it treats undefined as "VR unknown" (how parse.ts uses it too).
    dicomParser.readSequenceItemsImplicit(stream, sequence, implicitVrCallback as (tag: string) => string);
  } catch {
    return undefined;
  }
  return sequence.items;
}

function startsWithItemTag(dataSet: DataSet, element: Element): boolean {
  const bytes = dataSet.byteArray;
  const at = element.dataOffset;
  return (
    at + 4 <= bytes.length &&
    bytes[at] === 0xfe &&
    bytes[at + 1] === 0xff &&
    bytes[at + 2] === 0x00 &&
    bytes[at + 3] === 0xe0
  );
}

function sequenceValue(items: Element[], context: Context): AttributeItem[] | null {
  if (items.length === 0) return null;
  return items.map((item) => (item.dataSet ? convertDataSet(item.dataSet, context) : {}));
}

/** Text bytes hold no control characters but TAB, LF, FF, CR and ESC (PS3.5 6.1.3); NUL pads only at the end. */
function looksLikeText(bytes: Uint8Array): boolean {
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  for (let i = 0; i < end; i++) {
    const byte = bytes[i]!;
    if (byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0c && byte !== 0x0d && byte !== 0x1b) return false;
  }
  return true;
}

/** Bytes per value of the fixed-size VRs (AT included), undefined for the others. */
function valueSize(vr: string): number | undefined {
  return vr === 'AT' ? 4 : NUMBER_SIZES[vr];
}

/** Whether a value's bytes can be what a private dictionary's VR says (vendors' dictionaries are not always right). */
function fitsVr(bytes: Uint8Array, vr: string): boolean {
  const size = valueSize(vr);
  if (size) return bytes.length % size === 0;
  return TEXT_VRS.has(vr) ? looksLikeText(bytes) : true;
}

function convertElement(tag: string, element: Element, dataSet: DataSet, parent: Context): AttributeJson {
  const tagHex = tag.slice(1).toUpperCase();
  // The file meta group is always explicit VR little endian, whatever the dataset's transfer syntax.
  const context = tagHex.startsWith('0002') ? { ...parent, implicitVr: false, littleEndian: true } : parent;
  const description = describeElement(tagHex, dataSet, context);
  const vr = resolveVr(tagHex, element, description, dataSet, context);
  const base = {
    name: description.name,
    vr,
    keyword: description.keyword,
    ...(description.privateCreator !== undefined ? { privateCreator: description.privateCreator } : {}),
  };
  // The VR came from the private dictionary when the bytes state none (implicit VR) or only UN.
  const fileVr = !context.implicitVr && element.vr && VALID_VRS.has(element.vr) ? element.vr : 'UN';
  const fromPrivateDictionary = description.privateVr === true && fileVr === 'UN' && vr === description.dictionaryVr;

  if (vr === 'SQ') {
    if (!element.items && element.length === 0) return { ...base, value: null };
    let items = element.items;
    // UN or private values of undefined length hold an implicit VR sequence that dicom-parser did not keep.
    if (!items && (element.hadUndefinedLength || startsWithItemTag(dataSet, element)))
      items = readImplicitSequence(dataSet, element);
    if (!items)
      return {
        ...base,
        vr: element.vr && VALID_VRS.has(element.vr) ? element.vr : 'UN',
        value: null,
        length: element.length,
        note: 'sequence could not be decoded',
      };
    if (context.depth >= MAX_SEQUENCE_DEPTH) {
      return {
        ...base,
        value: null,
        length: element.length,
        note: `sequence nested deeper than ${MAX_SEQUENCE_DEPTH} levels; items not shown`,
      };
    }
    // Items of a sequence re-read from UN carry no VRs: resolve theirs from the dictionary.
    const viaUn = !element.items || element.vr === 'UN';
    const itemContext = viaUn ? { ...context, implicitVr: true, littleEndian: true } : context;
    // The parser's note on a sequence it read only in part (a file cut short, an item longer than its sequence).
    const parseNote = (element as Element & { note?: string }).note;
    return {
      ...base,
      value: sequenceValue(items, { ...itemContext, depth: context.depth + 1 }),
      ...(parseNote ? { note: parseNote } : {}),
    };
  }

  const { bytes, declared, truncated } = elementBytes(dataSet, element);
  const truncation = truncated ? `truncated: the file holds ${bytes.length} of ${declared} bytes` : undefined;
  const note = truncation ? { note: truncation } : {};
  if (BINARY_VRS.has(vr) || PIXEL_DATA_TAGS.includes(tag)) {
    return { ...base, value: null, length: binaryLength(dataSet, element, bytes.length), ...note };
  }
  if (fromPrivateDictionary && !fitsVr(bytes, vr)) {
    // Kept as bytes rather than shown as numbers or text they are not.
    const mismatch = `not decoded: these ${bytes.length} bytes do not fit the private dictionary's VR ${vr}`;
    return { ...base, vr: 'UN', value: null, length: bytes.length, note: truncation ?? mismatch };
  }
  if (bytes.length === 0) return { ...base, value: null, ...note };
  if (TEXT_VRS.has(vr)) return { ...base, value: textValue(bytes, vr, context.charset), ...note };
  // Bytes past the last whole value (a malformed length) are said, not silently dropped.
  const leftover = bytes.length % (valueSize(vr) ?? 1);
  const numbersNote =
    truncation ??
    (leftover
      ? `the last ${leftover} of ${bytes.length} bytes do not make a whole ${vr} value and are not shown`
      : undefined);
  // A UN value is little endian whatever the transfer syntax (PS3.5 6.2.2): it was written as implicit VR.
  const littleEndian = !context.implicitVr && element.vr === 'UN' ? true : context.littleEndian;
  const numbers = vr === 'AT' ? attributeTags(bytes, littleEndian) : binaryNumbers(bytes, vr, littleEndian, tagHex);
  return { ...base, value: numbers, ...(numbersNote ? { note: numbersNote } : {}) };
}

/** The raw (0008,0005) value of a dataset, undefined when it has none. */
function specificCharacterSetOf(dataSet: DataSet): string | undefined {
  const element = dataSet.elements[TAGS.SpecificCharacterSet];
  if (!element) return undefined;
  return latin1(elementBytes(dataSet, element).bytes).replace(/[ \0]+$/, '');
}

/** The context a dataset's own elements are read in: nested items inherit what they do not redefine. */
function contextFor(dataSet: DataSet, inherited: Context): Context {
  const charset = dataSet.elements[TAGS.SpecificCharacterSet]
    ? characterSetFromValue(specificCharacterSetOf(dataSet))
    : inherited.charset;
  const pixelRepresentation = dataSet.elements[TAGS.PixelRepresentation]
    ? readUint16(dataSet, TAGS.PixelRepresentation, inherited.littleEndian)
    : inherited.pixelRepresentation;
  if (charset === inherited.charset && pixelRepresentation === inherited.pixelRepresentation) return inherited;
  return { ...inherited, charset, pixelRepresentation };
}

function convertDataSet(dataSet: DataSet, inherited: Context, datasetStart = 0): AttributeItem {
  const context = contextFor(dataSet, inherited);
  const out: AttributeItem = {};
  // Tags are "xggggeeee" of fixed width, so string order is tag order.
  for (const tag of Object.keys(dataSet.elements).sort()) {
    const element = dataSet.elements[tag];
    // dicom-parser adds a synthetic Transfer Syntax element (no offset) to bare datasets, and keeps
    // item delimiters (FFFE,E00D) as elements of undefined-length items: neither is an attribute.
    if (!element || typeof element.dataOffset !== 'number' || tag.startsWith('xfffe')) continue;
    if (element.dataOffset < datasetStart && !tag.startsWith('x0002')) continue;
    out[`${tag.slice(1, 5).toUpperCase()},${tag.slice(5, 9).toUpperCase()}`] = convertElement(
      tag,
      element,
      dataSet,
      context,
    );
  }
  return out;
}

/**
 * Where the dataset proper starts: nothing but file meta can precede the end of the meta group.
 * dicom-parser re-reads a deflated file's inflated copy from byte 0 and so invents elements out of
 * the preamble and "DICM" (seen as (0000,0000), (4944,4D43), (4C55,0004)); this drops them.
 */
function datasetStartOf(parsed: ParsedDicom): number {
  if (!parsed.hasMeta) return 0;
  let end = 0;
  for (const [tag, element] of Object.entries(parsed.dataSet.elements)) {
    if (tag.startsWith('x0002') && typeof element.dataOffset === 'number')
      end = Math.max(end, element.dataOffset + element.length);
  }
  return end;
}

function rootContext(parsed: ParsedDicom, privateDictionary?: PrivateDictionary): Context {
  return {
    charset: characterSetFromValue(undefined),
    implicitVr: parsed.transferSyntaxUid === TRANSFER_SYNTAX.ImplicitVRLittleEndian,
    littleEndian: parsed.transferSyntaxUid !== TRANSFER_SYNTAX.ExplicitVRBigEndian,
    pixelRepresentation: undefined,
    depth: 0,
    privateDictionary,
  };
}

/** All attributes of a parsed file, file meta group included, in the API's JSON form. */
export function buildAttributes(parsed: ParsedDicom, options: BuildAttributesOptions = {}): AttributesDocument {
  const context = rootContext(parsed, options.privateDictionary);
  const attributes = convertDataSet(parsed.dataSet, context, datasetStartOf(parsed));
  return { count: Object.keys(attributes).length, attributes };
}

/** A top-level text attribute, decoded and trimmed, all values joined by "\"; null when absent or empty. */
function topLevelText(parsed: ParsedDicom, tag: string, vr: string): string | null {
  const element = parsed.dataSet.elements[tag];
  if (!element || typeof element.dataOffset !== 'number') return null;
  const charset = characterSetFromValue(specificCharacterSetOf(parsed.dataSet));
  const values = decodeTextValues(elementBytes(parsed.dataSet, element).bytes, charset, vr).map((v) => trimText(v, vr));
  const text = values.join('\\');
  return values.every((v) => v === '') ? null : text;
}

/** The record's dicom_info: the identifying attributes, and the image size when the object has pixel data. */
export function dicomInfo(parsed: ParsedDicom): DicomInfo {
  const { dataSet } = parsed;
  const littleEndian = rootContext(parsed).littleEndian;
  const rows = readUint16(dataSet, TAGS.Rows, littleEndian);
  const columns = readUint16(dataSet, TAGS.Columns, littleEndian);
  // A file cut inside Pixel Data has an image even when dicom-parser dropped the element (rendering: truncated).
  const hasPixels = parsed.truncatedPixelData || PIXEL_DATA_TAGS.some((tag) => dataSet.elements[tag]);
  return {
    PatientName: topLevelText(parsed, TAGS.PatientName, 'PN'),
    PatientID: topLevelText(parsed, TAGS.PatientID, 'LO'),
    StudyDate: topLevelText(parsed, TAGS.StudyDate, 'DA'),
    StudyDescription: topLevelText(parsed, TAGS.StudyDescription, 'LO'),
    Modality: topLevelText(parsed, TAGS.Modality, 'CS'),
    ImageDimensions: hasPixels && rows && columns ? { rows, columns } : null,
  };
}

/** More record fields: identifying UIDs, the transfer syntax and the frame count (null when absent). */
export function summaryFields(parsed: ParsedDicom): SummaryFields {
  // The meta group repeats the SOP class and instance: use it when the dataset lacks them.
  const uid = (tag: string, metaTag?: string): string | null =>
    topLevelText(parsed, tag, 'UI') ?? (metaTag ? topLevelText(parsed, metaTag, 'UI') : null);
  const frames = topLevelText(parsed, TAGS.NumberOfFrames, 'IS');
  const numberOfFrames = frames !== null && IS_PATTERN.test(frames) ? Number(frames) : null;
  return {
    sopInstanceUid: uid(TAGS.SOPInstanceUID, TAGS.MediaStorageSOPInstanceUID),
    sopClassUid: uid(TAGS.SOPClassUID, TAGS.MediaStorageSOPClassUID),
    studyInstanceUid: uid(TAGS.StudyInstanceUID),
    seriesInstanceUid: uid(TAGS.SeriesInstanceUID),
    transferSyntaxUid: parsed.transferSyntaxUid || null,
    numberOfFrames,
  };
}

const ACCEPTED_TAG_FORMS = 'GGGG,EEEE, (GGGG,EEEE) or GGGGEEEE in hexadecimal, or a keyword such as PatientName';

/** Normalises a `?tag=` query to "GGGG,EEEE"; throws InvalidTag for anything it cannot read. */
export function parseTagQuery(query: string): string {
  const text = query.trim();
  const match =
    /^\(\s*([0-9a-f]{4})\s*,\s*([0-9a-f]{4})\s*\)$/i.exec(text) ??
    /^([0-9a-f]{4})\s*,\s*([0-9a-f]{4})$/i.exec(text) ??
    /^([0-9a-f]{4})([0-9a-f]{4})$/i.exec(text);
  if (match) return `${match[1]!.toUpperCase()},${match[2]!.toUpperCase()}`;
  if (/^[A-Za-z][A-Za-z0-9]*$/.test(text)) {
    const hex = FILE_META_BY_KEYWORD.get(text) ?? tagForKeyword(text);
    if (hex) return `${hex.slice(0, 4)},${hex.slice(4)}`;
    throw new InvalidTag(`"${text.slice(0, 64)}" is not a DICOM keyword; tag must be ${ACCEPTED_TAG_FORMS}`);
  }
  const shown = text.length > 64 ? `${text.slice(0, 64)}...` : text;
  throw new InvalidTag(`tag must be ${ACCEPTED_TAG_FORMS}; got "${shown}"`);
}

/** One top-level attribute for `?tag=`: InvalidTag for a malformed query, AttributeNotFound when the file lacks it. */
export function findAttribute(doc: AttributesDocument, tagQuery: string): { tag: string; attribute: AttributeJson } {
  const tag = parseTagQuery(tagQuery);
  const attribute = doc.attributes[tag];
  if (!attribute) {
    const keyword = describeTag(tag.replace(',', '')).keyword;
    throw new AttributeNotFound(`this file has no attribute (${tag})${keyword ? ` ${keyword}` : ''}`);
  }
  return { tag, attribute };
}

// Shared with the DICOM JSON encoder (dicom-json.ts), which walks datasets with the same rules.
export type { Context as DatasetContext };
export {
  attributeTags,
  binaryNumbers,
  BINARY_VRS,
  contextFor,
  datasetStartOf,
  describeTag,
  elementBytes,
  readImplicitSequence,
  resolveVr,
  rootContext,
  startsWithItemTag,
  textValue,
  TEXT_VRS,
  VALID_VRS,
};
