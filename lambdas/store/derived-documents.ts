// The processor's two JSON documents in one object (KEYS.documents): one PUT at ingest, and each reader one ranged GET
// of its own part. The object is itself JSON:
//
//   {"parts":{"metadata":[37,4012],"attributes":[4027,12817]},"metadata":{...DICOM JSON...},"attributes":{...}}
//
// `parts` comes first and gives each document's byte range [start, end) in the object, so a reader GETs the first
// FIRST_READ_BYTES (which hold the whole object of a typical file: 12 KB) and slices its part out, byte for byte as
// it was made; a part that ends further on costs one more ranged GET of exactly the rest. An attributes document too
// large for a Lambda response is not in the object (`"attributes":null`): it is stored on its own (KEYS.attributes),
// since the route answers with a presigned redirect to it and a presigned URL cannot name a byte range.
import { KEYS } from '../config.js';
import type { ObjectStore } from './objects.js';

/** What the first ranged GET reads: all of a typical file's object, and the start of any part. */
export const FIRST_READ_BYTES = 1024 * 1024;
/** The `parts` header is short (two ranges of at most 16 digits each); anything longer is not our object. */
const MAX_HEADER_BYTES = 256;

type Range = readonly [start: number, end: number];

interface Parts {
  metadata: Range;
  /** Null: the attributes document is stored on its own (KEYS.attributes). */
  attributes: Range | null;
}

export type DocumentPart = keyof Parts;

/** A part as the reader finds it: its bytes, or (attributes only) a pointer to the object that holds it alone. */
export type StoredPart = { bytes: Uint8Array } | { separateKey: string };

const encoder = new TextEncoder();

/**
 * The object's bytes: `metadata` and `attributes` are JSON texts, copied unchanged. Without `attributes` the object
 * says that document is stored on its own.
 */
export function packDocuments(metadata: Uint8Array, attributes?: Uint8Array): Uint8Array {
  const metadataKey = encoder.encode(',"metadata":');
  const attributesKey = encoder.encode(',"attributes":');
  const tail = attributes ? attributesKey.length + attributes.length : attributesKey.length + 'null'.length;
  // The ranges depend on the header's length, which depends on the ranges' digits: settle it (two rounds at most).
  let header = encoder.encode('');
  for (let headerLength = 0; ; headerLength = header.length) {
    const metadataStart = headerLength + metadataKey.length;
    const metadataEnd = metadataStart + metadata.length;
    const attributesRange = attributes ? [metadataEnd + attributesKey.length, metadataEnd + tail] : null;
    header = encoder.encode(
      `{"parts":${JSON.stringify({ metadata: [metadataStart, metadataEnd], attributes: attributesRange })}`,
    );
    if (header.length === headerLength) break;
  }
  const pieces = [
    header,
    metadataKey,
    metadata,
    attributesKey,
    attributes ?? encoder.encode('null'),
    encoder.encode('}'),
  ];
  const packed = new Uint8Array(pieces.reduce((sum, piece) => sum + piece.length, 0));
  let offset = 0;
  for (const piece of pieces) {
    packed.set(piece, offset);
    offset += piece.length;
  }
  return packed;
}

function isRange(value: unknown, size: number): value is Range {
  return (
    Array.isArray(value) &&
    value.length === 2 &&
    value.every((n) => Number.isSafeInteger(n)) &&
    0 < (value[0] as number) &&
    (value[0] as number) <= (value[1] as number) &&
    (value[1] as number) <= size
  );
}

/** The header of an object of `size` bytes whose first bytes are `head`; throws when it is not one packDocuments made. */
function readHeader(head: Uint8Array, size: number, key: string): Parts {
  const text = Buffer.from(head.buffer, head.byteOffset, Math.min(head.length, MAX_HEADER_BYTES)).toString('latin1');
  const found = /^\{"parts":(\{[^{}]*\}),"metadata":/.exec(text)?.[1];
  const parts = found ? (JSON.parse(found) as Partial<Parts>) : undefined;
  if (!parts || !isRange(parts.metadata, size) || !(parts.attributes === null || isRange(parts.attributes, size))) {
    // A stored object of ours that is not what we write: a bug or a damaged object, not the client's doing.
    throw new Error(`${key} has no valid parts header`);
  }
  return parts as Parts;
}

/**
 * One document of the file's documents object, or undefined when there is no such object (not processed yet, deleted,
 * or processed before schema 5: see readers). One ranged GET when the part ends within FIRST_READ_BYTES, else two.
 */
export async function readDocumentPart(
  objects: ObjectStore,
  id: string,
  part: DocumentPart,
): Promise<StoredPart | undefined> {
  const key = KEYS.documents(id);
  for (let attempt = 1; ; attempt++) {
    const first = await objects.getRange(key, 0, FIRST_READ_BYTES);
    if (!first) return undefined;
    const range = readHeader(first.bytes, first.size, key)[part];
    if (!range) return { separateKey: KEYS.attributes(id) };
    const [start, end] = range;
    if (end <= first.bytes.length) return { bytes: first.bytes.subarray(start, end) };
    // The part runs past the first read: one more GET of only the rest of it.
    const rest = await objects.getRange(key, Math.max(start, first.bytes.length), end);
    if (!rest) return undefined;
    // Made again in between (a reprocess): the two reads do not fit together, so read the new object afresh.
    if (rest.size !== first.size && attempt < 3) continue;
    if (rest.size !== first.size) throw new Error(`${key} keeps changing while it is read`);
    if (start >= first.bytes.length) return { bytes: rest.bytes };
    const bytes = new Uint8Array(end - start);
    bytes.set(first.bytes.subarray(start), 0);
    bytes.set(rest.bytes, first.bytes.length - start);
    return { bytes };
  }
}

/** The first DERIVED_SCHEMA_VERSION that stores the documents object; earlier ones stored each document alone. */
export const DOCUMENTS_SINCE_SCHEMA_VERSION = 5;

/**
 * A processed file's document in whichever layout made it: the documents object, or for a file processed before
 * schema 5 (until `npm run reprocess-all` rebuilds it) `attributes.json` / `metadata.json`. A record that names an
 * older schema is read the old way at once; one that does not say (a listing's projection) tries the new way first.
 * Undefined when neither is stored.
 */
export async function readStoredDocument(
  objects: ObjectStore,
  record: { id: string; schema_version?: number },
  part: DocumentPart,
): Promise<StoredPart | undefined> {
  const legacy = async (): Promise<StoredPart | undefined> => {
    const bytes = await objects.get(part === 'metadata' ? KEYS.metadata(record.id) : KEYS.attributes(record.id));
    return bytes && { bytes };
  };
  if (record.schema_version !== undefined && record.schema_version < DOCUMENTS_SINCE_SCHEMA_VERSION) return legacy();
  return (await readDocumentPart(objects, record.id, part)) ?? legacy();
}
