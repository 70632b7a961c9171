// Every route of the local runtime (or API_URL's stage) called with real requests, each answer held to the OpenAPI
// document GET /openapi.json serves: its status, media type and error code are among those declared for the route.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  openApiDocument,
  type OpenApiDocument,
  type OpenApiMethod,
  type OpenApiOperation,
  type OpenApiReference,
  type OpenApiResponse,
} from '../../lambdas/http/openapi.js';
import { buildDicom, imageElements, patientElements } from '../fixtures/dicom-builder.js';
import { uniqueUidRoot } from '../support/dicomweb.js';
import { uploadForm } from '../support/runtime.js';
import { eventually, isRemote, startTarget, type ApiTarget } from '../support/target.js';

const CT_IMAGE = '1.2.840.10008.5.1.4.1.1.2';

let api: ApiTarget;
let document: OpenApiDocument;
const root = uniqueUidRoot();
const study = `${root}.1`;
const series = `${study}.1`;
/** The file every read addresses, and the path parameters that name it. */
const main = { sop: `${series}.1`, id: '' };
const values = (): Record<string, string> => ({
  id: main.id,
  study_uid: study,
  study,
  series,
  instance: main.sop,
  frames: '1',
  path: '7FE00010',
  file: 'app.js',
});

interface Operation {
  method: OpenApiMethod;
  template: string;
  operation: OpenApiOperation;
}

function operations(): Operation[] {
  return Object.entries(document.paths).flatMap(([template, item]) =>
    Object.entries(item).map(([method, operation]) => ({ method: method as OpenApiMethod, template, operation })),
  );
}

function operationNamed(operationId: string): Operation {
  const found = operations().find((o) => o.operation.operationId === operationId);
  expect(found, operationId).toBeDefined();
  return found!;
}

/** A small CT slice of the test's study (`seed` varies its pixels). */
function ct(seriesUid: string, sopUid: string, seed: number): Uint8Array {
  const pixels = Array.from({ length: 64 }, (_, i) => (i * 37 + seed * 11) % 2048);
  return buildDicom(
    [
      ...patientElements({ modality: 'CT', id: `OPENAPI-${root.slice(-8)}` }),
      { tag: 0x0020000d, vr: 'UI', value: study },
      { tag: 0x0020000e, vr: 'UI', value: seriesUid },
      { tag: 0x00200013, vr: 'IS', value: String(seed + 1) },
      ...imageElements({ rows: 8, columns: 8, pixels, rescale: { slope: 1, intercept: -1024 } }),
    ],
    { sopInstanceUid: sopUid, sopClassUid: CT_IMAGE },
  );
}

