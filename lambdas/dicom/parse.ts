// Parses DICOM bytes (Part 10 or bare dataset, any transfer syntax) with dicom-parser, defensively.
import { inflateRawSync } from 'node:zlib';
import dicomParser from 'dicom-parser';
import type { ByteArrayParser, DataSet, Element } from 'dicom-parser';
import { lookupTag, vrForTag } from './dictionary.js';
import { InflatedTooLarge, NotDicom } from './errors.js';
import { PIXEL_DATA_TAGS, TAGS } from './tags.js';
import { itemRunsPastSequence, readDataSetTolerant, type TolerantRead } from './tolerant-read.js';
import { TRANSFER_SYNTAX } from './uids.js';

/** A deflated dataset may not inflate past this (a zip bomb must not exhaust Lambda memory). */
export const MAX_INFLATED_BYTES = 512 * 1024 * 1024;

/** Real deflated DICOM inflates a few times over; a bomb inflates a thousand times. */
export const MAX_INFLATION_RATIO = 32;
/** Small deflated files may still hold a sparse image: this much is always allowed. */
const MIN_INFLATED_CAP_BYTES = 64 * 1024 * 1024;

/**
 * How far `deflatedBytes` may inflate: a small multiple of the input, and at most a quarter of the
 * function's memory (the inflated copy, the file with it and the parse all live at once).
 */
export function inflatedCapBytes(
  deflatedBytes: number,
  memoryMb = Number(process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE) || undefined,
): number {
  const byMemory = memoryMb ? Math.floor((memoryMb * 1024 * 1024) / 4) : MAX_INFLATED_BYTES;
  const byInput = Math.max(MIN_INFLATED_CAP_BYTES, deflatedBytes * MAX_INFLATION_RATIO);
  return Math.min(MAX_INFLATED_BYTES, byMemory, byInput);
}

export interface ParsedDicom {
  readonly dataSet: DataSet;
  readonly transferSyntaxUid: string;
  /** False for a bare dataset without the Part 10 preamble and meta header. */
  readonly hasMeta: boolean;
  /** Set when parsing stopped early inside Pixel Data (the header is complete, the image is not). */
  readonly truncatedPixelData: boolean;
  /**
   * Set when the file ends before its dataset does (inside Pixel Data or anywhere else): what was read before the cut
   * is kept, and the element the file ends in carries a note in the attributes.
   */
  readonly truncated?: boolean;
}

/** Float and double float pixel data: a file with either is read whole (see parseDicomHeader). */
const FLOAT_PIXEL_DATA_TAGS: readonly string[] = [TAGS.FloatPixelData, TAGS.DoubleFloatPixelData];
/** Where the image presentation group (0028,xxxx) starts, as a dicom-parser key. */
const GROUP_0028_START = 'x00280000';
const VALID_VRS = new Set(
  'AE AS AT CS DA DS DT FD FL IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM UC UI UL UN UR US UT UV'.split(' '),
);

function inflater(bytes: Uint8Array, position: number): Uint8Array {
  const cap = inflatedCapBytes(bytes.length - position);
  let inflated: Buffer;
  try {
    inflated = inflateRawSync(bytes.subarray(position), { maxOutputLength: cap });
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw new InflatedTooLarge(cap);
    throw error;
  }
  const full = new Uint8Array(position + inflated.length);
  full.set(bytes.subarray(0, position), 0);
  full.set(inflated, position);
  return full;
}

function vrCallback(tag: string): string | undefined {
  return vrForTag(tag.slice(1).toUpperCase());
}

function hasPart10Prefix(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 132 && bytes[128] === 0x44 && bytes[129] === 0x49 && bytes[130] === 0x43 && bytes[131] === 0x4d
  );
}

/**
 * The transfer syntax of a dataset starting at `position`, from its first element, as dcmtk decides
 * (DcmItem::checkTransferSyntax): explicit VR when the two bytes after the tag spell a VR, and big
 * endian when the group only makes sense byte-swapped ((0008,xxxx) written big endian reads 0x0800).
 * Implicit VR big endian was retired in 2004 and is not guessed.
 */
