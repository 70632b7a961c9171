// Builds every Lambda with the stack's exact esbuild settings and runs each bundle in a fresh Node process,
// outside the repository: catches a handler that works under tsx but not bundled (dynamic requires, ESM/CJS mixups).
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '../../lambdas/config.js';
import { handlerOf, PROCESSING_FAILED, PROCESSOR, ROUTES } from '../../lambdas/routes.js';
import { renderInputs, RENDERING_FUNCTIONS } from '../../lib/constructs/bundle-contents.js';
import {
  BUNDLE_FILE_NAME,
  esbuildOptions,
  handlerEntry,
  PROJECT_ROOT,
} from '../../lib/constructs/function-defaults.js';
import { DicomApiStack } from '../../lib/dicom-api-stack.js';

const run = promisify(execFile);
const AUTHORIZER = 'apiKeyAuthorizer';
const NAMES = [...new Set(ROUTES.map(handlerOf)), PROCESSOR.name, PROCESSING_FAILED.name, AUTHORIZER];
const NOT_A_UUID = 'not-a-uuid';

/** Imports a bundle as Lambda's runtime would (ESM, fresh process), checks `handler`, invokes it once. */
const RUNNER = `
const [bundle, eventJson] = process.argv.slice(2);
const module = await import(bundle);
if (typeof module.handler !== 'function') throw new Error('handler is ' + typeof module.handler);
const result = await module.handler(JSON.parse(eventJson), {});
process.stdout.write(JSON.stringify({ result: result ?? null }));
`;

function apiEvent(method: string, resource: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    resource,
    path: resource,
    httpMethod: method,
    headers: {},
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body: null,
    isBase64Encoded: false,
    requestContext: { requestId: 'bundle-test', httpMethod: method, resourcePath: resource, stage: 'test' },
    ...extra,
  };
}

/** A request each route rejects before touching AWS, so the bundle's own code (parsing, errors, logging) runs. */
function smokeEvent(name: string): { event: Record<string, unknown>; status?: number; result?: unknown } {
  const route = ROUTES.find((r) => handlerOf(r) === name);
  if (name === AUTHORIZER) {
    // A Bearer token becomes the key API Gateway checks, with a policy for the whole stage.
    return {
      event: {
        type: 'REQUEST',
        methodArn: 'arn:aws:execute-api:us-east-1:123456789012:abc123/v1/GET/dicomweb/studies',
        headers: { Authorization: 'Bearer k3y' },
      },
      result: {
        principalId: 'api-key',
        policyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Action: 'execute-api:Invoke',
              Effect: 'Allow',
              Resource: 'arn:aws:execute-api:us-east-1:123456789012:abc123/v1/*',
            },
          ],
        },
        usageIdentifierKey: 'k3y',
      },
    };
  }
  if (name === PROCESSING_FAILED.name) {
    // A message that is no Lambda failure record is logged and dropped, without calling DynamoDB.
    return {
      event: { Records: [{ messageId: 'bundle-test', body: 'not a failure record' }] },
      result: { batchItemFailures: [] },
    };
  }
  if (!route) {
    // The processor ignores a key outside the UUID scheme without calling S3.
    const key = `${PROCESSOR.triggerPrefix}${NOT_A_UUID}`;
    return {
      event: { Records: [{ eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'b' }, object: { key, size: 1 } } }] },
    };
  }
  const parameter = /\{(\w+)\}/.exec(route.path)?.[1];
  if (parameter) {
    // An id (or study UID) that cannot exist is a 404 before any storage call.
    return { event: apiEvent(route.method, route.path, { pathParameters: { [parameter]: NOT_A_UUID } }), status: 404 };
  }
  if (route.method === 'GET') {
    return { event: apiEvent(route.method, route.path, { queryStringParameters: { unknown: '1' } }), status: 400 };
  }
  // POST /dicom with a file that is not DICOM: runs multipart parsing and the DICOM parser.
  const boundary = 'bundle-test-boundary';
  const body = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.dcm"\r\n` +
      `Content-Type: application/octet-stream\r\n\r\nnot dicom at all\r\n--${boundary}--\r\n`,
  );
  const headers = { 'Content-Type': `multipart/form-data; boundary=${boundary}` };
  return {
    event: apiEvent(route.method, route.path, { headers, body: body.toString('base64'), isBase64Encoded: true }),
    status: 400,
  };
}

