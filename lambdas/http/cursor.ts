// Paging cursors: the store's position sealed with AES-256-GCM, so a client can neither read nor alter one.
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { ENV } from '../config.js';
import { BadRequest } from './errors.js';

/** A cursor older than this is refused: positions stay valid, but keys rotate with deploys. */
export const CURSOR_MAX_AGE_SECONDS = 24 * 3600;

const VERSION = 1;
const AAD = Buffer.from('dicom-api cursor v1');
const IV_BYTES = 12;
const TAG_BYTES = 16;

let cached: { secret: string; key: Buffer } | undefined;

/** The sealing key, derived (HKDF-SHA256) from the deployment's secret: CDK generates it, the local runtime keeps one in its data folder. */
function cursorKey(): Buffer {
  const secret = process.env[ENV.cursorSecret];
  if (!secret || secret.length < 32) throw new Error(`${ENV.cursorSecret} is not set (32 characters or more)`);
  if (cached?.secret !== secret) {
    cached = { secret, key: Buffer.from(hkdfSync('sha256', secret, 'dicom-api', 'paging cursor', 32)) };
  }
  return cached.key;
}

/** A short digest of the query a cursor belongs to (kind + canonical filters); never the filter values themselves. */
export function queryFingerprint(kind: string, filters: object): string {
  const canonical = JSON.stringify([kind, Object.entries(filters).sort(([a], [b]) => a.localeCompare(b))]);
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 22);
}

interface Sealed {
  v: number;
  /** The query's fingerprint. */
  q: string;
  /** The store's position. */
  a: string;
  /** Issued at (epoch seconds). */
  t: number;
}

export function sealCursor(position: string, fingerprint: string, now = Date.now()): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', cursorKey(), iv).setAAD(AAD);
  const payload: Sealed = { v: VERSION, q: fingerprint, a: position, t: Math.floor(now / 1000) };
  const encrypted = Buffer.concat([cipher.update(JSON.stringify(payload), 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), encrypted]).toString('base64url');
}

/** The position in a cursor this API issued for this same query; 400 for anything else. */
export function openCursor(cursor: string, fingerprint: string, now = Date.now()): string {
  const invalid = (): BadRequest =>
    new BadRequest(
      'cursor is not valid (altered, truncated or from another deployment); use next_cursor exactly as returned, or start again without one',
      'INVALID_CURSOR',
    );
  if (!/^[A-Za-z0-9_-]{40,4096}$/.test(cursor)) throw invalid();
  const bytes = Buffer.from(cursor, 'base64url');
  let payload: Sealed;
  try {
    const decipher = createDecipheriv('aes-256-gcm', cursorKey(), bytes.subarray(0, IV_BYTES)).setAAD(AAD);
    decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    const plain = Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
    payload = JSON.parse(plain.toString('utf8')) as Sealed;
  } catch {
    throw invalid();
  }
  if (payload.v !== VERSION || typeof payload.a !== 'string') throw invalid();
  if (payload.q !== fingerprint) {
    throw new BadRequest(
      'cursor belongs to a query with other filters; send the same filters as the page it came from',
      'CURSOR_MISMATCH',
    );
  }
  if (now / 1000 - payload.t > CURSOR_MAX_AGE_SECONDS) {
    throw new BadRequest('cursor has expired (older than 24 hours); start again without one', 'CURSOR_EXPIRED');
  }
  return payload.a;
}
