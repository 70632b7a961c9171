// Parses DICOM bytes (Part 10 or bare dataset, any transfer syntax) with dicom-parser, defensively.
import { inflateRawSync } from 'node:zlib';
import dicomParser from 'dicom-parser';
import type { DataSet } from 'dicom-parser';
import { lookupTag, vrForTag } from './dictionary.js';
import { InflatedTooLarge, NotDicom } from './errors.js';
import { PIXEL_DATA_TAGS, TAGS } from './tags.js';
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
  let known = 0;
  let previous = -1;
  for (const tag of tags) {
    const value = parseInt(tag.slice(1), 16);
    if (value <= previous) return false;
    previous = value;
    if (lookupTag(tag.slice(1).toUpperCase())) known++;
  }
  return known >= 3 && known / tags.length > 0.5;
}

function partialDataSet(error: unknown): DataSet | undefined {
  if (typeof error === 'object' && error !== null && 'dataSet' in error) return (error as { dataSet: DataSet }).dataSet;
  return undefined;
}

/** Did parsing stop inside pixel data, with the rest of the header complete? */
function stoppedInPixelData(dataSet: DataSet, bytesLength: number): boolean {
  if (PIXEL_DATA_TAGS.some((t) => dataSet.elements[t])) return true;
  // dicom-parser drops the element it failed on; accept when only a pixel tag can have followed.
  const tags = Object.keys(dataSet.elements);
  const last = tags[tags.length - 1];
  return last !== undefined && last < TAGS.FloatPixelData && last >= GROUP_0028_START && bytesLength > 0;
}

/**
 * dicom-parser re-reads an inflated file from byte 0, so the preamble and "DICM" become bogus
 * elements (e.g. (0000,0000), (4944,4D43)): drop everything before the dataset proper.
 */
function dropPreambleElements(dataSet: DataSet, bytes: Uint8Array): void {
  const datasetStart = (dicomParser.readPart10Header(bytes) as DataSet & { position?: number }).position ?? 0;
  for (const [tag, element] of Object.entries(dataSet.elements)) {
    if (!tag.startsWith('x0002') && element.dataOffset < datasetStart) delete dataSet.elements[tag];
  }
}

/**
 * A Part 10 file whose meta group has no Transfer Syntax UID (absent or empty): the syntax its dataset
 * is in, inferred from the dataset's first element as pydicom and dcmtk do. Undefined when the meta
 * group names one (or cannot be read: parseDicom then refuses the file in its own words).
 */
function inferredMetaTransferSyntax(
  bytes: Uint8Array,
): { meta: DataSet; datasetStart: number; transferSyntaxUid: string } | undefined {
  const meta = readMeta(bytes);
  if (!meta || namedTransferSyntax(meta) !== '' || meta.position === undefined) return undefined;
  if (meta.position >= bytes.length)
    throw new NotDicom('the file ends after its file meta header: it holds no dataset');
  return { meta, datasetStart: meta.position, transferSyntaxUid: inferTransferSyntax(bytes, meta.position) };
}

