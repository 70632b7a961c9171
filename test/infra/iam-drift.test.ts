// IAM drift: the emulators enforce no IAM, so a missing grant works locally and fails on AWS, and an unused one is
// invisible. This runs representative requests through every function (each route's handler, the processor and the
// dead-letter consumer) against the emulators, records every S3 and DynamoDB call each makes (SDK middleware on the
// clients its stores use), maps each call to the IAM action AWS checks, and compares with that function's policy
// in the synthesized template: every call must be allowed, and every access it is granted must be used.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { App } from 'aws-cdk-lib';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, S3Event } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listingIndexesFromEnv, S3_CHECKSUMS, setStores, type Stores } from '../../lambdas/commons.js';
import { ENV, FILE_LISTING_INDEXES, KEYS, TABLE, THUMBNAIL_MAX_PIXELS } from '../../lambdas/config.js';
import { handlerOf, PROCESSING_FAILED, PROCESSOR, ROUTES, type StorageAccess } from '../../lambdas/routes.js';
import { DynamoRecordStore } from '../../lambdas/store/dynamo-record-store.js';
import type { FileRecord } from '../../lambdas/store/records.js';
import { S3ObjectStore } from '../../lambdas/store/s3-object-store.js';
import { ACCESS_ACTIONS, PROJECT_ROOT } from '../../lib/constructs/function-defaults.js';
import { DicomApiStack, stackOptionsFromContext } from '../../lib/dicom-api-stack.js';
import { deadLetterEvent } from '../../local/dead-letters.js';
import { buildDicom, imageElements, patientElements, sampleCt } from '../fixtures/dicom-builder.js';
import { useEmulatedStorage } from '../support/emulated-storage.js';
import { apiEvent, idEvent, s3Event, uploadEvent } from '../support/events.js';
import { references } from '../support/template.js';

const NAME = 'iamdrift';
const BUCKET = `${NAME}-bucket`;
const TABLE_NAME = `${NAME}-table`;
/**
 * The projection of the file listing indexes (LISTING_INDEXES; iam-drift-keys-only.test.ts runs this file with
 * `keysOnly`): the table, the stores and the synthesized stack all follow it.
 */
const LISTING = listingIndexesFromEnv();
useEmulatedStorage(NAME, {
  [ENV.cursorSecret]: 'iam-drift-test-cursor-secret-0123456789',
  [ENV.listingIndexes]: LISTING,
});

// ---------------------------------------------------------------------------------------------------------------
// What each function needs: every SDK call, as the IAM action and resource AWS authorizes it against.

/** One authorization AWS makes for a call: `resource` is `bucket/<key>`, `bucket`, `table` or `table/index/<name>`. */
interface Need {
  fn: string;
  action: string;
  resource: string;
  /** s3:ListBucket of a listing: the s3:prefix it asks for (a 404's existence check has none). */
  listPrefix?: string;
  call: string;
}

const needs: Need[] = [];
/** The function whose handler is running (calls are made one function at a time); the test's own go unrecorded. */
let current = 'none';
const recorded = (need: Need): void => {
  if (need.fn !== 'none') needs.push(need);
};

/** A fault or answer injected into one function's next matching call, to reach its recovery paths. */
interface Injection {
  fn: string;
  command: string;
  /** `fail`: the call throws (after it is recorded); `empty`: GetItem answers "no item". */
  answer: 'fail' | 'empty';
  /** Only once this command has been seen from the function (e.g. GetItem after the rendering's PutObject). */
  after?: string;
  seenAfter?: boolean;
}
const injections: Injection[] = [];

function injected(fn: string, command: string): Injection | undefined {
  for (const injection of injections) {
    if (injection.fn !== fn) continue;
    if (injection.after === command) injection.seenAfter = true;
    if (injection.command === command && (!injection.after || injection.seenAfter)) {
      injections.splice(injections.indexOf(injection), 1);
      return injection;
    }
  }
  return undefined;
}

