// Writes docs/openapi.json, the OpenAPI 3.1 document generated from the route table (`npm run openapi`); a test
// fails while the committed file differs from what the route table generates.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { format } from 'prettier';
import { openApiDocument } from '../lambdas/http/openapi.js';

const OPENAPI_FILE = path.resolve(import.meta.dirname, '..', 'docs', 'openapi.json');

// Formatted as `npm run lint` (prettier --check) wants it.
const text = await format(JSON.stringify(openApiDocument()), { parser: 'json', printWidth: 120 });
writeFileSync(OPENAPI_FILE, text);
process.stdout.write(`wrote ${path.relative(process.cwd(), OPENAPI_FILE)} (${text.length} bytes)\n`);
