// CORS in one place: which browser origins may call the API, and the headers answers, preflights, errors and the bucket carry.
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { ENV } from '../config.js';
import { header } from './request.js';

/** What a browser on an allowed origin may send and read (the stack's preflight and the local runtime's are the same). */
export const CORS = {
  allowMethods: ['GET', 'POST', 'DELETE', 'OPTIONS'],
  // x-api-key (or Authorization: Bearer) for access control, If-None-Match for the PNG ETag, Accept for DICOMweb's
  // multipart media types (a quoted `type=` makes Accept a non-simple header), the rest for SigV4 (-c auth=iam).
  allowHeaders: [
    'Content-Type',
    'X-Api-Key',
    'If-None-Match',
    'Authorization',
    'Accept',
    'X-Amz-Date',
    'X-Amz-Security-Token',
  ],
  // ETag: the PNG cache; Retry-After: 202 and 429; Content-Disposition: the original's filename; Location: 302s;
  // Warning: DICOMweb's notes on a search (fuzzy matching not applied, results limited).
  exposeHeaders: ['ETag', 'Retry-After', 'Content-Disposition', 'Location', 'Warning'],
  maxAgeSeconds: 600,
} as const;

/**
 * The bucket's CORS rule for the same origins (plus the API's own, for the web page): presigned PUTs and
 * UploadParts of the large-file route, GETs of presigned PNG and file redirects; multipart needs each part's ETag.
 */
export const BUCKET_CORS = {
  allowedMethods: ['GET', 'HEAD', 'PUT'],
  allowedHeaders: ['*'],
  exposedHeaders: ['ETag'],
  maxAgeSeconds: 600,
} as const;

/**
 * A comma-separated list of origins (`https://a.example,https://b.example`) as an array; empty means CORS is off.
 * Anything that is not a bare origin (a path, `*`, no scheme) is refused: a typo must not open the API wider.
 */
export function parseOrigins(text: string | undefined): string[] {
  const origins = (text ?? '')
    .split(',')
    .map((origin) => origin.trim())
    .filter((origin) => origin.length > 0);
  for (const origin of origins) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    if (!parsed || parsed.origin !== origin || !/^https?:$/.test(parsed.protocol) || origin.includes('*')) {
      throw new Error(
        `CORS origin "${origin}" is not an origin like https://app.example (scheme, host, optional port)`,
      );
    }
  }
  return [...new Set(origins)];
}

/** The origins this function allows (CORS_ORIGINS, set by the stack or the local runtime). */
export function allowedOrigins(env: NodeJS.ProcessEnv = process.env): string[] {
  return parseOrigins(env[ENV.corsOrigins]);
}

/** Headers of an answer to a request from `origin`: the origin itself when allowed, nothing more when CORS is off. */
export function corsHeaders(origin: string | undefined, allowed: readonly string[]): Record<string, string> {
  if (allowed.length === 0) return {};
  // Vary even when refused: a cache must not hand one origin's answer to another.
  if (!origin || !allowed.includes(origin)) return { Vary: 'Origin' };
  return {
    'Access-Control-Allow-Origin': origin,
    'Access-Control-Expose-Headers': CORS.exposeHeaders.join(','),
    Vary: 'Origin',
  };
}

/** The answer to a preflight (OPTIONS) from `origin`, as the stack's mock integration gives it. */
export function preflightHeaders(origin: string | undefined, allowed: readonly string[]): Record<string, string> {
  const headers = corsHeaders(origin, allowed);
  if (!headers['Access-Control-Allow-Origin']) return headers;
  return {
    ...headers,
    'Access-Control-Allow-Methods': CORS.allowMethods.join(','),
    'Access-Control-Allow-Headers': CORS.allowHeaders.join(','),
    'Access-Control-Max-Age': String(CORS.maxAgeSeconds),
  };
}

/**
 * Lets pages of other origins that isolate themselves (COEP require-corp, as viewers using SharedArrayBuffer do) load
 * our answers; reading them still needs CORS (and the key).
 */
export const RESOURCE_POLICY = { 'Cross-Origin-Resource-Policy': 'cross-origin' } as const;

/** A handler's answer with the CORS headers for the request's Origin (binary bodies and errors alike). */
export function withCors(event: APIGatewayProxyEvent, response: APIGatewayProxyResult): APIGatewayProxyResult {
  const allowed = allowedOrigins();
  if (allowed.length === 0) return { ...response, headers: { ...response.headers, ...RESOURCE_POLICY } };
  const added = corsHeaders(header(event, 'origin'), allowed);
  const headers = { ...response.headers };
  const vary = headers.Vary;
  headers.Vary =
    vary &&
    !String(vary)
      .split(/\s*,\s*/)
      .includes('Origin')
      ? `${vary}, Origin`
      : 'Origin';
  for (const [name, value] of Object.entries(added)) if (name !== 'Vary') headers[name] = value;
  return { ...response, headers: { ...headers, ...RESOURCE_POLICY } };
}
