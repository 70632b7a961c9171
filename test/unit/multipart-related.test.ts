// multipart/related bodies (built, then parsed back by boundary) and Accept header parsing.
import { describe, expect, it } from 'vitest';
import { multipartRelated, parseAccept, type RelatedPart } from '../../lambdas/http/multipart-related.js';

interface ParsedPart {
  headers: Record<string, string>;
  bytes: Buffer;
}

/** Splits a multipart body at its delimiters (RFC 2046 5.1.1), independently of the builder. */
function parseMultipart(body: Uint8Array, boundary: string): { parts: ParsedPart[]; epilogue: string } {
  const buffer = Buffer.from(body);
  const open = Buffer.from(`--${boundary}\r\n`);
  expect(buffer.subarray(0, open.length).equals(open), 'the body starts with the first delimiter').toBe(true);
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  const parts: ParsedPart[] = [];
  let at = open.length;
  for (;;) {
    const end = buffer.indexOf(delimiter, at);
    expect(end, 'a delimiter closes each part').toBeGreaterThan(-1);
    const part = buffer.subarray(at, end);
    const split = part.indexOf('\r\n\r\n');
    const headers: Record<string, string> = {};
    for (const line of part.subarray(0, split).toString('latin1').split('\r\n')) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    parts.push({ headers, bytes: part.subarray(split + 4) });
    const after = buffer.subarray(end + delimiter.length, end + delimiter.length + 2).toString('latin1');
    if (after === '--') return { parts, epilogue: buffer.subarray(end + delimiter.length + 2).toString('latin1') };
    expect(after).toBe('\r\n');
    at = end + delimiter.length + 2;
  }
}

function boundaryOf(contentType: string): string {
  const match = /;\s*boundary=("?)([^";]+)\1/.exec(contentType);
  expect(match, contentType).not.toBeNull();
  return match![2]!;
}

describe('multipartRelated', () => {
  const parts: RelatedPart[] = [
    {
      contentType: 'application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1',
      bytes: Uint8Array.from({ length: 1000 }, (_, i) => (i * 31) & 0xff),
    },
    // Bytes that look like multipart framing must pass through untouched.
    {
      contentType: 'image/jpeg',
      bytes: Buffer.from('\r\n--notTheBoundary\r\n\r\n--\r\n'),
      headers: { 'Content-Location': '/frames/2' },
    },
    { contentType: 'application/octet-stream', bytes: new Uint8Array(0) },
  ];

  it('round-trips parts: headers, bytes, order, CRLF framing', () => {
    const { body, contentType } = multipartRelated(parts, 'application/octet-stream');
    expect(contentType).toMatch(/^multipart\/related; type="application\/octet-stream"; boundary=[0-9a-f]{32}$/);
    const parsed = parseMultipart(body, boundaryOf(contentType));
    expect(parsed.parts).toHaveLength(3);
    expect(parsed.parts.map((p) => p.headers)).toEqual([
      { 'content-type': 'application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1' },
      { 'content-type': 'image/jpeg', 'content-location': '/frames/2' },
      { 'content-type': 'application/octet-stream' },
    ]);
    parsed.parts.forEach((part, i) => expect(part.bytes.equals(parts[i]!.bytes), `part ${i + 1}`).toBe(true));
    expect(parsed.epilogue).toBe('\r\n');
  });

  it('picks a fresh random boundary each time', () => {
    const a = boundaryOf(multipartRelated(parts, 'image/jpeg').contentType);
    const b = boundaryOf(multipartRelated(parts, 'image/jpeg').contentType);
    expect(a).not.toBe(b);
  });

  it('quotes a type with parameters', () => {
    const { contentType } = multipartRelated(parts, 'application/octet-stream; transfer-syntax="*"', 'b1');
    expect(contentType).toBe(
      'multipart/related; type="application/octet-stream; transfer-syntax=\\"*\\""; boundary=b1',
    );
  });

  it('uses a given boundary, quoted when it is not a token, and refuses one that occurs in a part', () => {
    const { body, contentType } = multipartRelated(parts, 'image/jpeg', 'my boundary');
    expect(contentType).toBe('multipart/related; type="image/jpeg"; boundary="my boundary"');
    expect(parseMultipart(body, 'my boundary').parts).toHaveLength(3);
    expect(() => multipartRelated(parts, 'image/jpeg', 'notTheBoundary')).toThrow(/occurs in a part/);
    expect(() => multipartRelated(parts, 'image/jpeg', 'x'.repeat(71))).toThrow(/invalid/);
    expect(() => multipartRelated(parts, 'image/jpeg', '')).toThrow(/invalid/);
  });

  it('refuses part headers that would inject more headers', () => {
    expect(() =>
      multipartRelated([{ contentType: 'image/jpeg\r\nX-Evil: 1', bytes: new Uint8Array(1) }], 'image/jpeg'),
    ).toThrow(/invalid part header/);
    expect(() =>
      multipartRelated(
        [{ contentType: 'image/jpeg', bytes: new Uint8Array(1), headers: { 'Bad Name': 'x' } }],
        'image/jpeg',
      ),
    ).toThrow(/invalid part header/);
  });

  it('an empty list is a body with the close delimiter only', () => {
    const { body } = multipartRelated([], 'image/jpeg', 'b');
    expect(Buffer.from(body).toString('latin1')).toBe('--b--\r\n');
  });
});

