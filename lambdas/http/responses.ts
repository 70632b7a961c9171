// Builds API Gateway proxy responses: JSON bodies, binary (base64) bodies and redirects.
import type { APIGatewayProxyResult } from 'aws-lambda';

const NO_STORE = { 'Cache-Control': 'no-store' };

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { 'Content-Type': 'application/json; charset=utf-8', ...NO_STORE, ...headers },
    body: JSON.stringify(body),
  };
}

/** Binary bodies cross API Gateway base64-encoded (binaryMediaTypes is `*\/*`). */
export function binary(
  statusCode: number,
  bytes: Uint8Array,
  contentType: string,
  headers: Record<string, string> = {},
): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { 'Content-Type': contentType, 'Content-Length': String(bytes.length), ...headers },
    body: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'),
    isBase64Encoded: true,
  };
}

export function redirect(location: string): APIGatewayProxyResult {
  return { statusCode: 302, headers: { Location: location, ...NO_STORE }, body: '' };
}