type Input = Record<string, unknown>;
type Handler = (args: { input: Input }) => Promise<{ output: unknown; response: unknown }>;
type Middleware = (next: Handler, context: { commandName?: string }) => Handler;

const is404 = (error: unknown): boolean =>
  (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404;

/** S3 calls -> IAM (https://docs.aws.amazon.com/AmazonS3/latest/API/API_Operations.html, "Permissions"). */
const recordS3: Middleware = (next, context) => async (args) => {
  const fn = current;
  const command = (context.commandName ?? '').replace(/Command$/, '');
  const input = args.input;
  const key = typeof input.Key === 'string' ? input.Key : '';
  const need = (action: string, resource: string, listPrefix?: string) =>
    recorded({ fn, action, resource, call: `${command} ${key || (input.Prefix as string)}`, listPrefix });
  let sent = args;
  switch (command) {
    case 'GetObject':
    case 'HeadObject':
      need('s3:GetObject', `bucket/${key}`);
      if (input.VersionId) {
        // A named version is authorized as s3:GetObjectVersion. s3rver keeps no versions: read the current object.
        need('s3:GetObjectVersion', `bucket/${key}`);
        sent = { ...args, input: { ...input, VersionId: undefined } };
      }
      break;
    case 'PutObject':
    case 'CreateMultipartUpload':
    case 'UploadPart':
    case 'CompleteMultipartUpload':
      need('s3:PutObject', `bucket/${key}`);
      break;
    case 'CopyObject': {
      need('s3:PutObject', `bucket/${key}`);
      const [source, version] = decodeURIComponent(String(input.CopySource)).split('?versionId=');
      need(version ? 's3:GetObjectVersion' : 's3:GetObject', `bucket/${source!.slice(`${BUCKET}/`.length)}`);
      break;
    }
    case 'DeleteObject':
      need('s3:DeleteObject', `bucket/${key}`);
      break;
    case 'DeleteObjects':
      for (const object of (input.Delete as { Objects: { Key: string }[] }).Objects) {
        recorded({ fn, action: 's3:DeleteObject', resource: `bucket/${object.Key}`, call: command });
      }
      break;
    case 'ListObjectsV2':
      need('s3:ListBucket', 'bucket', String(input.Prefix ?? ''));
      break;
    default:
      need(`s3:${command}`, 'bucket');
  }
  if (injected(fn, command)?.answer === 'fail') throw new Error(`injected fault: ${command}`);
  try {
    return await next(sent);
  } catch (error) {
    // Without s3:ListBucket S3 answers a missing key with 403, which the store treats as a fault: a read that can
    // miss needs ListBucket on the bucket, unconditioned (a GetObject request carries no s3:prefix).
    if (is404(error) && (command === 'GetObject' || command === 'HeadObject')) {
      recorded({ fn, action: 's3:ListBucket', resource: 'bucket', call: `${command} ${key} (404)` });
    }
    throw error;
  }
};

/** DynamoDB calls -> IAM: the action is the operation's name; a Query of an index is authorized on the index. */
const recordDynamo: Middleware = (next, context) => async (args) => {
  const fn = current;
  const command = (context.commandName ?? '').replace(/Command$/, '');
  const index = args.input.IndexName as string | undefined;
  // A batch read names its tables in RequestItems: only this one.
  const tables = args.input.RequestItems ? Object.keys(args.input.RequestItems) : [args.input.TableName];
  expect(tables, command).toEqual([TABLE_NAME]);
  recorded({ fn, action: `dynamodb:${command}`, resource: index ? `table/index/${index}` : 'table', call: command });
  const injection = injected(fn, command);
  if (injection?.answer === 'fail') throw new Error(`injected fault: ${command}`);
  if (injection?.answer === 'empty') return { output: { $metadata: {} }, response: {} };
  return next(args);
};

const clients: { destroy(): void }[] = [];

/** The stores getStores() builds, with the recorder on their clients (endpoints from the environment). */
function recordingStores(): Stores {
  const s3 = new S3Client({ forcePathStyle: true, ...S3_CHECKSUMS });
  const dynamo = new DynamoDBClient({});
  s3.middlewareStack.add(recordS3 as never, { step: 'initialize', name: 'iamDriftRecorder' });
  dynamo.middlewareStack.add(recordDynamo as never, { step: 'initialize', name: 'iamDriftRecorder' });
  clients.push(s3, dynamo);
  return { objects: new S3ObjectStore(s3, BUCKET), records: new DynamoRecordStore(dynamo, TABLE_NAME, LISTING) };
}
afterAll(() => clients.forEach((client) => client.destroy()));

// ---------------------------------------------------------------------------------------------------------------
// What each function holds: its role's statements in the synthesized template.

interface Statement {
  actions: string[];
  resources: string[];
  /** StringLike s3:prefix patterns (ListBucket), when conditioned. */
  prefixes?: string[];
}

function synthPolicies(): Map<string, Statement[]> {
  const cdkContext = (
    JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }
  ).context;
  const app = new App({
    context: { ...cdkContext, 'aws:cdk:bundling-stacks': [], listingIndexes: LISTING },
  });
  const stack = new DicomApiStack(
    app,
    'IamDrift',
    stackOptionsFromContext((k) => app.node.tryGetContext(k)),
  );
  const resources = app.synth().getStackByName(stack.stackName).template.Resources as Record<string, any>;
  const id = (construct: { node: { defaultChild?: unknown } }) =>
    stack.getLogicalId(construct.node.defaultChild as never);
  const named: Record<string, string> = { [id(stack.storage.bucket)]: 'bucket', [id(stack.storage.table)]: 'table' };
  const render = (value: any): string => {
    if (typeof value === 'string') return value;
    if (value['Fn::GetAtt']) return named[value['Fn::GetAtt'][0]] ?? `other:${value['Fn::GetAtt'][0]}`;
    if (value['Fn::Join']) return (value['Fn::Join'][1] as unknown[]).map(render).join(value['Fn::Join'][0]);
    if (value.Ref) return named[value.Ref] ?? `other:${value.Ref}`;
    return JSON.stringify(value);
  };
  const statementsOf = (functionId: string): Statement[] => {
    const role = references(resources[functionId].Properties.Role)[0];
    return Object.values(resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy' && references(r.Properties.Roles).includes(role!))
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Record<string, any>[])
      .map((statement) => {
        const prefixes = statement.Condition?.StringLike?.['s3:prefix'];
        return {
          actions: [statement.Action].flat(),
          resources: [statement.Resource].flat().map(render),
          ...(prefixes ? { prefixes: [prefixes].flat() } : {}),
        };
      });
  };
  const policies = new Map<string, Statement[]>();
  for (const [name, fn] of stack.api.handlerFunctions) policies.set(name, statementsOf(id(fn)));
  policies.set(PROCESSOR.name, statementsOf(id(stack.processor.function)));
  policies.set(PROCESSING_FAILED.name, statementsOf(id(stack.processor.failureFunction)));
  return policies;
}