function inferTransferSyntax(bytes: Uint8Array, position: number): string {
  const vr = String.fromCharCode(bytes[position + 4] ?? 0, bytes[position + 5] ?? 0);
  if (!VALID_VRS.has(vr)) return TRANSFER_SYNTAX.ImplicitVRLittleEndian;
  const first = bytes[position] ?? 0;
  const second = bytes[position + 1] ?? 0;
  const groupIfLittle = first | (second << 8);
  const groupIfBig = (first << 8) | second;
  return groupIfLittle > 0xff && groupIfBig <= 0xff
    ? TRANSFER_SYNTAX.ExplicitVRBigEndian
    : TRANSFER_SYNTAX.ExplicitVRLittleEndian;
}

/** dicom-parser's DataSet class (its typings declare only the interface). */
const DataSetClass = (
  dicomParser as unknown as { DataSet: new (parser: unknown, bytes: Uint8Array, elements: object) => DataSet }
).DataSet;

/**
 * Reads the dataset from `position` to the end in `transferSyntaxUid` into `dataSet` (a fresh one by
 * default), as dicom-parser's parseDicom does; failures are thrown as `{ exception, dataSet }`, as it throws them.
 */
function readDataSetFrom(bytes: Uint8Array, position: number, transferSyntaxUid: string, dataSet?: DataSet): DataSet {
  const parser =
    transferSyntaxUid === TRANSFER_SYNTAX.ExplicitVRBigEndian
      ? dicomParser.bigEndianByteArrayParser
      : dicomParser.littleEndianByteArrayParser;
  const target = dataSet ?? Object.assign(new DataSetClass(parser, bytes, {}), { warnings: [] as string[] });
  const stream = new dicomParser.ByteStream(parser, bytes, position);
  try {
    if (transferSyntaxUid === TRANSFER_SYNTAX.ImplicitVRLittleEndian) {
      dicomParser.parseDicomDataSetImplicit(target, stream, bytes.length, { vrCallback } as unknown as {
        untilTag: string;
      });
    } else {
      dicomParser.parseDicomDataSetExplicit(target, stream, bytes.length);
    }
  } catch (exception) {
    throw { exception, dataSet: target };
  }
  return target;
}

/** The dictionary's VR for an element whose own VR is invalid; UN (decoded by the dictionary later) for "US or SS" and unknown tags. */
function dictionaryVr(tag: string): string {
  const vr = vrCallback(tag);
  return vr !== undefined && VALID_VRS.has(vr) ? vr : 'UN';
}

/** Two uppercase letters that name no VR: dcmtk reads these as a future VR, with the 4-byte length of PS3.5 7.1.2. */
function isUnknownUppercaseVr(vr: string | undefined): boolean {
  return vr !== undefined && /^[A-Z]{2}$/.test(vr) && !VALID_VRS.has(vr);
}

/**
 * Elements whose VR bytes name no VR (two spaces, two NULs, an unknown code) in an explicit VR dataset.
 * dcmtk warns and goes on ("Non-standard VR ... assuming 2 byte length field", DcmItem::readTagAndLength,
 * with DcmVR::setVR giving unknown uppercase pairs the 4-byte length of future VRs); so do we, and the
 * element takes its VR from the dictionary. dicom-parser reads every unknown VR with a 2-byte length, so
 * an uppercase one is re-read with the 4-byte length and the dataset read again from after its value.
 * Returns the dataset with every top-level element's VR valid; rethrows `failure` when there was nothing to repair.
 */
