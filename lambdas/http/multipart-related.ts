// Builds multipart/related bodies (RFC 2387, as DICOMweb returns them) and parses Accept headers (RFC 9110 12.5.1).
import { randomBytes } from 'node:crypto';

export interface RelatedPart {
  contentType: string;
  bytes: Uint8Array;
  /** More part headers (e.g. Content-Location), written after Content-Type. */
  headers?: Record<string, string>;
}

const CRLF = '\r\n';
/** RFC 2046 5.1.1: 1-70 characters from this set, not ending in a space. */
const BOUNDARY_PATTERN = /^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/;
const TOKEN_PATTERN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Header values may hold visible characters, spaces and tabs only: no CR or LF that could start another header. */
const HEADER_VALUE_PATTERN = /^[\t\x20-\x7e\x80-\xff]*$/;

function containsBytes(haystack: Uint8Array, needle: Uint8Array): boolean {
  return Buffer.from(haystack.buffer, haystack.byteOffset, haystack.byteLength).indexOf(needle) !== -1;
}

function occursInAnyPart(parts: readonly RelatedPart[], boundary: string): boolean {
  const needle = Buffer.from(boundary, 'latin1');
  return parts.some((part) => containsBytes(part.bytes, needle));
}

/** A quoted-string (RFC 9110 5.6.4) when the value is not a token. */
function parameterValue(value: string): string {
  return TOKEN_PATTERN.test(value) ? value : `"${value.replace(/["\\]/g, '\\$&')}"`;
}

function partHeaders(part: RelatedPart): string {
  const headers: [string, string][] = [['Content-Type', part.contentType], ...Object.entries(part.headers ?? {})];
  return headers
    .map(([name, value]) => {
      if (!TOKEN_PATTERN.test(name) || !HEADER_VALUE_PATTERN.test(value)) {
        throw new Error(`invalid part header ${JSON.stringify(name)}`);
      }
      return `${name}: ${value}${CRLF}`;
    })
    .join('');
}

/**
 * A multipart/related body (RFC 2387) and its Content-Type header value: `multipart/related; type="<type>";
 * boundary=<b>`. The boundary is random (or `boundary` when given) and never occurs in any part's bytes.
 */
export function multipartRelated(
  parts: readonly RelatedPart[],
  type: string,
  boundary?: string,
): { body: Uint8Array; contentType: string } {
  let chosen = boundary;
  if (chosen !== undefined) {
    if (!BOUNDARY_PATTERN.test(chosen)) throw new Error('invalid multipart boundary');
    if (occursInAnyPart(parts, chosen)) throw new Error('the multipart boundary occurs in a part');
  } else {
    // 128 random bits make a collision all but impossible; the check makes it impossible.
    do chosen = randomBytes(16).toString('hex');
    while (occursInAnyPart(parts, chosen));
  }
  const chunks: Uint8Array[] = [];
  for (const part of parts) {
    chunks.push(Buffer.from(`--${chosen}${CRLF}${partHeaders(part)}${CRLF}`, 'latin1'), part.bytes);
    chunks.push(Buffer.from(CRLF, 'latin1'));
  }
  chunks.push(Buffer.from(`--${chosen}--${CRLF}`, 'latin1'));
  return {
    body: Buffer.concat(chunks),
    contentType: `multipart/related; type=${parameterValue(type)}; boundary=${parameterValue(chosen)}`,
  };
}

export interface MediaRange {
  /** `type/subtype`, lower case: `*\/*`, `image/*` or a full media type. */
  type: string;
  /** Parameters other than q, names lower case, quoted values unquoted. */
  params: Record<string, string>;
  /** The weight, 0 to 1 (1 when absent). */
  q: number;
}

/** Splits at `separator` outside quoted-strings. */
function splitOutsideQuotes(text: string, separator: string): string[] {
  const pieces: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted && c === '\\' && i + 1 < text.length) {
      current += c + text[++i]!;
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === separator && !quoted) {
      pieces.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  pieces.push(current);
  return pieces;
}

function unquote(value: string): string {
  if (value.length < 2 || !value.startsWith('"') || !value.endsWith('"')) return value;
  return value.slice(1, -1).replace(/\\(.)/g, '$1');
}

const QVALUE_PATTERN = /^(0(\.[0-9]{0,3})?|1(\.0{0,3})?)$/;

/**
 * Parses an Accept header into media ranges with parameters and q-values (RFC 9110 12.5.1), in header order,
 * quoted values unquoted. No header (or a blank one) accepts anything: one `*\/*` range. Ranges that are not
 * `type/subtype`, and those with a malformed q, are dropped.
 */
export function parseAccept(header: string | undefined): MediaRange[] {
  if (header === undefined || header.trim() === '') return [{ type: '*/*', params: {}, q: 1 }];
  const ranges: MediaRange[] = [];
  for (const element of splitOutsideQuotes(header, ',')) {
    const [rawType = '', ...rawParams] = splitOutsideQuotes(element, ';');
    const type = rawType.trim().toLowerCase();
    const [main, sub, ...more] = type.split('/');
    if (!main || !sub || more.length > 0 || !TOKEN_PATTERN.test(main) || !TOKEN_PATTERN.test(sub)) continue;
    if (main === '*' && sub !== '*') continue;
    const params: Record<string, string> = {};
    let q = 1;
    let valid = true;
    for (const rawParam of rawParams) {
      const text = rawParam.trim();
      if (!text) continue; // RFC 9110 allows empty parameters (";;")
      const equals = text.indexOf('=');
      if (equals <= 0) {
        valid = false;
        break;
      }
      const name = text.slice(0, equals).trim().toLowerCase();
      const value = unquote(text.slice(equals + 1).trim());
      if (name === 'q') {
        if (!QVALUE_PATTERN.test(value)) {
          valid = false;
          break;
        }
        q = Number(value);
      } else {
        params[name] = value;
      }
    }
    if (valid) ranges.push({ type, params, q });
  }
  return ranges;
}
