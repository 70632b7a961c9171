// The OpenAPI document generated from the route table, and the query check both read from it: every route, its
// parameters, answers and error codes; docs/openapi.json kept up to date. (test/e2e/openapi.test.ts holds the
// handlers' real answers to it.)
import { readFileSync } from 'node:fs';
import { STATUS_CODES } from 'node:http';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { HttpError } from '../../lambdas/http/errors.js';
import { FILTER_NAMES } from '../../lambdas/http/listing.js';
import {
  openApiDocument,
  type OpenApiDocument,
  type OpenApiOperation,
  type OpenApiReference,
  type OpenApiResponse,
} from '../../lambdas/http/openapi.js';
import { checkQuery, routesOf } from '../../lambdas/http/query.js';
import { LISTING_QUERY, PATH_PARAMETERS, ROUTES, type RouteDefinition } from '../../lambdas/routes.js';
import { apiEvent } from '../support/events.js';

const document = openApiDocument();

function operationOf(route: RouteDefinition): OpenApiOperation {
  const operation = document.paths[route.path]?.[route.method.toLowerCase() as 'get' | 'post' | 'delete'];
  expect(operation, `${route.method} ${route.path}`).toBeDefined();
  return operation!;
}

/** A response, its $ref (components.responses) followed. */
function resolved(response: OpenApiResponse | OpenApiReference): OpenApiResponse {
  if (!('$ref' in response)) return response;
  const name = /^#\/components\/responses\/(\w+)$/.exec(response.$ref)?.[1];
  const target = name ? document.components.responses[name] : undefined;
  expect(target, response.$ref).toBeDefined();
  return target!;
}

/** The error codes a response of the document allows. */
function codesOf(response: OpenApiResponse): string[] {
  const schema = response.content?.['application/json']?.schema as
    { allOf?: { $ref?: string; properties?: { code?: { enum?: string[] } } }[] } | undefined;
  expect(schema?.allOf?.[0]?.$ref).toBe('#/components/schemas/Error');
  return schema?.allOf?.[1]?.properties?.code?.enum ?? [];
}

