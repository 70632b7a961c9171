// Reads one frame of a stored DICOM file through ranged reads: the header, then only that frame's bytes.
import { parseDicom, parseDicomHeader, type ParsedDicom } from './parse.js';
import {
  checkBounds,
  extendedOffsets,
  isNativeTransferSyntax,
  nativeFrameBits,
  readPixelLayout,
  type PixelLayout,
  type StoredFrame,
} from './pixels.js';
import { TAGS } from './tags.js';
import { TRANSFER_SYNTAX } from './uids.js';

/** Random access to a stored object: an S3 object through ranged GETs, or bytes in memory. */
export interface ByteSource {
  /** Bytes [start, end) of the object (fewer at its end) and the object's total size. */
  read(start: number, end: number): Promise<{ bytes: Uint8Array; size: number }>;
}

export interface FrameForRendering {
  parsed: ParsedDicom;
  /** The frame's own bytes; absent when the whole file had to be read (then `parsed` holds every frame). */
  storedFrame?: StoredFrame;
  /** How many bytes were read from the source (logs, tests). */
  bytesRead: number;
}

/** Most headers end within this (the 96-frame XA's Basic Offset Table ends at 11 KB). */
const FIRST_READ_BYTES = 64 * 1024;
/** A header still unparsed at this size (huge sequences, odd files) is read with the rest of the file. */
const MAX_HEADER_BYTES = 16 * 1024 * 1024;
const UNDEFINED_LENGTH = 0xffffffff;

/** Counts what it reads and never asks past the end once the size is known. */
class CountingReader {
  bytesRead = 0;
  size = Number.POSITIVE_INFINITY;

  constructor(private readonly source: ByteSource) {}

  async read(start: number, end: number): Promise<Uint8Array> {
    const stop = Math.min(end, this.size);
    if (start >= stop) return new Uint8Array(0);
    const { bytes, size } = await this.source.read(start, stop);
    this.size = size;
    this.bytesRead += bytes.length;
    return bytes;
  }
}

/** Node's Buffer.concat, without the copy when there is one part. */
function concat(parts: readonly Uint8Array[]): Uint8Array {
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

/** Bytes [start, end), taken from the prefix already read where it covers them. */
async function readRange(reader: CountingReader, prefix: Uint8Array, start: number, end: number): Promise<Uint8Array> {
  if (end <= prefix.length) return prefix.subarray(start, end);
  if (start >= prefix.length) return reader.read(start, end);
  return concat([prefix.subarray(start), await reader.read(prefix.length, end)]);
}

function uint32(bytes: Uint8Array, offset: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset + offset, 4).getUint32(0, true);
}

/** An item (FFFE,E000) or sequence delimiter (FFFE,E0DD) header at `offset`, little endian as encapsulation always is. */
function itemTag(bytes: Uint8Array, offset: number): 'ITEM' | 'END' | undefined {
  if (offset + 8 > bytes.length || bytes[offset] !== 0xfe || bytes[offset + 1] !== 0xff) return undefined;
  if (bytes[offset + 2] === 0x00 && bytes[offset + 3] === 0xe0) return 'ITEM';
  if (bytes[offset + 2] === 0xdd && bytes[offset + 3] === 0xe0) return 'END';
  return undefined;
}

/** The fragments' data in `bytes` (items up to a delimiter or the end); undefined if anything else is there. */
function fragmentData(bytes: Uint8Array): Uint8Array[] | undefined {
  const fragments: Uint8Array[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const tag = itemTag(bytes, offset);
    if (tag === 'END') break;
    const length = tag === 'ITEM' ? uint32(bytes, offset + 4) : UNDEFINED_LENGTH;
    if (length === UNDEFINED_LENGTH || offset + 8 + length > bytes.length) return undefined;
    fragments.push(bytes.subarray(offset + 8, offset + 8 + length));
    offset += 8 + length;
  }
  return fragments.length > 0 ? fragments : undefined;
}

/** A native frame: its bytes sit at a fixed offset in Pixel Data. Undefined when only the whole file will do. */
async function nativeFrame(
  reader: CountingReader,
  prefix: Uint8Array,
  parsed: ParsedDicom,
  layout: PixelLayout,
  frameIndex: number,
): Promise<StoredFrame | undefined> {
  const element = parsed.dataSet.elements[TAGS.PixelData]!;
  if (element.length === UNDEFINED_LENGTH) return undefined; // encapsulated in a native syntax: refused when read whole
  // Big endian OW swaps 16-bit words whatever the sample width: narrower samples are read from the whole element.
  if (parsed.transferSyntaxUid === TRANSFER_SYNTAX.ExplicitVRBigEndian && layout.bitsAllocated < 16) return undefined;
  const bits = nativeFrameBits(layout);
  const startBit = frameIndex * bits;
  const startByte = Math.floor(startBit / 8);
  const endByte = Math.ceil((startBit + bits) / 8);
  if (endByte > element.length) return undefined; // shorter than the image needs: the whole-file path says how
  const bytes = await readRange(reader, prefix, element.dataOffset + startByte, element.dataOffset + endByte);
  if (bytes.length < endByte - startByte) return undefined; // the file is cut short: reported as truncated
  return { bytes, startBit: startBit - startByte * 8 };
}