function repairInvalidVrs(bytes: Uint8Array, dataSet: DataSet, transferSyntaxUid: string, failure?: unknown): DataSet {
  for (let repairs = 0; ; repairs++) {
    const byOffset = Object.values(dataSet.elements)
      .filter((element) => typeof element.dataOffset === 'number' && !element.tag.startsWith('x0002'))
      .sort((a, b) => a.dataOffset - b.dataOffset);
    const longForm = byOffset.find((element) => isUnknownUppercaseVr(element.vr));
    for (const element of byOffset) {
      if (element === longForm) break;
      if (element.vr !== undefined && !VALID_VRS.has(element.vr)) element.vr = dictionaryVr(element.tag);
    }
    if (!longForm || repairs >= 64) {
      if (failure !== undefined) throw failure;
      return dataSet;
    }
    // dicom-parser read tag, VR and a 2-byte length (the reserved bytes): the 4-byte length follows them.
    const header = longForm.dataOffset - 8;
    if (header + 12 > bytes.length) throw failure ?? { exception: 'value past end of buffer', dataSet };
    for (const element of byOffset) if (element.dataOffset > header) delete dataSet.elements[element.tag];
    longForm.vr = dictionaryVr(longForm.tag);
    longForm.length = dataSet.byteArrayParser.readUint32(bytes, header + 8);
    longForm.dataOffset = header + 12;
    dataSet.elements[longForm.tag] = longForm;
    const next = longForm.dataOffset + longForm.length;
    if (next > bytes.length) throw failure ?? { exception: 'value past end of buffer', dataSet };
    failure = undefined;
    if (next === bytes.length) continue;
    try {
      readDataSetFrom(bytes, next, transferSyntaxUid, dataSet);
    } catch (error) {
      failure = error;
    }
  }
}

/** The text dicom-parser threw (it throws strings, Errors, or `{ exception, dataSet }`): for decisions, never for users. */
function libraryText(error: unknown): string {
  const inner =
    typeof error === 'object' && error !== null && 'exception' in error
      ? (error as { exception: unknown }).exception
      : error;
  return inner instanceof Error ? inner.message : String(inner);
}

/** What dicom-parser's failures mean, in our words: a library's message is never shown to the uploader. */
const LIBRARY_FAILURES: ReadonlyArray<readonly [RegExp, string]> = [
  [/call stack/i, 'sequences nested too deeply'], // RangeError: Maximum call stack size exceeded
  [/'position' cannot be greater/i, 'the file ends after its file meta header: it holds no dataset'],
  [/missing required meta header attribute 0002,0010/i, 'the file meta header has no Transfer Syntax UID'],
  [/basic offset table not found/i, 'encapsulated pixel data does not start with a Basic Offset Table item'],
  [
    /overrun|past end|end of buffer|beyond|exceeds/i,
    'the file ends inside an element: it is cut short, or an element declares more bytes than follow',
  ],
];

function describe(error: unknown): string {
  const text = libraryText(error);
  const known = LIBRARY_FAILURES.find(([pattern]) => pattern.test(text));
  return known ? known[1] : 'the dataset cannot be read: its element structure is malformed';
}

/**
 * A bare dataset "parses" from almost any bytes; accept it only when it looks like DICOM:
 * ascending tags, known standard elements, and the first element in a low group.
 */
function looksLikeBareDataset(dataSet: DataSet): boolean {
  // dicom-parser appends a synthetic meta element for bare datasets: judge only the dataset's own.
  const tags = Object.keys(dataSet.elements).filter((t) => !t.startsWith('x0002'));
  if (tags.length < 3) return false;
  const first = parseInt(tags[0]!.slice(1, 5), 16);
  if (first > 0x0010) return false;
  return ascendingAndMostlyStandard(tags, (tag) => lookupTag(tag.slice(1).toUpperCase()) !== undefined);
}

/** At least three tags, in strictly ascending order, more than half of them standard: a dataset, not garbage. */
function ascendingAndMostlyStandard(tags: readonly string[], isStandard: (tag: string) => boolean): boolean {
  if (tags.length < 3) return false;
  let known = 0;
  let previous = -1;
  for (const tag of tags) {
    const value = parseInt(tag.slice(1), 16);
    if (value <= previous) return false;
    previous = value;
    if (isStandard(tag)) known++;
  }
  return known >= 3 && known / tags.length > 0.5;
}

function partialDataSet(error: unknown): DataSet | undefined {
  if (typeof error === 'object' && error !== null && 'dataSet' in error) return (error as { dataSet: DataSet }).dataSet;
  return undefined;
}

/**
 * What a cut copy must hold whole to count as a DICOM file: a composite object's SOP Class and SOP Instance UID, or a
 * DICOMDIR's File-set ID (0004,1130).
 */
const IDENTIFYING_TAGS: ReadonlyArray<readonly string[]> = [[TAGS.SOPClassUID, TAGS.SOPInstanceUID], ['x00041130']];