describe('the OpenAPI document', () => {
  it('is OpenAPI 3.1 with the metadata, security schemes and error schema a client needs', () => {
    expect(document.openapi).toBe('3.1.0');
    expect(document.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    expect(document.components.securitySchemes).toEqual({
      apiKey: expect.objectContaining({ type: 'apiKey', in: 'header', name: 'x-api-key' }),
      bearer: expect.objectContaining({ type: 'http', scheme: 'bearer' }),
    });
    expect(document.security).toEqual([{ apiKey: [] }, { bearer: [] }]);
    expect(document.components.schemas.Error).toMatchObject({
      type: 'object',
      required: ['error', 'code'],
      properties: { error: { type: 'string' }, code: { type: 'string' } },
    });
    // Valid JSON through and through (what GET /openapi.json sends).
    expect(JSON.parse(JSON.stringify(document))).toEqual(document);
  });

  it('has one operation per route of the table, named by it, and nothing else', () => {
    const operations = Object.entries(document.paths).flatMap(([p, item]) =>
      Object.entries(item).map(([method, operation]) => `${method.toUpperCase()} ${p} ${operation.operationId}`),
    );
    expect(operations.sort()).toEqual(ROUTES.map((r) => `${r.method} ${r.path} ${r.name}`).sort());
    for (const route of ROUTES) {
      const operation = operationOf(route);
      expect(operation.summary, route.name).toMatch(/\w/);
      expect(operation.tags, route.name).toHaveLength(1);
      expect(document.tags.map((tag) => tag.name)).toContain(operation.tags[0]);
    }
  });

  it('declares every path parameter of every path, required, and no other', () => {
    for (const route of ROUTES) {
      const inPath = [...route.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => name!);
      const declared = (operationOf(route).parameters ?? []).filter((p) => p.in === 'path');
      expect(
        declared.map((p) => p.name),
        route.name,
      ).toEqual(inPath);
      for (const parameter of declared) {
        expect(parameter, `${route.name} {${parameter.name}}`).toMatchObject({
          required: true,
          description: expect.stringMatching(/\w/),
          schema: expect.objectContaining({ type: 'string' }),
        });
      }
    }
    // Every entry of PATH_PARAMETERS is in use.
    const used = new Set(ROUTES.flatMap((r) => [...r.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => name)));
    expect(Object.keys(PATH_PARAMETERS).sort()).toEqual([...used].sort());
  });

  it("declares each route's query parameters as the route table does, each once, with a schema", () => {
    for (const route of ROUTES) {
      const parameters = operationOf(route).parameters ?? [];
      const query = parameters.filter((p) => p.in === 'query');
      expect(new Set(parameters.map((p) => `${p.in} ${p.name}`)).size, route.name).toBe(parameters.length);
      const expected = [...Object.keys(route.query ?? {}), ...(route.matchingKeys ? ['match'] : [])];
      expect(
        query.map((p) => p.name),
        route.name,
      ).toEqual(expected);
      for (const parameter of query) {
        // Required only where the route table says so (GET /dicom/image-urls' ids).
        const declared = route.query?.[parameter.name]?.required ?? false;
        expect(parameter.required, `${route.name} ${parameter.name}`).toBe(declared);
        expect(parameter.description, `${route.name} ${parameter.name}`).toMatch(/\w/);
        expect(['integer', 'string', 'array', 'object'], `${route.name} ${parameter.name}`).toContain(
          parameter.schema.type,
        );
      }
    }
    // QIDO-RS: attribute keys by pattern, as a form-exploded object.
    const qido = operationOf(ROUTES.find((r) => r.name === 'dicomwebStudies')!);
    const match = qido.parameters!.find((p) => p.name === 'match')!;
    expect(match).toMatchObject({ style: 'form', explode: true, schema: { type: 'object' } });
    const pattern = new RegExp((match.schema.propertyNames as { pattern: string }).pattern);
    for (const key of ['PatientName', '00100010', '0020000d', 'RequestAttributesSequence.ScheduledProcedureStepID']) {
      expect(pattern.test(key), key).toBe(true);
    }
    for (const key of ['', 'not-a-key', '1abc', 'a b']) expect(pattern.test(key), key).toBe(false);
    expect(qido.parameters!.find((p) => p.name === 'includefield')).toMatchObject({
      schema: { type: 'array', items: { type: 'string' } },
      explode: true,
    });
  });

  it('every pattern is a valid regular expression, and the documented examples fit their declarations', () => {
    const patterns = JSON.stringify(document).match(/"pattern":"((?:[^"\\]|\\.)*)"/g) ?? [];
    expect(patterns.length).toBeGreaterThan(10);
    for (const entry of patterns) expect(() => new RegExp(JSON.parse(`{${entry}}`).pattern)).not.toThrow();
    const examples: [string, Record<string, string>][] = [
      ['list', { limit: '1000', study_date: '20230101-', status: 'ready', modality: 'ct', patient_id: 'PID 1' }],
      ['list', { study_date: '-20231231', study_uid: '1.2.840.113619.2.55.3' }],
      ['studies', { study_date: '19920101-19921231', limit: '2' }],
      ['png', { frame: '3', window: '-600,1500', max: '512' }],
      ['png', { window: '40, 400', size: '512x256' }],
      ['attributes', { tag: '(0010,0010)' }],
      ['dicomwebStudies', { PatientName: 'sample*', includefield: 'all', fuzzymatching: 'true', limit: '100000' }],
      ['dicomwebRendered0', { window: '-900,100,linear', viewport: '16,16', quality: '51', annotation: 'patient' }],
      ['dicomwebRendered4', { viewport: '128,128' }],
    ];
    for (const [name, query] of examples) {
      const route = ROUTES.find((r) => r.name === name)!;
      expect(
        () => checkQuery(route, apiEvent({ method: 'GET', resource: route.path, path: '/', query })),
        name,
      ).not.toThrow();
    }
  });

  it('answers each status once: an answer with its media types, or an error with the codes it may carry', () => {
    for (const route of ROUTES) {
      const responses = operationOf(route).responses;
      expect(Object.keys(responses).length, route.name).toBeGreaterThan(0);
      for (const [status, raw] of Object.entries(responses)) {
        expect(STATUS_CODES[Number(status)], `${route.name} ${status}`).toBeDefined();
        const response = resolved(raw);
        expect(response.description, `${route.name} ${status}`).toMatch(/\w/);
        const answer = route.answers[Number(status)];
        if (answer) {
          // STOW-RS's 409 (every instance refused) is a DICOM JSON answer, not an error.
          expect(Object.keys(response.content ?? {}), `${route.name} ${status}`).toEqual(answer.types);
          continue;
        }
        expect(Number(status), `${route.name} ${status}`).toBeGreaterThanOrEqual(400);
        const codes = codesOf(response);
        expect(codes.length, `${route.name} ${status}`).toBeGreaterThan(0);
        for (const code of codes) expect(code, `${route.name} ${status}`).toMatch(/^[A-Z][A-Z0-9_]+$/);
        // The route's own codes are all there.
        for (const code of route.errors[Number(status)] ?? []) expect(codes, `${route.name} ${status}`).toContain(code);
      }
      for (const status of Object.keys(route.errors)) expect(Object.keys(responses), route.name).toContain(status);
      // Every route can refuse a query parameter it does not take; keyed routes a missing key; all of them a bug.
      expect(codesOf(resolved(responses['400']!)), route.name).toContain('BAD_QUERY');
      expect(codesOf(resolved(responses['500']!)), route.name).toEqual(['INTERNAL_ERROR']);
      if (!route.public) expect(codesOf(resolved(responses['403']!)), route.name).toContain('INVALID_API_KEY');
    }
  });

  it('needs the key on every route but the public ones', () => {
    for (const route of ROUTES) {
      expect(operationOf(route).security, route.name).toEqual(route.public ? [] : undefined);
    }
  });

  it('describes request bodies: a file form, JSON with a schema, or STOW-RS multipart/related', () => {
    const bodies = Object.fromEntries(
      ROUTES.map((r) => [r.name, Object.keys(operationOf(r).requestBody?.content ?? {})]),
    );
    expect(bodies).toMatchObject({
      upload: ['multipart/form-data'],
      search: ['application/json'],
      largeUpload: ['application/json'],
      completeUpload: ['application/json'],
      dicomwebStore0: ['multipart/related; type="application/dicom"'],
      list: [],
      get: [],
    });
    for (const route of ROUTES.filter((r) => r.method !== 'POST')) expect(bodies[route.name], route.name).toEqual([]);
    const search = operationOf(ROUTES.find((r) => r.name === 'search')!).requestBody!.content['application/json']!;
    expect(Object.keys((search.schema as { properties: object }).properties)).toEqual(Object.keys(LISTING_QUERY));
  });

  it('is the committed docs/openapi.json (npm run openapi writes it)', () => {
    const file = path.resolve(import.meta.dirname, '..', '..', 'docs', 'openapi.json');
    const committed = JSON.parse(readFileSync(file, 'utf8')) as OpenApiDocument;
    expect(committed, 'docs/openapi.json is out of date: run npm run openapi').toEqual(
      JSON.parse(JSON.stringify(document)),
    );
  });

  it("declares the listing's names as lambdas/http/listing.ts reads them", () => {
    expect(Object.keys(LISTING_QUERY)).toEqual(['limit', 'cursor', ...FILTER_NAMES]);
  });
});

