// DICOMweb at the HTTP edge: the service root URL, path UIDs, Accept negotiation and (gzipped) DICOM JSON answers.
import { gzipSync } from 'node:zlib';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { HttpError, NotFound } from '../http/errors.js';
import { parseAccept, type MediaRange } from '../http/multipart-related.js';
import { apiBaseUrl, header } from '../http/request.js';

export const DICOM_JSON = 'application/dicom+json';

/** Bodies above this are gzipped for clients that accept it (DICOM JSON shrinks 5-20x): more fits in one Lambda answer. */
const GZIP_FROM_BYTES = 8 * 1024;

/** The request's Accept cannot be met (PS3.18 8.7.1: 406). */
export class NotAcceptable extends HttpError {
  constructor(message: string) {
    super(406, 'NOT_ACCEPTABLE', message);
  }
}

/**
 * The absolute URL of the DICOMweb root this request came through (`https://host/v1/dicomweb`): RetrieveURLs and
 * BulkDataURIs must resolve through the same stage, custom domain or local port.
 */
export function dicomwebRoot(event: APIGatewayProxyEvent): string {
  return `${apiBaseUrl(event)}/dicomweb`;
}

const UID = /^[0-9]+(\.[0-9]+)*$/;

/** A UID path parameter; anything that is not a UID is simply not found. */
export function pathUid(event: APIGatewayProxyEvent, name: 'study' | 'series' | 'instance'): string {
  const uid = event.pathParameters?.[name] ?? '';
  if (uid.length > 64 || !UID.test(uid))
    throw new NotFound(`no ${name} with this UID`, `${name.toUpperCase()}_NOT_FOUND`);
  return uid;
}

/** The ranges a client accepts, most preferred first (q=0 ones dropped); no header means anything. */
export function acceptedRanges(event: APIGatewayProxyEvent): MediaRange[] {
  return parseAccept(header(event, 'accept'))
    .filter((range) => range.q > 0)
    .sort((a, b) => b.q - a.q);
}

/** Whether a media range admits `type` (exact, `major/*` or `*\/*`). */
export function admits(range: MediaRange, type: string): boolean {
  if (range.type === '*/*' || range.type === type) return true;
  return range.type.endsWith('/*') && type.startsWith(range.type.slice(0, -1));
}

/** 406 unless the client accepts DICOM JSON (or JSON, or anything). */
export function requireJsonAccepted(event: APIGatewayProxyEvent): void {
  const ranges = acceptedRanges(event);
  if (!ranges.some((range) => admits(range, DICOM_JSON) || admits(range, 'application/json'))) {
    throw new NotAcceptable(`this resource is ${DICOM_JSON}; the Accept header does not allow it`);
  }
}

function acceptsGzip(event: APIGatewayProxyEvent): boolean {
  return /\bgzip\b/i.test(header(event, 'accept-encoding') ?? '');
}

/** A DICOM JSON answer (an array of datasets), gzipped when large and accepted. */
export function dicomJsonResponse(
  event: APIGatewayProxyEvent,
  text: string,
  headers: Record<string, string> = {},
): APIGatewayProxyResult {
  const base = {
    'Content-Type': `${DICOM_JSON}; charset=utf-8`,
    'Cache-Control': 'no-store',
    Vary: 'Accept-Encoding',
    ...headers,
  };
  if (text.length >= GZIP_FROM_BYTES && acceptsGzip(event)) {
    const zipped = gzipSync(text, { level: 6 });
    return {
      statusCode: 200,
      headers: { ...base, 'Content-Encoding': 'gzip', 'Content-Length': String(zipped.length) },
      body: zipped.toString('base64'),
      isBase64Encoded: true,
    };
  }
  return { statusCode: 200, headers: base, body: text };
}

/** The largest body one Lambda answer carries (6 MB as base64, headers aside): above it (after gzip) an answer goes to S3 and the client is redirected, or is refused. */
export const MAX_INLINE_ANSWER_BYTES = 4_300_000;
