// GET /openapi.json: this API as an OpenAPI 3.1 document, generated from the route table (lambdas/http/openapi.ts).
import { gzipSync } from 'node:zlib';
import { httpHandler } from '../http/handler.js';
import { openApiDocument } from '../http/openapi.js';
import { apiBaseUrl, header } from '../http/request.js';
import { json } from '../http/responses.js';

const document = openApiDocument();
const CACHING = { 'Cache-Control': 'public, max-age=300', Vary: 'Accept-Encoding' };

export const handler = httpHandler('openapi', async (event) => {
  // The server is the URL this request came through (stage, custom domain or local port), so "try it" tools work.
  const answer = json(200, { ...document, servers: [{ url: apiBaseUrl(event) }] }, CACHING);
  if (!/\bgzip\b/i.test(header(event, 'accept-encoding') ?? '')) return answer;
  // About 100 KB of JSON, a tenth of that gzipped.
  const zipped = gzipSync(answer.body);
  return {
    ...answer,
    headers: { ...answer.headers, 'Content-Encoding': 'gzip', 'Content-Length': String(zipped.length) },
    body: zipped.toString('base64'),
    isBase64Encoded: true,
  };
});