/** A standard element: in the data dictionary (PS3.6 Table 6-1), or a DICOMDIR's directory element (group 0004, Table 8-1). */
function isStandardTag(tag: string): boolean {
  return tag.startsWith('x0004') || lookupTag(tag.slice(1).toUpperCase()) !== undefined;
}

/**
 * Is what was read before a fault enough to be a DICOM file? A file meta group, and top-level elements that are
 * real standard elements in ascending order (as a bare dataset must be), the identifying ones among them whole:
 * garbage, or a dataset misread in the wrong encoding, is not accepted as "cut short".
 */
function enoughBeforeFault(wholeTags: readonly string[], requireIdentifying: boolean): boolean {
  const tags = wholeTags.filter((t) => !t.startsWith('x0002'));
  if (!ascendingAndMostlyStandard(tags, isStandardTag)) return false;
  return !requireIdentifying || IDENTIFYING_TAGS.some((set) => set.every((tag) => tags.includes(tag)));
}

/** The file meta group (0002,xxxx) of a Part 10 file and where the dataset starts. */
type MetaGroup = DataSet & { position: number };

/**
 * Reads the file meta group after "DICM": explicit VR little endian elements of group 0002, ending at the first
 * element of another group. (dicom-parser's readPart10Header ends it only at a tag above (0002,FFFF), so a dataset
 * starting with a group below 0008, e.g. private group 0001, was swallowed into the meta group.) Throws dicom-parser's
 * errors when the group is cut short.
 */
function readPart10Meta(bytes: Uint8Array): MetaGroup {
  const parser = dicomParser.littleEndianByteArrayParser;
  const stream = new dicomParser.ByteStream(parser, bytes, 132);
  const elements: Record<string, Element> = {};
  const warnings: string[] = [];
  while (stream.position + 2 <= bytes.length && parser.readUint16(bytes, stream.position) === 0x0002) {
    const element = dicomParser.readDicomElementExplicit(stream, warnings);
    (element as Element & { parser?: ByteArrayParser }).parser = parser;
    elements[element.tag] = element;
  }
  const meta = new DataSetClass(parser, bytes, elements) as MetaGroup;
  return Object.assign(meta, { warnings, position: stream.position });
}

/** The meta group's Transfer Syntax UID, '' when absent or empty, undefined when cut short (refused later, in our words). */
function namedTransferSyntax(meta: DataSet): string | undefined {
  try {
    return meta.elements[TAGS.TransferSyntaxUID]
      ? (meta.string(TAGS.TransferSyntaxUID) ?? '').replace(/\0/g, '').trim()
      : '';
  } catch {
    return undefined;
  }
}

function mergeMeta(dataSet: DataSet, meta: DataSet): DataSet {
  for (const [tag, element] of Object.entries(meta.elements)) dataSet.elements[tag] = element;
  return dataSet;
}

/** Elements with invalid VR bytes are repaired in explicit VR datasets only; others pass through (or rethrow). */
function repairAfterParse(bytes: Uint8Array, dataSet: DataSet, readAs: string, failure?: unknown): DataSet {
  if (readAs === TRANSFER_SYNTAX.ImplicitVRLittleEndian) {
    if (failure !== undefined) throw failure;
    return dataSet;
  }
  return repairInvalidVrs(bytes, dataSet, readAs, failure);
}

const isImplicit = (transferSyntaxUid: string): boolean => transferSyntaxUid === TRANSFER_SYNTAX.ImplicitVRLittleEndian;

/**
 * How the dataset of a Part 10 file is encoded: the meta group's transfer syntax, unless it names none (inferred
 * from the dataset's first element, as pydicom and dcmtk do) or its first element says otherwise (explicit VR
 * declared, implicit VR written, or the reverse: the bytes are read as written, as pydicom does).
 */
