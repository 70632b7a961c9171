// The page's Lambdas as deployed: bundled with the stack's esbuild settings, run outside the repository, they
// serve web/ from inside the bundle (no file of web/ sits beside it in the Lambda).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BUNDLE_FILE_NAME,
  esbuildOptions,
  handlerEntry,
  PROJECT_ROOT,
} from '../../lib/constructs/function-defaults.js';
import { ASSET_NAMES, INDEX_ASSET } from '../../lambdas/web/assets.js';

const run = promisify(execFile);

const RUNNER = `
const [bundle, eventJson] = process.argv.slice(2);
const { handler } = await import(bundle);
process.stdout.write(JSON.stringify(await handler(JSON.parse(eventJson), {})));
`;

let outRoot: string;

beforeAll(() => {
  outRoot = mkdtempSync(path.join(tmpdir(), 'dicom-web-bundle-'));
  writeFileSync(path.join(outRoot, 'runner.mjs'), RUNNER);
});
afterAll(() => {
  if (outRoot) rmSync(outRoot, { recursive: true, force: true });
});

/** Each handler bundled once, as NodejsFunction bundles it. */
const bundles = new Map<string, Promise<string>>();

function bundled(name: string): Promise<string> {
  let built = bundles.get(name);
  if (!built) {
    const bundle = path.join(outRoot, name, BUNDLE_FILE_NAME);
    built = build(esbuildOptions(handlerEntry(name), bundle)).then(() => bundle);
    bundles.set(name, built);
  }
  return built;
}

async function invokeBundle(name: string, event: Record<string, unknown>) {
  const bundle = await bundled(name);
  const { stdout } = await run(process.execPath, [path.join(outRoot, 'runner.mjs'), bundle, JSON.stringify(event)], {
    cwd: outRoot,
    timeout: 30_000,
    env: { PATH: process.env.PATH, POWERTOOLS_LOG_LEVEL: 'SILENT', AWS_REGION: 'eu-west-1', BUCKET_NAME: 'b-1' },
  });
  const result = JSON.parse(stdout) as { statusCode: number; headers: Record<string, string>; body: string };
  return { ...result, text: Buffer.from(result.body, 'base64').toString('utf8') };
}

function getEvent(resource: string, pathParameters: Record<string, string> | null, stagePath: string) {
  return {
    resource,
    path: resource,
    httpMethod: 'GET',
    headers: {},
    queryStringParameters: null,
    pathParameters,
    body: null,
    isBase64Encoded: false,
    requestContext: { requestId: 'web-bundle-test', path: stagePath, stage: 'v1' },
  };
}

describe('the web Lambdas, bundled', () => {
  it('GET / serves index.html with the stage as its base', async () => {
    const response = await invokeBundle('web', getEvent('/', null, '/v1'));
    expect(response.statusCode).toBe(200);
    expect(response.headers['Content-Type']).toBe('text/html; charset=utf-8');
    expect(response.headers['Content-Security-Policy']).toContain('https://b-1.s3.eu-west-1.amazonaws.com');
    const source = readFileSync(path.join(PROJECT_ROOT, 'web', INDEX_ASSET), 'utf8');
    expect(response.text).toBe(source.replace('<base href="./" />', '<base href="/v1/" />'));
  });

  it('GET /web/{file} serves every other file of web/ byte for byte', async () => {
    for (const file of ASSET_NAMES.filter((name) => name !== INDEX_ASSET)) {
      const response = await invokeBundle('webAsset', getEvent('/web/{file}', { file }, `/v1/web/${file}`));
      expect(response.statusCode, file).toBe(200);
      expect(response.text, file).toBe(readFileSync(path.join(PROJECT_ROOT, 'web', file), 'utf8'));
    }
  });
});