function readMeta(bytes: Uint8Array): (DataSet & { position?: number }) | undefined {
  try {
    return dicomParser.readPart10Header(bytes);
  } catch {
    return undefined;
  }
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
function repairAfterParse(bytes: Uint8Array, dataSet: DataSet, transferSyntaxUid: string, failure?: unknown): DataSet {
  const explicitUncompressed =
    transferSyntaxUid !== '' &&
    transferSyntaxUid !== TRANSFER_SYNTAX.ImplicitVRLittleEndian &&
    transferSyntaxUid !== TRANSFER_SYNTAX.DeflatedExplicitVRLittleEndian;
  if (!explicitUncompressed) {
    if (failure !== undefined) throw failure;
    return dataSet;
  }
  return repairInvalidVrs(bytes, dataSet, transferSyntaxUid, failure);
}

/** Parses DICOM bytes; throws NotDicom with a reason when they are not a readable DICOM file. */
export function parseDicom(bytes: Uint8Array): ParsedDicom {
  if (bytes.length === 0) throw new NotDicom('the file is empty');
  const hasMeta = hasPart10Prefix(bytes);
  const inferred = hasMeta ? inferredMetaTransferSyntax(bytes) : undefined;
  const transferSyntaxOption = hasMeta ? inferred?.transferSyntaxUid : inferTransferSyntax(bytes, 0);
  // What the dataset is read as: the repair of invalid VRs (explicit VR only) must know it even from a partial parse.
  const readAs = transferSyntaxOption ?? namedTransferSyntax(readMeta(bytes) ?? ({ elements: {} } as DataSet)) ?? '';
  let dataSet: DataSet;
  let truncatedPixelData = false;
  try {
    try {
      dataSet = inferred
        ? mergeMeta(readDataSetFrom(bytes, inferred.datasetStart, inferred.transferSyntaxUid), inferred.meta)
        : dicomParser.parseDicom(bytes, {
            inflater,
            vrCallback,
            ...(transferSyntaxOption ? { TransferSyntaxUID: transferSyntaxOption } : {}),
          } as Parameters<typeof dicomParser.parseDicom>[1]);
      dataSet = repairAfterParse(bytes, dataSet, readAs);
    } catch (error) {
      const partial = partialDataSet(error);
      if (!partial) throw error;
      dataSet = repairAfterParse(bytes, partial, readAs, error);
      // dicom-parser merges the meta group only into a dataset it finished reading.
      const meta = hasMeta ? readMeta(bytes) : undefined;
      if (meta) mergeMeta(dataSet, meta);
    }
    if (inferred) mergeMeta(dataSet, inferred.meta);
  } catch (error) {
    if (error instanceof InflatedTooLarge) throw error;
    const partial = partialDataSet(error);
    if (
      hasMeta &&
      partial &&
      /overrun|beyond|end of buffer|exceeds/i.test(libraryText(error)) &&
      stoppedInPixelData(partial, bytes.length)
    ) {
      // The partial dataset lacks the meta group: read it again and merge, as dicom-parser would.
      const meta = dicomParser.readPart10Header(bytes);
      for (const [tag, element] of Object.entries(meta.elements)) partial.elements[tag] = element;
      dataSet = partial;
      truncatedPixelData = true;
    } else if (!hasMeta) {
      throw new NotDicom('no DICOM preamble ("DICM") and the bytes do not parse as a DICOM dataset');
    } else {
      throw new NotDicom(describe(error));
    }
  }
  if (hasMeta && dataSet.string(TAGS.TransferSyntaxUID)?.trim() === TRANSFER_SYNTAX.DeflatedExplicitVRLittleEndian) {
    dropPreambleElements(dataSet, bytes);
  }
  if (!hasMeta && !looksLikeBareDataset(dataSet)) {
    throw new NotDicom('no DICOM preamble ("DICM") and the bytes do not parse as a DICOM dataset');
  }
  const transferSyntaxUid =
    inferred?.transferSyntaxUid ??
    (dataSet.string(TAGS.TransferSyntaxUID) ?? transferSyntaxOption ?? '').replace(/\0/g, '').trim();
  if (hasMeta && !transferSyntaxUid) throw new NotDicom('the file meta header has no Transfer Syntax UID');
  return { dataSet, transferSyntaxUid, hasMeta, truncatedPixelData };
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
  let meta: DataSet;
  try {
    meta = dicomParser.readPart10Header(prefix);
  } catch {
    return more;
  }
  const transferSyntaxUid = (meta.string(TAGS.TransferSyntaxUID) ?? '').replace(/\0/g, '').trim();
  if (!transferSyntaxUid || transferSyntaxUid === TRANSFER_SYNTAX.DeflatedExplicitVRLittleEndian) return 'WHOLE_FILE';
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
