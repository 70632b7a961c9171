// Reads a dataset that dicom-parser gave up on: a file cut short anywhere, or an item whose length runs past the end
// of its sequence or of the file. Everything before the fault is kept; the fault is said in a note, never in a
// library's words.
import dicomParser from 'dicom-parser';
import type { ByteArrayParser, DataSet, Element } from 'dicom-parser';

/** An element this reader filled in: `note` says what was wrong with it (shown in the attributes document). */
export type NotedElement = Element & { note?: string };

export interface TolerantRead {
  readonly dataSet: DataSet;
  /** True when the file ends inside the dataset (an element's header or value, or a sequence, is cut short). */
  readonly cut: boolean;
  /** The top-level element the file ends in (its tag, "x0010..."), when its tag could be read. */
  readonly cutTag: string | undefined;
  /** The top-level elements before the one the file ends in (or all of them), in file order. */
  readonly wholeTags: readonly string[];
}

interface Reader {
  readonly bytes: Uint8Array;
  readonly parser: ByteArrayParser;
  readonly implicit: boolean;
  readonly vrCallback: (tag: string) => string | undefined;
  cut: boolean;
}

const LONG_LENGTH_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'UC', 'UN', 'UR', 'UT', 'SV', 'UV']);
const UNDEFINED_LENGTH = 0xffffffff;
const ITEM = 'xfffee000';
const ITEM_DELIMITER = 'xfffee00d';
const SEQUENCE_DELIMITER = 'xfffee0dd';
/** Deeper than this, the caller's own limit ("nested too deeply") applies; this reader does not recurse further. */
const MAX_DEPTH = 256;

const DataSetClass = (
  dicomParser as unknown as { DataSet: new (parser: unknown, bytes: Uint8Array, elements: object) => DataSet }
).DataSet;

function newDataSet(reader: Reader): DataSet {
  return Object.assign(new DataSetClass(reader.parser, reader.bytes, {}), { warnings: [] as string[] });
}

function tagAt(reader: Reader, position: number): string {
  const group = reader.parser.readUint16(reader.bytes, position);
  const element = reader.parser.readUint16(reader.bytes, position + 2);
  return `x${group.toString(16).padStart(4, '0')}${element.toString(16).padStart(4, '0')}`;
}

/** One element read by dicom-parser, or undefined when it threw (other than for a too deep recursion). */
function readOne(reader: Reader, stream: InstanceType<typeof dicomParser.ByteStream>, warnings: string[]) {
  try {
    return reader.implicit
      ? dicomParser.readDicomElementImplicit(stream, undefined, reader.vrCallback as (tag: string) => string)
      : dicomParser.readDicomElementExplicit(stream, warnings);
  } catch (error) {
    if (error instanceof RangeError) throw error;
    return undefined;
  }
}

/**
 * Reads elements from `position` up to `end` into `dataSet`; an item of undefined length stops at its delimiter.
 * Returns where reading stopped and the tags read whole, in order.
 */
function readElements(
  reader: Reader,
  dataSet: DataSet,
  position: number,
  end: number,
  depth: number,
): { next: number; whole: string[]; cutTag?: string } {
  const whole: string[] = [];
  // (dicom-parser's ByteStream refuses to start at the end of its bytes.)
  if (position >= end || position >= reader.bytes.length) return { next: position, whole };
  const stream = new dicomParser.ByteStream(reader.parser, reader.bytes, position);
  const warnings: string[] = [];
  while (stream.position < end) {
    const start = stream.position;
    const element = readOne(reader, stream, warnings);
    if (element && element.tag === ITEM_DELIMITER) return { next: stream.position, whole };
    // dicom-parser's implicit VR reader reads an item longer than its sequence into what follows: read it again here.
    if (element && stream.position <= end && !(reader.implicit && elementItemsRunPast(element, 0))) {
      dataSet.elements[element.tag] = element;
      whole.push(element.tag);
      continue;
    }
    if (element && stream.position > end) {
      // Its value runs past `end`: kept as far as the bytes go (attributes say how many are missing).
      dataSet.elements[element.tag] = element;
      if (end >= reader.bytes.length) reader.cut = true;
      return { next: end, whole, cutTag: element.tag };
    }
    const recovered = start + 4 <= end ? readElementTolerant(reader, start, end, depth) : undefined;
    if (!recovered) {
      // Not even the element's header is there.
      if (end >= reader.bytes.length) reader.cut = true;
      return { next: end, whole, ...(start + 4 <= reader.bytes.length ? { cutTag: tagAt(reader, start) } : {}) };
    }
    if (recovered.element.tag === ITEM_DELIMITER) return { next: recovered.next, whole };
    dataSet.elements[recovered.element.tag] = recovered.element;
    if (recovered.stopped) return { next: recovered.next, whole, cutTag: recovered.element.tag };
    whole.push(recovered.element.tag);
    stream.position = recovered.next;
  }
  return { next: stream.position, whole };
}

