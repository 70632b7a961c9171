// The documents object (lambdas/store/derived-documents.ts): valid JSON holding both documents unchanged, and each
// part read back byte for byte with ranged GETs, one when it ends within the first read.
import { describe, expect, it } from 'vitest';
import { KEYS } from '../../lambdas/config.js';
import { FIRST_READ_BYTES, packDocuments, readDocumentPart } from '../../lambdas/store/derived-documents.js';
import type { ObjectStore } from '../../lambdas/store/objects.js';

const ID = '00000000-0000-4000-8000-000000000001';
const text = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));

/** An object store of one key whose ranged reads are counted; `replaceAfterFirstRead` stands for a reprocess. */
function storeOf(bytes: Uint8Array, replaceAfterFirstRead?: Uint8Array) {
  let current = bytes;
  const ranges: [number, number][] = [];
  const objects = {
    async getRange(key: string, start: number, end: number) {
      if (key !== KEYS.documents(ID)) return undefined;
      ranges.push([start, end]);
      const answer = { bytes: current.slice(start, Math.min(end, current.length)), size: current.length };
      if (replaceAfterFirstRead && ranges.length === 1) current = replaceAfterFirstRead;
      return answer;
    },
  } as unknown as ObjectStore;
  return { objects, ranges };
}

const bytesOf = async (objects: ObjectStore, part: 'metadata' | 'attributes') => {
  const found = await readDocumentPart(objects, ID, part);
  if (!found || !('bytes' in found)) throw new Error(`no bytes: ${JSON.stringify(found)}`);
  return Buffer.from(found.bytes).toString('utf8');
};

describe('the documents object', () => {
  it('is JSON whose parts are the two documents, unchanged', () => {
    const metadata = text({ '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Ünïcode^Näme' }] } });
    const attributes = text({ count: 1, attributes: { '0010,0010': { value: 'Ünïcode^Näme' } } });
    const packed = packDocuments(metadata, attributes);
    const parsed = JSON.parse(Buffer.from(packed).toString('utf8')) as Record<string, unknown>;
    expect(parsed.metadata).toEqual(JSON.parse(Buffer.from(metadata).toString('utf8')));
    expect(parsed.attributes).toEqual(JSON.parse(Buffer.from(attributes).toString('utf8')));
    const { metadata: m, attributes: a } = parsed.parts as { metadata: [number, number]; attributes: [number, number] };
    expect(Buffer.from(packed.subarray(...m)).equals(Buffer.from(metadata))).toBe(true);
    expect(Buffer.from(packed.subarray(...a)).equals(Buffer.from(attributes))).toBe(true);
  });

  it('a typical file: each part in one ranged GET, as made', async () => {
    const metadata = text({ a: 'm'.repeat(3_600) });
    const attributes = text({ b: 'a'.repeat(8_800) });
    const { objects, ranges } = storeOf(packDocuments(metadata, attributes));
    expect(await bytesOf(objects, 'attributes')).toBe(Buffer.from(attributes).toString('utf8'));
    expect(await bytesOf(objects, 'metadata')).toBe(Buffer.from(metadata).toString('utf8'));
    expect(ranges).toEqual([
      [0, FIRST_READ_BYTES],
      [0, FIRST_READ_BYTES],
    ]);
  });

  it('parts beyond the first read: one more GET of exactly the rest', async () => {
    // Offsets with more digits than the first guess of the header: its length settles.
    const metadata = text({ a: 'm'.repeat(FIRST_READ_BYTES) });
    const attributes = text({ b: 'a'.repeat(3 * FIRST_READ_BYTES) });
    const packed = packDocuments(metadata, attributes);
    const { objects, ranges } = storeOf(packed);
    expect(await bytesOf(objects, 'metadata')).toBe(Buffer.from(metadata).toString('utf8'));
    expect(ranges.length).toBe(2);
    expect(ranges[1]![0]).toBe(FIRST_READ_BYTES);
    expect(await bytesOf(objects, 'attributes')).toBe(Buffer.from(attributes).toString('utf8'));
    expect(ranges.length).toBe(4);
    expect(ranges[3]![1]).toBe(packed.length - 1); // up to the closing brace only
  });

  it('an attributes document stored on its own: the reader is pointed to it', async () => {
    const metadata = text({ a: 1 });
    const packed = packDocuments(metadata);
    expect(JSON.parse(Buffer.from(packed).toString('utf8'))).toMatchObject({ attributes: null, metadata: { a: 1 } });
    const { objects } = storeOf(packed);
    expect(await readDocumentPart(objects, ID, 'attributes')).toEqual({ separateKey: KEYS.attributes(ID) });
    expect(await bytesOf(objects, 'metadata')).toBe('{"a":1}');
  });

  it('no object: undefined; an object without the header: an error, not a wrong answer', async () => {
    expect(await readDocumentPart(storeOf(new Uint8Array(0)).objects, 'other', 'metadata')).toBeUndefined();
    await expect(readDocumentPart(storeOf(text({ a: 1 })).objects, ID, 'metadata')).rejects.toThrow(/parts header/);
    const lying = new TextEncoder().encode('{"parts":{"metadata":[20,99999],"attributes":null},"metadata":{}}');
    await expect(readDocumentPart(storeOf(lying).objects, ID, 'metadata')).rejects.toThrow(/parts header/);
  });

  it('made again between the two reads of a large part: read afresh, never two versions spliced', async () => {
    const attributes = text({ b: 'a'.repeat(2 * FIRST_READ_BYTES) });
    const newer = text({ b: 'b'.repeat(2 * FIRST_READ_BYTES + 10) });
    const { objects, ranges } = storeOf(packDocuments(text({}), attributes), packDocuments(text({}), newer));
    expect(await bytesOf(objects, 'attributes')).toBe(Buffer.from(newer).toString('utf8'));
    expect(ranges.length).toBe(4);
  });
});