/** An encapsulated frame: located by the Basic or Extended Offset Table, then only its fragments are read. */
async function encapsulatedFrame(
  reader: CountingReader,
  prefix: Uint8Array,
  parsed: ParsedDicom,
  layout: PixelLayout,
  frameIndex: number,
): Promise<StoredFrame | undefined> {
  const element = parsed.dataSet.elements[TAGS.PixelData]!;
  if (element.length !== UNDEFINED_LENGTH) return undefined;
  const tableItem = await readRange(reader, prefix, element.dataOffset, element.dataOffset + 8);
  if (itemTag(tableItem, 0) !== 'ITEM') return undefined;
  const tableLength = uint32(tableItem, 4);
  const firstFragment = element.dataOffset + 8 + tableLength;
  const frames = layout.numberOfFrames;
  let offsets: number[] | undefined;
  if (frames === 1) {
    offsets = [0];
  } else if (tableLength === frames * 4) {
    const table = await readRange(reader, prefix, element.dataOffset + 8, firstFragment);
    offsets = Array.from({ length: frames }, (_, i) => uint32(table, i * 4));
  } else {
    const extended = extendedOffsets(parsed.dataSet);
    if (extended?.length === frames) offsets = extended;
  }
  // No table: frames can only be told apart by walking every fragment, i.e. reading all of them.
  if (!offsets) return undefined;
  const start = firstFragment + offsets[frameIndex]!;
  const next = offsets[frameIndex + 1];
  // The last frame runs to the sequence delimiter; reading to the end of the object finds it.
  const end = next === undefined ? Number.POSITIVE_INFINITY : firstFragment + next;
  if (!(end > start)) return undefined;
  const fragments = fragmentData(await readRange(reader, prefix, start, end));
  return fragments ? { bytes: concat(fragments), startBit: 0 } : undefined;
}

/**
 * One stored file opened for frame access: the header read once, then each frame read on its own
 * where the layout allows (native: the frame's byte range; encapsulated: its offset-table entry and
 * fragments). Files a frame cannot be located in (deflated, no offset table in a multi-frame
 * compressed file, anything malformed) are read whole once and parsed as the processor does, which
 * also gives the same errors.
 */
export class StoredFrameReader {
  /** The whole file parsed, once it had to be read whole. */
  private whole: ParsedDicom | undefined;
  private headerLayout: PixelLayout | undefined;

  private constructor(
    private readonly reader: CountingReader,
    private readonly prefix: Uint8Array,
    /** The header up to Pixel Data's element header, when it parsed from a prefix of the file. */
    private readonly header: ParsedDicom | undefined,
  ) {}

  /** Reads the header (64 KB, more if it is longer) or, when only the whole file will do, the whole file. */
  static async open(source: ByteSource): Promise<StoredFrameReader> {
    const reader = new CountingReader(source);
    let prefix = await reader.read(0, FIRST_READ_BYTES);
    for (;;) {
      const complete = prefix.length >= reader.size;
      const header = parseDicomHeader(prefix, complete);
      if (header === 'MORE_BYTES' && prefix.length < MAX_HEADER_BYTES) {
        prefix = concat([prefix, await reader.read(prefix.length, prefix.length * 4)]);
        continue;
      }
      const opened = new StoredFrameReader(reader, prefix, typeof header === 'object' ? header : undefined);
      if (!opened.header) await opened.readWhole();
      return opened;
    }
  }

  /** How many bytes were read from the source so far (logs, tests). */
  get bytesRead(): number {
    return this.reader.bytesRead;
  }

  /** The whole file parsed when it was read whole, else the header (Pixel Data's value not included). */
  get parsed(): ParsedDicom {
    return this.whole ?? this.header!;
  }

  /** The header's Image Pixel module; undefined once the file was read whole (then read it from `parsed`). */
  layout(): PixelLayout | undefined {
    if (this.whole || !this.header) return undefined;
    this.headerLayout ??= readPixelLayout(this.header.dataSet);
    return this.headerLayout;
  }

  /**
   * Frame `frameIndex` (0-based, within NumberOfFrames: check first) as a StoredFrame beside the header,
   * or the whole file parsed (then `parsed` holds every frame) when the frame cannot be read on its own.
   */
  async frame(frameIndex: number): Promise<{ parsed: ParsedDicom; storedFrame?: StoredFrame }> {
    const layout = this.layout();
    if (this.header && layout) {
      const storedFrame = isNativeTransferSyntax(this.header.transferSyntaxUid)
        ? await nativeFrame(this.reader, this.prefix, this.header, layout, frameIndex)
        : await encapsulatedFrame(this.reader, this.prefix, this.header, layout, frameIndex);
      if (storedFrame) return { parsed: this.header, storedFrame };
    }
    return { parsed: await this.readWhole() };
  }

  private async readWhole(): Promise<ParsedDicom> {
    if (!this.whole) {
      const rest = await this.reader.read(this.prefix.length, Number.POSITIVE_INFINITY);
      this.whole = parseDicom(concat([this.prefix, rest]));
    }
    return this.whole;
  }
}

/**
 * The file's header and frame `frameIndex` (0-based), reading as little as the layout allows: the
 * header (64 KB, more if it is longer), then the frame's byte range (native), or its offset-table
 * entry and fragments (encapsulated). Other frames are neither read nor decoded, so memory is one
 * frame plus the header. Files this cannot locate a frame in (deflated, no offset table in a
 * multi-frame compressed file, anything malformed) are read whole and parsed as the processor does,
 * which also gives the same errors.
 */
export async function readFrameForRendering(source: ByteSource, frameIndex: number): Promise<FrameForRendering> {
  const frames = await StoredFrameReader.open(source);
  const layout = frames.layout();
  if (layout) checkBounds(layout, frameIndex);
  const frame = await frames.frame(frameIndex);
  return { ...frame, bytesRead: frames.bytesRead };
}