/** IAM's `*` wildcard (no `?` in these policies). */
const matches = (pattern: string, value: string): boolean =>
  new RegExp(
    `^${pattern
      .split('*')
      .map((part) => part.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'))
      .join('.*')}$`,
  ).test(value);

function allowed(statements: Statement[], need: Need): boolean {
  return statements.some(
    (s) =>
      s.actions.includes(need.action) &&
      s.resources.some((resource) => matches(resource, need.resource)) &&
      // A conditioned ListBucket allows only listings whose prefix matches; a 404's existence check has none.
      (!s.prefixes || (need.listPrefix !== undefined && s.prefixes.some((p) => matches(p, need.listPrefix!)))),
  );
}

/** The access a function's `access` grants, one entry per kind and prefix (what a route table edit adds or drops). */
function grantedAccess(access: StorageAccess): { kind: keyof typeof ACCESS_ACTIONS; prefix?: string }[] {
  const entries: { kind: keyof typeof ACCESS_ACTIONS; prefix?: string }[] = [];
  for (const kind of Object.keys(ACCESS_ACTIONS) as (keyof typeof ACCESS_ACTIONS)[]) {
    const value = access[kind];
    if (value === true) entries.push({ kind });
    else if (Array.isArray(value)) for (const prefix of value) entries.push({ kind, prefix });
  }
  return entries;
}