function datasetEncoding(bytes: Uint8Array, meta: MetaGroup): { declared: string; readAs: string } {
  const named = namedTransferSyntax(meta);
  if (named === undefined) throw new NotDicom('the file meta header is cut short');
  if (meta.position >= bytes.length)
    throw new NotDicom('the file ends after its file meta header: it holds no dataset');
  const detected = inferTransferSyntax(bytes, meta.position);
  if (named === '') return { declared: detected, readAs: detected };
  if (named === TRANSFER_SYNTAX.DeflatedExplicitVRLittleEndian) return { declared: named, readAs: named };
  if (isImplicit(named) !== isImplicit(detected)) return { declared: named, readAs: detected };
  return {
    declared: named,
    readAs:
      named === TRANSFER_SYNTAX.ExplicitVRBigEndian
        ? named
        : isImplicit(named)
          ? named
          : TRANSFER_SYNTAX.ExplicitVRLittleEndian,
  };
}

/**
 * datasetEncoding, but a dataset read in another encoding than its meta group declares must then look like DICOM
 * (standard elements in ascending order): random bytes after a meta group are read as declared, as before.
 */
function datasetEncodingChecked(bytes: Uint8Array, meta: MetaGroup): { declared: string; readAs: string } {
  const encoding = datasetEncoding(bytes, meta);
  const { declared, readAs } = encoding;
  if (
    !declared ||
    isImplicit(declared) === isImplicit(readAs) ||
    declared === TRANSFER_SYNTAX.DeflatedExplicitVRLittleEndian
  )
    return encoding;
  let read: TolerantRead;
  try {
    read = readDataSetTolerant(bytes, meta.position, {
      parser: dicomParser.littleEndianByteArrayParser,
      implicit: isImplicit(readAs),
      vrCallback,
    });
  } catch {
    return { declared, readAs: declared };
  }
  return enoughBeforeFault(read.wholeTags, false) ? encoding : { declared, readAs: declared };
}

/**
 * Encapsulated Pixel Data in a dataset read as implicit VR (a file whose meta group says an encapsulated syntax but
 * whose dataset is written in implicit VR): dicom-parser's implicit reader does not list its fragments. They are read
 * here, as its explicit reader would.
 */
function listFragments(dataSet: DataSet): void {
  const element = dataSet.elements[TAGS.PixelData];
  if (!element?.hadUndefinedLength || element.fragments) return;
  const stream = new dicomParser.ByteStream(dataSet.byteArrayParser, dataSet.byteArray, element.dataOffset);
  const listed: Element = { ...element };
  try {
    dicomParser.findEndOfEncapsulatedElement(stream, listed, []);
  } catch {
    return;
  }
  Object.assign(element, listed);
}

/** True when an element's declared value runs past the end of the bytes (a file cut inside it). */
function runsPastEnd(element: Element, length: number): boolean {
  return !element.hadUndefinedLength && element.dataOffset + element.length > length;
}

/**
 * The dataset read tolerantly (tolerant-read.ts) after dicom-parser failed on it, when what comes before the fault is
 * enough to be a DICOM file; undefined otherwise (the caller refuses the file).
 */
function recoverDataSet(
  data: Uint8Array,
  position: number,
  encoding: string,
): { dataSet: DataSet; truncated: boolean; truncatedPixelData: boolean } | undefined {
  let recovered: TolerantRead;
  try {
    recovered = readDataSetTolerant(data, position, {
      parser:
        encoding === TRANSFER_SYNTAX.ExplicitVRBigEndian
          ? dicomParser.bigEndianByteArrayParser
          : dicomParser.littleEndianByteArrayParser,
      implicit: isImplicit(encoding),
      vrCallback,
    });
  } catch {
    return undefined;
  }
  if (!enoughBeforeFault(recovered.wholeTags, recovered.cut)) return undefined;
  const { cutTag, wholeTags } = recovered;
  const lastWhole = wholeTags[wholeTags.length - 1] ?? '';
  // The file ends in Pixel Data, or in the header of what can only be Pixel Data after the image group.
  const truncatedPixelData =
    recovered.cut &&
    (cutTag !== undefined
      ? PIXEL_DATA_TAGS.includes(cutTag)
      : lastWhole >= GROUP_0028_START && lastWhole < TAGS.FloatPixelData);
  return { dataSet: recovered.dataSet, truncated: recovered.cut, truncatedPixelData };
}