interface Header {
  tag: string;
  vr: string | undefined;
  length: number;
  dataOffset: number;
}

function readHeader(reader: Reader, start: number, end: number): Header | undefined {
  const { bytes, parser } = reader;
  if (start + 8 > end) return undefined;
  const tag = tagAt(reader, start);
  if (tag.startsWith('xfffe') || reader.implicit) {
    return {
      tag,
      vr: tag.startsWith('xfffe') ? undefined : reader.vrCallback(tag),
      length: parser.readUint32(bytes, start + 4),
      dataOffset: start + 8,
    };
  }
  const vr = String.fromCharCode(bytes[start + 4]!, bytes[start + 5]!);
  if (!LONG_LENGTH_VRS.has(vr)) return { tag, vr, length: parser.readUint16(bytes, start + 6), dataOffset: start + 8 };
  if (start + 12 > end) return undefined;
  return { tag, vr, length: parser.readUint32(bytes, start + 8), dataOffset: start + 12 };
}

/**
 * The element at `start` that dicom-parser could not read, read as far as it goes. `stopped` when reading cannot go on
 * after it (the bytes end inside it). Undefined when its header is incomplete.
 */
function readElementTolerant(
  reader: Reader,
  start: number,
  end: number,
  depth: number,
): { element: NotedElement; next: number; stopped: boolean } | undefined {
  const header = readHeader(reader, start, end);
  if (!header) return undefined;
  const element: NotedElement = { tag: header.tag, length: header.length, dataOffset: header.dataOffset };
  if (header.vr !== undefined) element.vr = header.vr;
  if (header.tag === ITEM_DELIMITER) return { element, next: header.dataOffset, stopped: false };
  const undefinedLength = header.length === UNDEFINED_LENGTH;
  if (undefinedLength) element.hadUndefinedLength = true;
  const startsWithItem =
    header.dataOffset + 4 <= end && tagAt(reader, header.dataOffset) === ITEM && header.vr !== 'OB';
  // A sequence: SQ, or (no VR known, or UN) a value that starts with an item, as dicom-parser decides.
  const unknownVr = header.vr === undefined || header.vr === 'UN';
  if ((header.vr === 'SQ' || (startsWithItem && (undefinedLength || unknownVr))) && depth < MAX_DEPTH) {
    return readSequenceTolerant(reader, element, end, depth);
  }
  // Anything else dicom-parser would have read: only its end can be wrong here.
  const valueEnd = undefinedLength ? end : header.dataOffset + header.length;
  if (undefinedLength) element.length = end - header.dataOffset;
  if (valueEnd > end) {
    if (end >= reader.bytes.length) reader.cut = true;
    return { element, next: end, stopped: true };
  }
  return { element, next: valueEnd, stopped: false };
}