/** A STOW-RS request body of one instance. */
function stowBody(bytes: Uint8Array): { body: Buffer; headers: Record<string, string> } {
  const boundary = `openapi-${root.slice(-8)}`;
  return {
    body: Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`),
      bytes,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]),
    headers: { 'Content-Type': `multipart/related; type="application/dicom"; boundary=${boundary}` },
  };
}

function resolved(response: OpenApiResponse | OpenApiReference): OpenApiResponse {
  if (!('$ref' in response)) return response;
  const name = response.$ref.split('/').pop()!;
  return document.components.responses[name]!;
}

/** A media type's base (lower case) and its `type` parameter (multipart/related's part type), if any. */
function mediaType(text: string): { base: string; type?: string } {
  const [base = '', ...parameters] = text.split(';').map((part) => part.trim());
  const type = parameters.find((p) => /^type=/i.test(p))?.slice(5);
  return { base: base.toLowerCase(), ...(type ? { type: type.replace(/^"|"$/g, '').toLowerCase() } : {}) };
}

interface Answer {
  status: number;
  json?: Record<string, unknown>;
}

/** Operations called so far, each with the statuses it answered. */
const answered = new Map<string, Set<number>>();

/**
 * Calls one operation with the test's values (or `path` overrides) and checks the answer against the document: a
 * declared status; a body of a declared media type (none where none is declared); an error's code declared for it.
 */
async function call(
  operationId: string,
  options: {
    query?: Record<string, string>;
    path?: Record<string, string>;
    body?: RequestInit['body'];
    headers?: Record<string, string>;
  } = {},
): Promise<Answer> {
  const { method, template, operation } = operationNamed(operationId);
  const names = { ...values(), ...options.path };
  const resolvedPath = template.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(names[name]!));
  const query = options.query ? `?${new URLSearchParams(options.query)}` : '';
  const response = await api.fetch(`${resolvedPath}${query}`, {
    method: method.toUpperCase(),
    redirect: 'manual',
    ...(options.body ? { body: options.body } : {}),
    ...(options.headers ? { headers: options.headers } : {}),
  });
  const bytes = Buffer.from(await response.arrayBuffer());
  const what = `${operationId} ${method.toUpperCase()} ${resolvedPath}${query} -> ${response.status} ${bytes.toString('utf8', 0, 300)}`;
  const declared = operation.responses[String(response.status)];
  expect(declared, `${what}: status not in the document`).toBeDefined();
  const spec = resolved(declared!);
  const types = Object.keys(spec.content ?? {});
  if (types.length === 0) {
    expect(bytes.length, `${what}: no body declared`).toBe(0);
  } else {
    const actual = mediaType(response.headers.get('content-type') ?? '');
    const fits = types.map(mediaType).some((d) => d.base === actual.base && (!d.type || d.type === actual.type));
    expect(fits, `${what}: ${response.headers.get('content-type')} is none of ${types.join(', ')}`).toBe(true);
  }
  const set = answered.get(operationId) ?? new Set<number>();
  answered.set(operationId, set.add(response.status));
  const json = mediaType(response.headers.get('content-type') ?? '').base.endsWith('json')
    ? (JSON.parse(bytes.toString('utf8')) as Record<string, unknown>)
    : undefined;
  const errorSchema = spec.content?.['application/json']?.schema as
    { allOf?: { properties?: { code?: { enum?: string[] } } }[] } | undefined;
  const codes = errorSchema?.allOf?.[1]?.properties?.code?.enum;
  if (codes) {
    expect(json, what).toMatchObject({ error: expect.any(String), code: expect.any(String) });
    expect(codes, `${what}: code not declared`).toContain(json!.code);
  }
  return { status: response.status, ...(json ? { json } : {}) };
}

async function upload(bytes: Uint8Array, filename: string): Promise<string> {
  const answer = await call('upload', { body: uploadForm(bytes, filename) });
  expect(answer.status).toBe(201);
  return api.track(answer.json!.id as string);
}

async function ready(id: string): Promise<void> {
  await eventually(async () => {
    const record = (await (await api.fetch(`/dicom/${id}`)).json()) as { status?: string };
    return record.status === 'PROCESSING' ? undefined : true;
  });
}

beforeAll(async () => {
  api = await startTarget();
  const response = await api.fetch('/openapi.json');
  expect(response.status).toBe(200);
  document = (await response.json()) as OpenApiDocument;
});
afterAll(async () => {
  if (api) await api.fetch(`/dicomweb/studies/${study}`, { method: 'DELETE' });
  await api?.close();
});

describe('GET /openapi.json', () => {
  it('answers the document the route table generates, its server the URL it was asked through, without a key', async () => {
    const response = await fetch(`${api.url}/openapi.json`, { headers: { 'Accept-Encoding': 'gzip' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const served = (await response.json()) as OpenApiDocument;
    const generated = JSON.parse(JSON.stringify(openApiDocument())) as OpenApiDocument;
    expect(served.openapi).toBe('3.1.0');
    if (!isRemote) {
      // A deployed stage may run another version of the table; the local runtime runs this one.
      expect({ ...served, servers: [] }).toEqual({ ...generated, servers: [] });
      expect(served.servers).toEqual([{ url: api.url }]);
    }
  });
});

describe('every route, as the document says', () => {
  it('answers real requests with a declared status, media type and error code', async () => {
    // Uploads: the file every read addresses, one in a second series, one to delete by id.
    main.id = await upload(ct(series, main.sop, 0), 'main.dcm');
    const other = await upload(ct(`${study}.2`, `${study}.2.1`, 1), 'other.dcm');
    const spare = await upload(ct(series, `${series}.9`, 2), 'spare.dcm');
    for (const id of [main.id, other, spare]) await ready(id);

    // Every read, with a query where the route takes one.
    const samples: Record<string, Record<string, string>> = {
      list: { modality: 'ct', limit: '5' },
      studies: { limit: '5' },
      studyFiles: { limit: '5' },
      attributes: { tag: 'PatientID' },
      png: { max: '4' },
      imageUrls: { ids: main.id },
      dicomwebStudies: { StudyInstanceUID: study, includefield: 'all' },
      dicomwebSeries: { '0020000D': study },
      dicomwebInstances: { StudyInstanceUID: study, limit: '5' },
    };
    for (const { method, operation } of operations().filter((o) => o.method === 'get')) {
      const id = operation.operationId;
      const query = samples[id] ?? (id.startsWith('dicomwebRendered') ? { viewport: '4,4' } : undefined);
      const answer = await call(id, query ? { query } : {});
      expect([200, 202, 302], `${method} ${id}`).toContain(answer.status);
    }
    // The misses: a file, a study and an instance that do not exist.
    const missing = '00000000-0000-4000-8000-000000000000';
    for (const id of ['get', 'attributes', 'png', 'file', 'reprocess']) {
      expect((await call(id, { path: { id: missing } })).status, id).toBe(404);
    }
    expect((await call('study', { path: { study_uid: `${root}.404` } })).status).toBe(404);
    expect((await call('dicomwebMetadata2', { path: { instance: `${root}.404` } })).status).toBe(404);
    expect((await call('webAsset', { path: { file: 'nothing.js' } })).status).toBe(404);

    // Writes: search, a large upload and a completion it does not take, STOW-RS at both paths, reprocess.
    const json = { 'Content-Type': 'application/json' };
    expect((await call('search', { body: JSON.stringify({ modality: 'CT', limit: 5 }), headers: json })).status).toBe(
      200,
    );
    expect((await call('search', { body: '[1]', headers: json })).status).toBe(400);
    const large = await call('largeUpload', { body: JSON.stringify({ size_bytes: 5 }), headers: json });
    expect(large.status).toBe(201);
    const largeId = api.track(large.json!.id as string);
    const completion = JSON.stringify({ parts: [{ part_number: 1, etag: 'x' }] });
    expect((await call('completeUpload', { path: { id: largeId }, body: completion, headers: json })).status).toBe(409);
    expect((await call('completeUpload', { path: { id: missing }, body: completion, headers: json })).status).toBe(404);
    const stowed = stowBody(ct(series, `${series}.2`, 3));
    expect((await call('dicomwebStore0', { body: stowed.body, headers: stowed.headers })).status).toBe(200);
    const again = stowBody(ct(series, `${series}.3`, 4));
    expect((await call('dicomwebStore1', { body: again.body, headers: again.headers })).status).toBe(200);
    expect((await call('dicomwebStore1', { body: 'not multipart', headers: json })).status).toBe(415);
    expect((await call('reprocess')).status).toBe(202);

    // Deletes, the narrowest first: the STOW-RS instance, the second series, a file by id, then the whole study.
    expect((await call('dicomwebDelete2', { path: { instance: `${series}.2` } })).status).toBe(200);
    expect((await call('dicomwebDelete1', { path: { series: `${study}.2` } })).status).toBe(200);
    expect((await call('delete', { path: { id: spare } })).status).toBe(200);
    expect((await call('dicomwebDelete0')).status).toBe(200);
    expect((await call('dicomwebDelete0')).status).toBe(404);

    // Nothing left out: every operation of the document was called.
    expect(operations().filter((o) => !answered.has(o.operation.operationId))).toEqual([]);
  }, 120_000);

  it('refuses a query parameter a route does not take with 400 and a declared code, on every route', async () => {
    for (const { operation } of operations()) {
      const answer = await call(operation.operationId, { query: { not_a_parameter: '1' } });
      expect(answer.status, operation.operationId).toBe(400);
      // QIDO-RS takes any attribute keyword or tag as a key: an unknown key is a bad parameter, named.
      const qido = operation.parameters?.some((p) => p.name === 'match');
      expect(answer.json, operation.operationId).toMatchObject(
        qido ? { code: 'INVALID_PARAMETER', parameter: 'not_a_parameter' } : { code: 'BAD_QUERY' },
      );
    }
  });

  it('refuses a value that does not fit the declaration with 400 INVALID_PARAMETER naming it, on every route', async () => {
    let refused = 0;
    for (const { operation } of operations()) {
      for (const parameter of operation.parameters ?? []) {
        if (parameter.in !== 'query') continue;
        const schema = (parameter.schema.items ?? parameter.schema) as {
          type?: string;
          enum?: string[];
          pattern?: string;
        };
        const bad =
          schema.type === 'integer' || schema.enum
            ? 'x'
            : schema.pattern
              ? ['!', '', `${'a'.repeat(100)}\\`].find((v) => !new RegExp(schema.pattern!).test(v))
              : undefined;
        if (bad === undefined) continue;
        const answer = await call(operation.operationId, { query: { [parameter.name]: bad } });
        expect([answer.status, answer.json?.code, answer.json?.parameter], operation.operationId).toEqual([
          400,
          'INVALID_PARAMETER',
          parameter.name,
        ]);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(20);
  });
});