/** Parses DICOM bytes; throws NotDicom with a reason when they are not a readable DICOM file. */
export function parseDicom(bytes: Uint8Array): ParsedDicom {
  if (bytes.length === 0) throw new NotDicom('the file is empty');
  return hasPart10Prefix(bytes) ? parsePart10(bytes) : parseBareDataset(bytes);
}

function parseBareDataset(bytes: Uint8Array): ParsedDicom {
  const transferSyntaxUid = inferTransferSyntax(bytes, 0);
  let dataSet: DataSet;
  try {
    try {
      dataSet = repairAfterParse(bytes, readDataSetFrom(bytes, 0, transferSyntaxUid), transferSyntaxUid);
    } catch (error) {
      const partial = partialDataSet(error);
      if (!partial) throw error;
      dataSet = repairAfterParse(bytes, partial, transferSyntaxUid, error);
    }
  } catch (error) {
    if (error instanceof InflatedTooLarge) throw error;
    throw new NotDicom('no DICOM preamble ("DICM") and the bytes do not parse as a DICOM dataset');
  }
  if (!looksLikeBareDataset(dataSet)) {
    throw new NotDicom('no DICOM preamble ("DICM") and the bytes do not parse as a DICOM dataset');
  }
  // dicom-parser's parseDicom gave bare datasets a synthetic Transfer Syntax element (no offset): kept as before.
  dataSet.elements[TAGS.TransferSyntaxUID] = {
    tag: TAGS.TransferSyntaxUID,
    vr: 'UI',
    Value: transferSyntaxUid,
  } as unknown as Element;
  return { dataSet, transferSyntaxUid, hasMeta: false, truncatedPixelData: false };
}

/** The file with its deflated dataset inflated; a corrupt deflate stream is refused in our words. */
function inflateDataset(bytes: Uint8Array, position: number): Uint8Array {
  try {
    return inflater(bytes, position);
  } catch (error) {
    if (error instanceof InflatedTooLarge) throw error;
    throw new NotDicom('the deflated dataset cannot be inflated: its deflate stream is corrupt or cut short');
  }
}

function parsePart10(bytes: Uint8Array): ParsedDicom {
  let meta: MetaGroup;
  try {
    meta = readPart10Meta(bytes);
  } catch (error) {
    throw new NotDicom(describe(error));
  }
  const { declared, readAs } = datasetEncodingChecked(bytes, meta);
  if (!declared) throw new NotDicom('the file meta header has no Transfer Syntax UID');
  const deflated = readAs === TRANSFER_SYNTAX.DeflatedExplicitVRLittleEndian;
  // A deflated dataset is read from its inflated copy (the meta group's bytes are copied in front, at the same offsets).
  const data = deflated ? inflateDataset(bytes, meta.position) : bytes;
  const encoding = deflated ? TRANSFER_SYNTAX.ExplicitVRLittleEndian : readAs;
  let dataSet: DataSet;
  let truncated = false;
  let truncatedPixelData = false;
  try {
    try {
      dataSet = repairAfterParse(data, readDataSetFrom(data, meta.position, encoding), encoding);
    } catch (error) {
      const partial = partialDataSet(error);
      if (!partial) throw error;
      dataSet = repairAfterParse(data, partial, encoding, error);
    }
  } catch (error) {
    if (error instanceof InflatedTooLarge || error instanceof NotDicom) throw error;
    if (!partialDataSet(error) || libraryText(error).match(/call stack/i)) throw new NotDicom(describe(error));
    // Cut short, or an item longer than what holds it: keep what can be read, if that is enough to be a DICOM file.
    const recovered = recoverDataSet(data, meta.position, encoding);
    if (!recovered) throw new NotDicom(describe(error));
    ({ dataSet, truncated, truncatedPixelData } = recovered);
  }
  // dicom-parser's implicit VR reader reads an item longer than its sequence into what follows, without complaint.
  if (!truncated && isImplicit(encoding) && itemRunsPastSequence(dataSet)) {
    const recovered = recoverDataSet(data, meta.position, encoding);
    if (recovered) ({ dataSet, truncated, truncatedPixelData } = recovered);
  }
  mergeMeta(dataSet, meta);
  if (isImplicit(encoding) && !isImplicit(declared)) listFragments(dataSet);
  // dicom-parser's implicit VR reader steps past the end of the bytes without complaint: a cut it did not report.
  if (!truncated) {
    const past = Object.values(dataSet.elements).find((element) => runsPastEnd(element, data.length));
    if (past) {
      const before = Object.keys(dataSet.elements)
        .sort()
        .filter((tag) => tag < past.tag);
      if (!enoughBeforeFault(before, true))
        throw new NotDicom(
          'the file ends inside an element: it is cut short, or an element declares more bytes than follow',
        );
      truncated = true;
      truncatedPixelData = truncatedPixelData || PIXEL_DATA_TAGS.includes(past.tag);
    }
  }
  return {
    dataSet,
    transferSyntaxUid: declared,
    hasMeta: true,
    truncatedPixelData,
    ...(truncated ? { truncated } : {}),
  };
}