/** A sequence's items, each read only up to the end of its sequence (or of the file), as dcmtk does. */
function readSequenceTolerant(
  reader: Reader,
  element: NotedElement,
  end: number,
  depth: number,
): { element: NotedElement; next: number; stopped: boolean } {
  const undefinedLength = element.length === UNDEFINED_LENGTH;
  const declaredEnd = undefinedLength ? end : element.dataOffset + element.length;
  const sequenceEnd = Math.min(declaredEnd, end);
  const notes: string[] = [];
  if (declaredEnd > end)
    notes.push(`the sequence declares ${element.length} bytes; ${end - element.dataOffset} follow`);
  const items: Element[] = [];
  element.items = items;
  let position = element.dataOffset;
  let stopped = declaredEnd > end && end >= reader.bytes.length;
  let delimited = false;
  while (position < sequenceEnd) {
    if (position + 8 > sequenceEnd) {
      notes.push(`item ${items.length + 1} is cut short`);
      stopped = stopped || sequenceEnd >= reader.bytes.length;
      position = sequenceEnd;
      break;
    }
    const tag = tagAt(reader, position);
    const length = reader.parser.readUint32(reader.bytes, position + 4);
    if (tag === SEQUENCE_DELIMITER) {
      position += 8;
      delimited = true;
      break;
    }
    if (tag !== ITEM) {
      notes.push(`item ${items.length + 1} does not start with an item tag: the rest of the sequence is not shown`);
      stopped = true;
      position = sequenceEnd;
      break;
    }
    const dataOffset = position + 8;
    const itemUndefined = length === UNDEFINED_LENGTH;
    let itemEnd = itemUndefined ? sequenceEnd : dataOffset + length;
    if (itemEnd > sequenceEnd) {
      const where = sequenceEnd >= reader.bytes.length ? 'the file' : 'its sequence';
      notes.push(
        `item ${items.length + 1} declares ${length} bytes; ${sequenceEnd - dataOffset} remain in ${where}: read up to its end`,
      );
      itemEnd = sequenceEnd;
    }
    const dataSet = newDataSet(reader);
    const cutBefore = reader.cut;
    reader.cut = false;
    const read = readElements(reader, dataSet, dataOffset, itemEnd, depth + 1);
    const cutInside = reader.cut;
    reader.cut = cutBefore || cutInside;
    const item: Element = { tag: ITEM, length: itemUndefined ? read.next - dataOffset : length, dataOffset, dataSet };
    if (itemUndefined) item.hadUndefinedLength = true;
    items.push(item);
    position = itemUndefined ? read.next : itemEnd;
    if (cutInside) {
      notes.push(`the file ends inside item ${items.length}`);
      stopped = true;
      break;
    }
  }
  if (undefinedLength && !delimited && !stopped && position >= reader.bytes.length) {
    notes.push('the file ends before the sequence delimiter');
    reader.cut = true;
    stopped = true;
  }
  element.length = (undefinedLength && delimited ? position - 8 : position) - element.dataOffset;
  if (stopped && position >= reader.bytes.length) reader.cut = true;
  if (stopped && reader.cut) {
    // The file ends inside this sequence: that says it all (an item's length running past the end follows from it).
    const declared = undefinedLength
      ? ''
      : ` (it declares ${element.length === UNDEFINED_LENGTH ? 0 : declaredEnd - element.dataOffset} bytes)`;
    element.note = `truncated: the file ends inside item ${Math.max(items.length, 1)} of this sequence${declared}`;
  } else if (notes.length > 0) element.note = notes.join('; ');
  return { element, next: position, stopped };
}

/** Does an item of defined length run past the end of its sequence of defined length (at any depth)? */
export function itemRunsPastSequence(dataSet: DataSet, depth = 0): boolean {
  if (depth > 64) return false;
  for (const element of Object.values(dataSet.elements)) if (elementItemsRunPast(element, depth)) return true;
  return false;
}

function elementItemsRunPast(element: Element, depth: number): boolean {
  if (!element.items) return false;
  const end = element.hadUndefinedLength ? undefined : element.dataOffset + element.length;
  for (const item of element.items) {
    if (end !== undefined && !item.hadUndefinedLength && item.dataOffset + item.length > end) return true;
    if (item.dataSet && itemRunsPastSequence(item.dataSet, depth + 1)) return true;
  }
  return false;
}

/**
 * Reads the dataset at `position` in `bytes` (explicit or implicit VR, with `parser`'s byte order) as far as it goes.
 * Throws only RangeError (recursion too deep), as dicom-parser does.
 */
export function readDataSetTolerant(
  bytes: Uint8Array,
  position: number,
  options: { parser: ByteArrayParser; implicit: boolean; vrCallback: (tag: string) => string | undefined },
): TolerantRead {
  const reader: Reader = { bytes, ...options, cut: false };
  const dataSet = newDataSet(reader);
  const read = readElements(reader, dataSet, position, bytes.length, 0);
  return { dataSet, cut: reader.cut, cutTag: read.cutTag, wholeTags: read.whole };
}