describe('parseAccept', () => {
  it('no header, or a blank one, accepts anything', () => {
    expect(parseAccept(undefined)).toEqual([{ type: '*/*', params: {}, q: 1 }]);
    expect(parseAccept('  ')).toEqual([{ type: '*/*', params: {}, q: 1 }]);
  });

  it('parses several ranges with parameters and q-values, in order', () => {
    expect(
      parseAccept('image/jpeg;q=0.5, Application/Octet-Stream ; Transfer-Syntax=1.2.840.10008.1.2.1, */*;q=0.1'),
    ).toEqual([
      { type: 'image/jpeg', params: {}, q: 0.5 },
      { type: 'application/octet-stream', params: { 'transfer-syntax': '1.2.840.10008.1.2.1' }, q: 1 },
      { type: '*/*', params: {}, q: 0.1 },
    ]);
  });

  it('unquotes quoted values, keeping commas and semicolons inside quotes', () => {
    expect(
      parseAccept(
        'multipart/related; type="application/octet-stream; a=1, b=2"; transfer-syntax=*, image/*; x="a\\"b"',
      ),
    ).toEqual([
      {
        type: 'multipart/related',
        params: { type: 'application/octet-stream; a=1, b=2', 'transfer-syntax': '*' },
        q: 1,
      },
      { type: 'image/*', params: { x: 'a"b' }, q: 1 },
    ]);
  });

  it('keeps q=0 (not acceptable) ranges, with q = 0', () => {
    expect(parseAccept('image/jpeg;q=0, image/jls;q=0.000, image/jp2;q=1.000')).toEqual([
      { type: 'image/jpeg', params: {}, q: 0 },
      { type: 'image/jls', params: {}, q: 0 },
      { type: 'image/jp2', params: {}, q: 1 },
    ]);
  });

  it('drops malformed ranges and q-values, keeps the rest', () => {
    expect(
      parseAccept('text, */json, image/jpeg;q=2, image/jls;q=0.1234, image/jp2;q=x, a/b/c, ,image/jphc;;q=0.9'),
    ).toEqual([{ type: 'image/jphc', params: {}, q: 0.9 }]);
  });

  it('parses */* and type/* ranges', () => {
    expect(parseAccept('*/*').map((r) => r.type)).toEqual(['*/*']);
    expect(parseAccept('image/*;q=0.8').map((r) => [r.type, r.q])).toEqual([['image/*', 0.8]]);
  });
});
