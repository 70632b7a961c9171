// postinstall: s3rver 3.7.1 makes ListObjectsV2 continuation tokens with the DES cipher, which the
// OpenSSL 3 in Node >= 17 no longer offers: every truncated listing (more than max-keys objects, at
// most 1000) was a 500 from the local S3. The tokens become base64 of the same "region/bucket/key"
// text: opaque to clients, read back only by s3rver. Local emulator only; idempotent; fails loudly
// if the library changed so the patch no longer applies.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const path = join(dirname(require.resolve('s3rver/package.json')), 'lib/controllers/bucket.js');
const MARKER = '// patched by dicom-api: continuation tokens without DES';
const source = readFileSync(path, 'utf8');
if (!source.includes(MARKER)) {
  const start = source.indexOf('function generateContinuationToken(');
  const end = source.indexOf('exports.bucketExists');
  if (start === -1 || end === -1 || source.indexOf('function generateContinuationToken(', start + 1) !== -1) {
    throw new Error('patch-s3rver: continuation token functions not found as expected; check the s3rver version');
  }
  const replacement = `${MARKER}
function generateContinuationToken(bucket, keyName, region) {
  return Buffer.from(\`\${region}/\${bucket}/\${keyName}\`, 'utf8').toString('base64');
}

function decipherContinuationToken(token) {
  return Buffer.from(token, 'base64').toString('utf8');
}

`;
  const patched = source.slice(0, start) + replacement + source.slice(end);
  if (/createDecipheriv\(\s*'des'|createCipheriv\(\s*'des'/.test(patched)) {
    throw new Error('patch-s3rver: a DES cipher call is left after patching; check the s3rver version');
  }
  writeFileSync(path, patched);
}