let outRoot: string;
/** The asset directory `cdk synth` makes for each function (what Lambda unzips into /var/task), by function name. */
const stackAssets = new Map<string, string>();

beforeAll(() => {
  // Outside the repository, so a bundle cannot quietly resolve a package from node_modules.
  outRoot = mkdtempSync(path.join(tmpdir(), 'dicom-lambda-bundles-'));
  writeFileSync(path.join(outRoot, 'runner.mjs'), RUNNER);

  // The stack as `cdk synth` builds it, bundling included.
  const cdkJson = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { context: object };
  const app = new App({ outdir: path.join(outRoot, 'cdk.out'), context: cdkJson.context });
  const stack = new DicomApiStack(app, 'DicomApiBundles');
  const assembly = app.synth();
  const resources = Template.fromStack(stack).toJSON().Resources as Record<string, { Properties: any }>;
  const functions = [
    ...ROUTES.map((route) => [handlerOf(route), stack.api.functions.get(route.name)!] as const),
    [PROCESSOR.name, stack.processor.function] as const,
    [PROCESSING_FAILED.name, stack.processor.failureFunction] as const,
    [AUTHORIZER, stack.api.authorizerFunction!] as const,
  ];
  for (const [name, fn] of functions) {
    const s3Key = resources[stack.getLogicalId(fn.node.defaultChild as CfnFunction)]!.Properties.Code.S3Key as string;
    stackAssets.set(name, path.join(assembly.directory, `asset.${s3Key.replace(/\.zip$/, '')}`));
  }
}, 120_000);

afterAll(() => {
  if (outRoot) rmSync(outRoot, { recursive: true, force: true });
});

/** Where esbuild finds the JPEG Lossless decoder's .wasm (an input of every rendering bundle). */
const LOSSLESS_WASM = 'node_modules/dcmjs-codecs/build/dcmjs-native-codecs.wasm';

/**
 * The .wasm files esbuild's file loader writes beside a rendering bundle (content-hashed names), one per codec: read
 * from there on first use, never embedded.
 */
const CODEC_WASM = [
  /^charlswasm_decode-\w+\.wasm$/,
  /^dcmjs-native-codecs-\w+\.wasm$/,
  /^libjpegturbowasm_decode-\w+\.wasm$/,
  /^openjpegwasm_decode-\w+\.wasm$/,
  /^openjphjs-\w+\.wasm$/,
];

/** The files of a bundle directory but its source map (whose relative source paths depend on where it was built). */
function deployedFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((file) => !file.endsWith('.map'))
    .sort();
}

/**
 * A 3 x 2 16-bit lossless JPEG (SV1) of 0, 1000, 65535 / 4242, 31337, 7, written by the unit tests' lossless writer
 * (test/unit/codecs.test.ts).
 */
const LOSSLESS_FRAME =
  'ffd8ffc400240000000000110000000000000000000000000102030405060708090a0b0c0d0e0f10ffc3000b100002000301011100' +
  'ffda000801010001000082be8502cd8493f4ebbc2cefffd9';

const codecModule = (file: string): string => JSON.stringify(path.join(PROJECT_ROOT, 'lambdas/dicom/codecs', file));

/**
 * Bundles the WASM codecs alone, starts each in a fresh process and decodes LOSSLESS_FRAME: every .wasm beside the
 * bundle loads.
 */
const CODECS_ENTRY = `
import { decodeJpegLossless } from ${codecModule('jpeg-lossless.ts')};
import { charls } from ${codecModule('charls.ts')};
import { libjpeg } from ${codecModule('libjpeg-turbo.ts')};
import { openjpeg } from ${codecModule('openjpeg.ts')};
import { openjph } from ${codecModule('openjph.ts')};
for (const codec of [charls, libjpeg, openjpeg, openjph]) await codec.load();
const layout = { rows: 2, columns: 3, samplesPerPixel: 1, bitsAllocated: 16, bitsStored: 16, highBit: 15,
  signed: false, planarConfiguration: 0, numberOfFrames: 1, photometric: 'MONOCHROME2', sampleFormat: 'integer' };
const bytes = Uint8Array.from(Buffer.from(process.argv[2], 'hex'));
const { samples } = await decodeJpegLossless({ bytes, layout, transferSyntaxUid: '1.2.840.10008.1.2.4.70', frameIndex: 0 });
process.stdout.write(JSON.stringify([...samples]));
`;