/** What checkQuery refuses a query with: status, code and the parameter named. */
function refusal(name: string, query: Record<string, string | string[]>): Record<string, unknown> | undefined {
  const route = ROUTES.find((r) => r.name === name)!;
  const multi = Object.fromEntries(Object.entries(query).map(([k, v]) => [k, [v].flat()]));
  const event = apiEvent({ method: route.method, resource: route.path, path: route.path });
  event.multiValueQueryStringParameters = multi;
  event.queryStringParameters = Object.fromEntries(Object.entries(multi).map(([k, v]) => [k, v.at(-1)!]));
  try {
    checkQuery(route, event);
    return undefined;
  } catch (error) {
    if (!(error instanceof HttpError)) throw error;
    return { status: error.status, code: error.code, parameter: error.extra.body?.parameter, message: error.message };
  }
}

describe('the query check (every route, in the handler wrapper)', () => {
  it('refuses a name the route does not declare with 400 BAD_QUERY naming it, on routes with and without parameters', () => {
    expect(refusal('list', { colour: 'blue' })).toMatchObject({ status: 400, code: 'BAD_QUERY' });
    expect(refusal('list', { colour: 'blue' })!.message).toContain('colour');
    expect(refusal('get', { x: '1' })).toMatchObject({ status: 400, code: 'BAD_QUERY' });
    expect(refusal('studyFiles', { study_uid: '1.2' })).toMatchObject({ code: 'BAD_QUERY' });
    expect(refusal('studies', { modality: 'CT' })).toMatchObject({ code: 'BAD_QUERY' });
    expect(refusal('dicomwebRendered4', { window: '40,400' })).toMatchObject({ code: 'BAD_QUERY' });
  });

  it('refuses a repeat of a parameter that does not repeat; QIDO-RS repeats includefield and matching keys', () => {
    expect(refusal('list', { limit: ['1', '2'] })).toMatchObject({ status: 400, code: 'BAD_QUERY' });
    expect(refusal('dicomwebSeries', { limit: ['1', '2'] })).toMatchObject({ status: 400, code: 'BAD_QUERY' });
    expect(refusal('dicomwebSeries', { includefield: ['00081030', 'all'], Modality: ['CT', 'MR'] })).toBeUndefined();
  });

  it('refuses a value that does not fit its declaration with 400 INVALID_PARAMETER naming it, never echoing it', () => {
    // Patient identifiers stay out of answers (and the logs that keep them).
    expect(refusal('list', { patient_id: 'SECRET\\NAME' })!.message).not.toContain('SECRET');
    for (const [name, query, parameter] of [
      ['list', { limit: '0' }, 'limit'],
      ['list', { limit: '1001' }, 'limit'],
      ['list', { limit: '2.5' }, 'limit'],
      ['list', { status: 'DONE' }, 'status'],
      ['list', { study_date: '2023-01-01' }, 'study_date'],
      ['png', { window: '40' }, 'window'],
      ['png', { size: '10by10' }, 'size'],
      ['dicomwebInstances', { offset: '-5' }, 'offset'],
      ['dicomwebInstances', { fuzzymatching: 'maybe' }, 'fuzzymatching'],
      ['dicomwebRendered0', { quality: '1000' }, 'quality'],
    ] as const) {
      const refused = refusal(name, query);
      expect(refused, `${name} ${JSON.stringify(query)}`).toMatchObject({
        status: 400,
        code: 'INVALID_PARAMETER',
        parameter,
      });
    }
  });

  it('on QIDO-RS, any keyword or tag is a parameter; another key is 400 INVALID_PARAMETER naming it', () => {
    expect(refusal('dicomwebStudies', { PatientName: 'DOE*', '00100020': 'x', NoSuchKeyword: '1' })).toBeUndefined();
    expect(refusal('dicomwebStudies', { 'not-a-key': '1' })).toMatchObject({
      status: 400,
      code: 'INVALID_PARAMETER',
      parameter: 'not-a-key',
    });
  });

  it('finds the route a shared handler serves by the resource template', () => {
    expect(routesOf('dicomwebRendered')).toHaveLength(8);
    expect(routesOf('png').map((r) => r.path)).toEqual(['/dicom/{id}/png']);
  });
});