/** Whether some recorded call of the function used this access. */
function used(fnNeeds: Need[], kind: keyof typeof ACCESS_ACTIONS, prefix?: string): boolean {
  const actions: readonly string[] = ACCESS_ACTIONS[kind];
  return fnNeeds.some((need) => {
    if (!actions.includes(need.action)) return false;
    if (kind === 's3List') return need.listPrefix !== undefined && need.listPrefix.startsWith(prefix!);
    if (kind === 'tableRead' || kind === 'tableWrite' || kind === 'tableBatchRead') return true;
    // s3Read's ListBucket is the existence check of its reads: it counts with them, not alone. A prefix may hold `*`.
    return need.action !== 's3:ListBucket' && matches(`bucket/${prefix}*`, need.resource);
  });
}

/**
 * Granted access no request here reaches, each with why it is needed. Keep this short: everything else must be
 * exercised below.
 */
const UNREACHED: { fn: string; kind: keyof typeof ACCESS_ACTIONS; prefix?: string; why: string }[] = [
  // A record whose counting a fault cut short (counts_pending) is recounted from the records (Query, GetItem) by
  // whoever finds it: the upload's undo, a delete, the dead-letter consumer (test/handlers/count-faults.test.ts).
  { fn: 'upload', kind: 'tableRead', why: 'recount after a counting fault (undo)' },
  { fn: 'delete', kind: 'tableRead', why: 'recount of a record whose counting was cut short' },
  { fn: 'processingFailed', kind: 'tableRead', why: 'recount of a record whose counting was cut short' },
  // Frames over one Lambda answer (tens of MB uncompressed) are written under answers/ and redirected to; the
  // requests here use small files (test/e2e/large-frames.test.ts exercises it).
  { fn: 'dicomwebFrames', kind: 's3Read', prefix: 'answers/', why: 'large frames answer, kept and redirected to' },
  { fn: 'dicomwebFrames', kind: 's3Write', prefix: 'answers/', why: 'large frames answer, kept and redirected to' },
];

/** Functions granted listingRead that list files only on paths no request here takes, each with why. */
const LISTING_UNREACHED: Record<string, string> = {
  dicomwebStore: 'recount after a counting fault (undo), as upload',
  dicomwebDelete: 'a DELETE of a whole study or series lists its files; the request here deletes one instance',
  processor: 'recount of a record whose counting was cut short (process-upload.ts repairCounts)',
};

// ---------------------------------------------------------------------------------------------------------------
// The requests: every route's handler, the processor and the dead-letter consumer.

const handlers = new Map<string, (event: any) => Promise<any>>();
async function handlerModule(name: string): Promise<(event: any) => Promise<any>> {
  if (!handlers.has(name)) {
    const module = (await import(`../../lambdas/handlers/${name}.ts`)) as { handler: (event: any) => Promise<any> };
    handlers.set(name, module.handler);
  }
  return handlers.get(name)!;
}

/** Runs one function's handler on an event, its calls recorded under its name. */
async function as<T = APIGatewayProxyResult>(fn: string, event: unknown): Promise<T> {
  const handler = await handlerModule(fn);
  current = fn;
  try {
    return (await handler(event)) as T;
  } finally {
    current = 'none';
  }
}