/** What parseDicomHeader needs next: more bytes from the start of the file, or the whole file for parseDicom. */
export type HeaderNeed = 'MORE_BYTES' | 'WHOLE_FILE';

/**
 * Parses the beginning of a Part 10 file up to the Pixel Data element's header (its value need not
 * be in `prefix`): what a renderer needs to read one frame with ranged GETs. `complete` says that
 * `prefix` is the whole file. Only the common layout is handled here; anything else (no "DICM"
 * preamble, a deflated dataset, float pixel data, a header that will not parse) asks for the whole
 * file, which parseDicom then reads with all its care.
 */
export function parseDicomHeader(prefix: Uint8Array, complete: boolean): ParsedDicom | HeaderNeed {
  const more = complete ? 'WHOLE_FILE' : 'MORE_BYTES';
  if (prefix.length < 132) return more;
  if (!hasPart10Prefix(prefix)) return 'WHOLE_FILE';
  let meta: MetaGroup;
  try {
    meta = readPart10Meta(prefix);
  } catch {
    return more;
  }
  if (meta.position + 6 > prefix.length) return more;
  const transferSyntaxUid = (meta.string(TAGS.TransferSyntaxUID) ?? '').replace(/\0/g, '').trim();
  if (!transferSyntaxUid || transferSyntaxUid === TRANSFER_SYNTAX.DeflatedExplicitVRLittleEndian) return 'WHOLE_FILE';
  // A dataset in another VR encoding than the meta group says, or starting with a group below 0008 (which dicom-parser
  // reads into the meta group): parseDicom reads those.
  const firstGroup = dicomParser.littleEndianByteArrayParser.readUint16(prefix, meta.position);
  if (isImplicit(transferSyntaxUid) !== isImplicit(inferTransferSyntax(prefix, meta.position)) || firstGroup < 0x0008)
    return 'WHOLE_FILE';
  let dataSet: DataSet;
  try {
    dataSet = dicomParser.parseDicom(prefix, { vrCallback, untilTag: TAGS.PixelData } as Parameters<
      typeof dicomParser.parseDicom
    >[1]);
  } catch (error) {
    // Float pixel data comes before (7FE0,0010): its value would have to be read whole anyway.
    const partial = partialDataSet(error);
    if (partial && FLOAT_PIXEL_DATA_TAGS.some((tag) => partial.elements[tag])) return 'WHOLE_FILE';
    return more; // cut inside an element before Pixel Data
  }
  if (FLOAT_PIXEL_DATA_TAGS.some((tag) => dataSet.elements[tag])) return 'WHOLE_FILE';
  // An element with invalid VR bytes may have been misread: parseDicom repairs it from the whole file.
  const explicitVr = transferSyntaxUid !== TRANSFER_SYNTAX.ImplicitVRLittleEndian;
  if (
    explicitVr &&
    Object.values(dataSet.elements).some((element) => element.vr !== undefined && !VALID_VRS.has(element.vr))
  )
    return 'WHOLE_FILE';
  const pixelData = dataSet.elements[TAGS.PixelData];
  // Implicit VR parsing can step past the end of `prefix` without throwing: the Pixel Data header must be in it.
  if (!pixelData || pixelData.dataOffset > prefix.length) return more;
  return { dataSet, transferSyntaxUid, hasMeta: true, truncatedPixelData: false };
}
