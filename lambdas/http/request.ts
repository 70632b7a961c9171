// Reading what API Gateway hands a Lambda: path ids, query parameters, headers and (base64) bodies.
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { BadRequest, NotFound } from './errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Whether a (lower-case) text has the shape of the ids the service makes: a UUID. */
export function isFileId(text: string): boolean {
  return UUID.test(text);
}

/** The `{id}` path parameter; anything that is not a UUID is simply not found (API.md). */
export function fileId(event: APIGatewayProxyEvent): string {
  const id = (event.pathParameters?.id ?? '').toLowerCase();
  if (!isFileId(id)) throw new NotFound('no DICOM file with this id', 'FILE_NOT_FOUND');
  return id;
}

/** A header by name, case-insensitively (API Gateway keeps the client's casing). */
export function header(event: APIGatewayProxyEvent, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === wanted && value !== undefined) return value;
  }
  return undefined;
}

/**
 * The absolute URL of the API root this request came through (`https://host/v1`, `http://localhost:5000`): links
 * in answers must resolve through the same stage, custom domain or local port.
 */
export function apiBaseUrl(event: APIGatewayProxyEvent): string {
  const host = header(event, 'x-forwarded-host') ?? header(event, 'host') ?? 'localhost';
  const proto = header(event, 'x-forwarded-proto') ?? (event.requestContext?.stage === 'local' ? 'http' : 'https');
  // requestContext.path carries the stage (or base path mapping) in front of the resource path.
  const full = event.requestContext?.path ?? event.path;
  const prefix = full.endsWith(event.path) ? full.slice(0, full.length - event.path.length) : '';
  return `${proto.split(',')[0]!.trim()}://${host}${prefix}`;
}

/** The request body as bytes; with binaryMediaTypes `*\/*` API Gateway base64-encodes every body. */
export function bodyBytes(event: APIGatewayProxyEvent): Buffer {
  if (!event.body) return Buffer.alloc(0);
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
}

/** A JSON object body (base64 or text, as API Gateway may send either); 400 when it is not one. */
export function jsonBody(event: APIGatewayProxyEvent): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bodyBytes(event).toString('utf8'));
  } catch {
    throw new BadRequest('the request body must be a JSON object', 'BAD_JSON');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new BadRequest('the request body must be a JSON object', 'BAD_JSON');
  }
  return parsed as Record<string, unknown>;
}

/** One query parameter; a parameter given twice is ambiguous, so the last one wins as in API Gateway. */
export function queryParameter(event: APIGatewayProxyEvent, name: string): string | undefined {
  return event.queryStringParameters?.[name] ?? undefined;
}