async function expectStatus(fn: string, event: APIGatewayProxyEvent, status: number): Promise<APIGatewayProxyResult> {
  const response = await as(fn, event);
  expect(response.statusCode, `${fn} ${event.httpMethod} ${event.path}: ${response.body}`).toBe(status);
  return response;
}

const json = (response: APIGatewayProxyResult): Record<string, any> => JSON.parse(response.body);

function jsonEvent(method: string, resource: string, pathText: string, body: unknown, id?: string) {
  return apiEvent({
    method,
    resource,
    path: pathText,
    ...(id ? { pathParameters: { id } } : {}),
    headers: { 'Content-Type': 'application/json' },
    body: Buffer.from(JSON.stringify(body)),
  });
}

function withVersion(event: S3Event, versionId: string): S3Event {
  (event.Records[0]!.s3.object as { versionId?: string }).versionId = versionId;
  return event;
}

/** A CT image with the UIDs DICOMweb addresses it by. */
function addressableCt(instance = 3): Uint8Array {
  const uid = (n: number) => ({
    tag: [0x0020000d, 0x0020000e, 0x00080018][n]!,
    vr: 'UI',
    value: `2.25.4711.${n === 2 ? instance : n + 1}`,
  });
  return buildDicom([
    ...patientElements({ modality: 'CT' }),
    { tag: 0x00080016, vr: 'UI', value: '1.2.840.10008.5.1.4.1.1.2' },
    uid(0),
    uid(1),
    uid(2),
    ...imageElements({ rows: 8, columns: 8, pixels: Array.from({ length: 64 }, (_, i) => i * 16) }),
  ]);
}

async function uploaded(bytes: Uint8Array): Promise<string> {
  return json(await expectStatus('upload', await uploadEvent(bytes), 201)).id as string;
}

/** The processor on the storage event S3 sends for the file (with a version id, as on the versioned bucket). */
async function processed(id: string, size: number): Promise<void> {
  await as<void>(PROCESSOR.name, withVersion(s3Event(KEYS.upload(id), 'ObjectCreated:Put', size), `v-${id}`));
}

function dicomwebEvent(
  resource: string,
  record: FileRecord,
  extra: Record<string, string> = {},
  accept = '*/*',
  method = 'GET',
) {
  const parameters: Record<string, string> = {
    study: record.study_instance_uid!,
    series: record.series_instance_uid!,
    instance: record.sop_instance_uid!,
    ...extra,
  };
  const used = Object.fromEntries(
    Object.entries(parameters).filter(([name]) => resource.includes(`{${name}}`)),
  ) as Record<string, string>;
  const pathText = resource.replace(/\{(\w+)\}/g, (_, name: string) => used[name]!);
  return apiEvent({ method, resource, path: pathText, pathParameters: used, headers: { Accept: accept } });
}

let policies: Map<string, Statement[]>;
beforeAll(() => {
  policies = synthPolicies();
});