describe('Lambda bundles', () => {
  it('the codecs start from the .wasm files beside their bundle, with no node_modules: JPEG Lossless decodes', async () => {
    const dir = path.join(outRoot, 'codecs');
    const entry = path.join(dir, 'entry.ts');
    mkdirSync(dir, { recursive: true });
    writeFileSync(entry, CODECS_ENTRY);
    const built = path.join(dir, 'build');
    const { metafile } = await build({ ...esbuildOptions(entry, path.join(built, BUNDLE_FILE_NAME)), metafile: true });
    expect(Object.keys(metafile.inputs)).toContain(LOSSLESS_WASM);
    const files = deployedFiles(built);
    expect(files.filter((file) => file !== BUNDLE_FILE_NAME)).toEqual(CODEC_WASM.map((w) => expect.stringMatching(w)));
    // Laid out as Lambda unzips an asset (/var/task: the bundle and its files, nothing else), and run from another
    // directory: the .wasm is found beside the bundle, not in the working directory.
    const task = path.join(dir, 'task');
    mkdirSync(task);
    for (const file of files) copyFileSync(path.join(built, file), path.join(task, file));
    const { stdout } = await run(process.execPath, [path.join(task, BUNDLE_FILE_NAME), LOSSLESS_FRAME], {
      cwd: outRoot,
      timeout: 30_000,
      env: { PATH: process.env.PATH },
    });
    expect(JSON.parse(stdout)).toEqual([0, 1000, 65535, 4242, 31337, 7]);
  });

  it.each(NAMES)('%s: the bundle imports in a fresh Node process and its handler answers', async (name) => {
    const bundle = path.join(outRoot, name, BUNDLE_FILE_NAME);
    const { metafile } = await build({ ...esbuildOptions(handlerEntry(name), bundle), metafile: true });
    // Only the functions that render carry the decoder and codecs: the others stay small and start fast.
    const rendering = renderInputs(metafile);
    const files = deployedFiles(path.dirname(bundle));
    if (RENDERING_FUNCTIONS.includes(name)) {
      expect(rendering, 'render and codec code').toContain('lambdas/dicom/codecs/index.ts');
      expect(rendering, 'the JPEG Lossless .wasm').toContain(LOSSLESS_WASM);
      expect(files).toContain(BUNDLE_FILE_NAME);
      const beside = files.filter((file) => file !== BUNDLE_FILE_NAME);
      expect(beside, 'each codec .wasm beside the bundle').toEqual(
        CODEC_WASM.map((wasm) => expect.stringMatching(wasm)),
      );
    } else {
      expect(rendering, 'no render or codec code').toEqual([]);
      expect(files, 'the bundle alone').toEqual([BUNDLE_FILE_NAME]);
    }
    // The settings really are the stack's: file for file and byte for byte what NodejsFunction put in the asset.
    const asset = stackAssets.get(name)!;
    expect(deployedFiles(asset), 'the stack asset holds the same files').toEqual(files);
    for (const file of files) {
      const same = readFileSync(path.join(path.dirname(bundle), file)).equals(readFileSync(path.join(asset, file)));
      expect(same, `${file}: same bytes as the stack asset`).toBe(true);
    }
    const { event, status, result: expected } = smokeEvent(name);
    const { stdout } = await run(process.execPath, [path.join(outRoot, 'runner.mjs'), bundle, JSON.stringify(event)], {
      cwd: outRoot,
      timeout: 30_000,
      // Only what Lambda would set; any AWS call would go to a closed port and fail fast.
      env: {
        PATH: process.env.PATH,
        NODE_OPTIONS: '--enable-source-maps',
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'bundle-test',
        AWS_SECRET_ACCESS_KEY: 'bundle-test',
        AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        POWERTOOLS_LOG_LEVEL: 'SILENT',
        [ENV.bucketName]: 'bundle-test-bucket',
        [ENV.tableName]: 'bundle-test-table',
      },
    });
    const { result } = JSON.parse(stdout) as { result: { statusCode: number; body: string } | null };
    if (status === undefined) {
      expect(result).toEqual(expected ?? null);
      return;
    }
    expect(result?.statusCode).toBe(status);
    const body = JSON.parse(result!.body) as { error: unknown; code: unknown };
    expect(typeof body.error).toBe('string');
    expect(typeof body.code).toBe('string');
  });
});