describe('IAM drift: what each function does on S3 and DynamoDB is what its policy allows', () => {
  it('runs every function through its paths, then checks each call against the synthesized policy', async () => {
    const stores = recordingStores();
    setStores(stores);
    const ct = addressableCt();

    // The page: no storage at all.
    await expectStatus('web', apiEvent({ method: 'GET', resource: '/', path: '/' }), 200);
    await expectStatus(
      'webAsset',
      apiEvent({ method: 'GET', resource: '/web/{file}', path: '/web/app.js', pathParameters: { file: 'app.js' } }),
      200,
    );

    // POST /dicom, processed; a second file to delete; an upload whose PutObject fails (its undo path).
    const id = await uploaded(ct);
    await processed(id, ct.length);
    const doomed = await uploaded(sampleCt({ rows: 8, columns: 8 }));
    injections.push({ fn: 'upload', command: 'PutObject', answer: 'fail' });
    await expectStatus('upload', await uploadEvent(sampleCt({ rows: 4, columns: 4 })), 503);

    // Reads of the record, its attributes, the file and PNGs (a cached one, and renderings made on demand).
    await expectStatus('get', idEvent('/dicom/{id}', id), 200);
    await expectStatus('attributes', idEvent('/dicom/{id}/attributes', id), 200);
    // Attributes not stored (no such file, or still processing): the record is read to say which.
    await expectStatus('attributes', idEvent('/dicom/{id}/attributes', '00000000-0000-4000-8000-000000000000'), 404);
    await expectStatus('file', idEvent('/dicom/{id}/file', id), 200);
    await expectStatus('png', idEvent('/dicom/{id}/png', id), 200);
    await expectStatus('png', idEvent('/dicom/{id}/png', id, 'GET', { size: '4x4' }), 200);
    // A rendering finished after a concurrent DELETE (the record is gone when it checks): it removes itself.
    injections.push({ fn: 'png', command: 'GetItem', answer: 'empty', after: 'PutObject' });
    await expectStatus('png', idEvent('/dicom/{id}/png', id, 'GET', { size: '2x2' }), 404);
    // Image URLs (presigned GETs: the signing role must be allowed the read) of a PNG, and of a thumbnail, which only an
    // image larger than the thumbnail box has.
    const tall = sampleCt({ rows: THUMBNAIL_MAX_PIXELS + 4, columns: 4 });
    const tallId = await uploaded(tall);
    await processed(tallId, tall.length);
    const urls = await expectStatus(
      'imageUrls',
      apiEvent({
        method: 'GET',
        resource: '/dicom/image-urls',
        path: '/dicom/image-urls',
        query: { ids: `${id},${tallId}` },
      }),
      200,
    );
    expect(json(urls).images.map((image: { ready: boolean }) => image.ready)).toEqual([true, true]);

    // Listing and search.
    const record = (await stores.records.get(id))!;
    expect(record.study_instance_uid).toBeTruthy();
    await expectStatus('list', apiEvent({ method: 'GET', resource: '/dicom', path: '/dicom' }), 200);
    await expectStatus('search', jsonEvent('POST', '/dicom/search', '/dicom/search', { modality: 'CT' }), 200);
    await expectStatus('studies', apiEvent({ method: 'GET', resource: '/studies', path: '/studies' }), 200);
    const study = { study_uid: record.study_instance_uid! };
    const studyPath = `/studies/${study.study_uid}`;
    await expectStatus(
      'study',
      apiEvent({ method: 'GET', resource: '/studies/{study_uid}', path: studyPath, pathParameters: study }),
      200,
    );
    await expectStatus(
      'studyFiles',
      apiEvent({
        method: 'GET',
        resource: '/studies/{study_uid}/files',
        path: `${studyPath}/files`,
        pathParameters: study,
      }),
      200,
    );
    await expectStatus(
      'studySeries',
      apiEvent({
        method: 'GET',
        resource: '/studies/{study_uid}/series',
        path: `${studyPath}/series`,
        pathParameters: study,
      }),
      200,
    );

    // DICOMweb: every route of each shared handler.
    for (const route of ROUTES.filter((r) => r.path.startsWith('/dicomweb') && r.method === 'GET')) {
      const fn = handlerOf(route);
      const accept = fn === 'dicomwebFrames' ? 'multipart/related; type="application/octet-stream"' : '*/*';
      const extra = { frames: '1', path: '7FE00010' };
      const response = await as(fn, dicomwebEvent(route.path, record, extra, accept));
      expect([200, 204], `${route.name} ${route.path}: ${response.body.slice(0, 300)}`).toContain(response.statusCode);
    }
    // An instance whose metadata was made before ingest stored it is parsed from its original.
    const raw = new S3Client({ forcePathStyle: true, ...S3_CHECKSUMS });
    clients.push(raw);
    await raw.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: KEYS.documents(id) }));
    await expectStatus(
      'dicomwebMetadata',
      dicomwebEvent('/dicomweb/studies/{study}/series/{series}/instances/{instance}/metadata', record),
      200,
    );
    // A rendered JPEG finished after a concurrent DELETE removes itself too.
    injections.push({ fn: 'dicomwebRendered', command: 'GetItem', answer: 'empty', after: 'PutObject' });
    const rendered = dicomwebEvent(
      '/dicomweb/studies/{study}/series/{series}/instances/{instance}/rendered',
      record,
      {},
      'image/jpeg',
    );
    rendered.queryStringParameters = { quality: '51' };
    rendered.multiValueQueryStringParameters = { quality: ['51'] };
    await expectStatus('dicomwebRendered', rendered, 404);

    // STOW-RS stores an instance through POST /dicom's pipeline; DICOMweb DELETE removes it again (routes whose
    // handler this test knows; a new one fails the "every function ran" check below until it is added here).
    const stowOf = (instance: number) =>
      apiEvent({
        method: 'POST',
        resource: '/dicomweb/studies',
        path: '/dicomweb/studies',
        headers: {
          'Content-Type': 'multipart/related; type="application/dicom"; boundary=iamdrift',
          Accept: 'application/dicom+json',
        },
        body: Buffer.concat([
          Buffer.from('--iamdrift\r\nContent-Type: application/dicom\r\n\r\n'),
          addressableCt(instance),
          Buffer.from('\r\n--iamdrift--\r\n'),
        ]),
      });
    const stowed = stowOf(9);
    const stowedId = (await stores.records.findBySopInstanceUid('2.25.4711.9'))[0];
    expect(stowedId, 'nothing stored under that UID before').toBeUndefined();
    await expectStatus('dicomwebStore', stowed, 200);
    const stowedIds = await stores.records.findBySopInstanceUid('2.25.4711.9');
    expect(stowedIds).toHaveLength(1);
    await processed(stowedIds[0]!, 1);
    // A STOW whose PutObject fails runs the same undo as POST /dicom.
    injections.push({ fn: 'dicomwebStore', command: 'PutObject', answer: 'fail' });
    expect((await as('dicomwebStore', stowOf(10))).statusCode).not.toBe(200);
    await expectStatus(
      'dicomwebDelete',
      dicomwebEvent(
        '/dicomweb/studies/{study}/series/{series}/instances/{instance}',
        record,
        { instance: '2.25.4711.9' },
        '*/*',
        'DELETE',
      ),
      200,
    );

    // Reprocess, and the processor's run on the copy (it clears cached renderings).
    await expectStatus('reprocess', idEvent('/dicom/{id}/reprocess', id, 'POST'), 202);
    await processed(id, ct.length);

    // Large uploads: one PUT (and a download before the bytes came), multipart parts, completion; a non-DICOM file.
    const single = json(
      await expectStatus('largeUpload', jsonEvent('POST', '/dicom/uploads', '/dicom/uploads', { size_bytes: 5 }), 201),
    );
    await expectStatus('file', idEvent('/dicom/{id}/file', single.id), 202);
    const put = await fetch(single.upload_url, {
      method: 'PUT',
      body: Buffer.from('junk!'),
      headers: single.upload_headers,
    });
    expect(put.status).toBe(200);
    await processed(single.id, 5);
    const multi = json(
      await expectStatus(
        'largeUpload',
        jsonEvent('POST', '/dicom/uploads', '/dicom/uploads', { size_bytes: ct.length, multipart: true }),
        201,
      ),
    );
    const part = multi.parts[0] as { upload_url: string };
    const etag = (await fetch(part.upload_url, { method: 'PUT', body: ct })).headers.get('etag')!;
    const complete = jsonEvent(
      'POST',
      '/dicom/uploads/{id}/complete',
      `/dicom/uploads/${multi.id}/complete`,
      { parts: [{ part_number: 1, etag }] },
      multi.id,
    );
    await expectStatus('completeUpload', complete, 200);
    await processed(multi.id, ct.length);

    // DELETE, a repeated DELETE; the processor on an event whose file was deleted meanwhile.
    await expectStatus('delete', idEvent('/dicom/{id}', doomed, 'DELETE'), 200);
    await expectStatus('delete', idEvent('/dicom/{id}', doomed, 'DELETE'), 404);
    await processed(doomed, 1);

    // The dead-letter consumer marks a file whose processing failed for good.
    const stuck = json(
      await expectStatus('largeUpload', jsonEvent('POST', '/dicom/uploads', '/dicom/uploads', { size_bytes: 9 }), 201),
    );
    const error = { errorType: 'Error', errorMessage: 'boom' };
    const answer = await as<{ batchItemFailures: unknown[] }>(
      PROCESSING_FAILED.name,
      deadLetterEvent(s3Event(KEYS.upload(stuck.id)), error, 3),
    );
    expect(answer.batchItemFailures).toEqual([]);
    expect(injections, 'every injected fault was reached').toEqual([]);

    // Every call allowed by the function's own policy.
    const denied = needs
      .filter((need) => !allowed(policies.get(need.fn) ?? [], need))
      .map(
        (n) =>
          `${n.fn}: ${n.action} on ${n.resource}${n.listPrefix !== undefined ? ` (prefix ${n.listPrefix})` : ''} <- ${n.call}`,
      );
    // Every access granted to a function used by one of its calls (or listed in UNREACHED with why).
    const functions = [
      ...new Map(ROUTES.map((route) => [handlerOf(route), route.access])),
      [PROCESSOR.name, PROCESSOR.access],
      [PROCESSING_FAILED.name, PROCESSING_FAILED.access],
    ] as [string, StorageAccess][];
    const unused: string[] = [];
    for (const [fn, access] of functions) {
      const fnNeeds = needs.filter((need) => need.fn === fn);
      for (const { kind, prefix } of grantedAccess(access)) {
        if (used(fnNeeds, kind, prefix)) continue;
        if (UNREACHED.some((u) => u.fn === fn && u.kind === kind && u.prefix === prefix)) continue;
        unused.push(`${fn}: ${kind}${prefix ? ` ${prefix}` : ''}`);
      }
    }
    // listingRead: exactly the functions that query a file listing index; with keys-only indexes each reads items by
    // key (BatchGetItem), with ALL indexes none does for a listing (its grant is then nothing).
    const listingIndexNames = FILE_LISTING_INDEXES.map((key) => `table/index/${TABLE.indexes[key].name}`);
    for (const [fn, access] of functions) {
      const fnNeeds = needs.filter((need) => need.fn === fn);
      const lists = fnNeeds.some((n) => n.action === 'dynamodb:Query' && listingIndexNames.includes(n.resource));
      if (lists && !access.listingRead) unused.push(`${fn}: queries a file listing index without listingRead`);
      // The recount after a counting fault (UNREACHED above) lists a study's files.
      const recounts = UNREACHED.some((u) => u.fn === fn && u.kind === 'tableRead' && u.why.startsWith('recount'));
      if (!lists && access.listingRead && !recounts && !LISTING_UNREACHED[fn]) unused.push(`${fn}: listingRead`);
      const fetched = fnNeeds.some((n) => n.action === 'dynamodb:BatchGetItem');
      if (LISTING === 'keysOnly' && access.listingRead && lists && !fetched) {
        unused.push(`${fn}: listingRead (no BatchGetItem with keys-only indexes)`);
      }
    }
    expect({ denied: [...new Set(denied)].sort(), unused }).toEqual({ denied: [], unused: [] });
    // Sanity: every function ran (one with no storage access records nothing).
    const silent = functions.filter(
      ([fn, access]) => grantedAccess(access).length > 0 && !needs.some((n) => n.fn === fn),
    );
    expect(silent).toEqual([]);
  }, 60_000);
});
