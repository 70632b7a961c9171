// The API's OpenAPI 3.1 document, generated from the route table (lambdas/routes.ts): GET /openapi.json serves it,
// `npm run openapi` writes docs/openapi.json, test/e2e/openapi.test.ts holds the handlers' answers to it.
import { STATUS_CODES } from 'node:http';
import {
  mergeErrors,
  PATH_PARAMETERS,
  ROUTES,
  type Answer,
  type JsonSchema,
  type QueryParameter,
  type RouteDefinition,
} from '../routes.js';
import { API_KEY_HEADER } from './access.js';

export interface OpenApiParameter {
  readonly name: string;
  readonly in: 'path' | 'query';
  readonly required: boolean;
  readonly description: string;
  readonly schema: JsonSchema;
  readonly style?: 'form';
  readonly explode?: boolean;
}

export interface OpenApiMediaType {
  readonly schema?: JsonSchema;
}

export interface OpenApiResponse {
  readonly description: string;
  readonly headers?: Readonly<Record<string, { readonly description: string; readonly schema: JsonSchema }>>;
  readonly content?: Readonly<Record<string, OpenApiMediaType>>;
}

/** A response defined once under components.responses. */
export interface OpenApiReference {
  readonly $ref: string;
}

export interface OpenApiOperation {
  readonly operationId: string;
  readonly summary: string;
  readonly tags: readonly string[];
  readonly parameters?: readonly OpenApiParameter[];
  readonly requestBody?: {
    readonly required: true;
    readonly description: string;
    readonly content: Readonly<Record<string, OpenApiMediaType>>;
  };
  readonly responses: Readonly<Record<string, OpenApiResponse | OpenApiReference>>;
  /** `[]` on the routes that need no key. */
  readonly security?: readonly Readonly<Record<string, readonly string[]>>[];
}

export type OpenApiMethod = 'get' | 'post' | 'delete';

export interface OpenApiDocument {
  readonly openapi: '3.1.0';
  readonly info: {
    readonly title: string;
    readonly version: string;
    readonly summary: string;
    readonly description: string;
  };
  readonly servers: readonly { readonly url: string; readonly description?: string; readonly variables?: JsonSchema }[];
  readonly tags: readonly { readonly name: string; readonly description: string }[];
  readonly paths: Readonly<Record<string, Partial<Record<OpenApiMethod, OpenApiOperation>>>>;
  readonly components: {
    readonly schemas: Readonly<Record<string, JsonSchema>>;
    readonly responses: Readonly<Record<string, OpenApiResponse>>;
    readonly securitySchemes: Readonly<Record<string, JsonSchema>>;
  };
  readonly security: readonly Readonly<Record<string, readonly string[]>>[];
}

const ERROR_SCHEMA = '#/components/schemas/Error';

/** Each route's tag, by the first segment of its path. */
const TAGS: Readonly<Record<string, { readonly name: string; readonly description: string }>> = {
  dicom: { name: 'files', description: 'Upload, read, render, list and delete DICOM files (docs/api.md)' },
  studies: { name: 'studies', description: 'Studies and their series and files' },
  dicomweb: {
    name: 'DICOMweb',
    description: 'QIDO-RS, WADO-RS, STOW-RS and deletes under /dicomweb (docs/dicomweb.md)',
  },
  '': { name: 'web page', description: 'The built-in web page (docs/web-page.md): no key needed' },
  'openapi.json': { name: 'reference', description: 'This document' },
};

function tagOf(route: RouteDefinition): string {
  const first = route.path.split('/')[1] ?? '';
  return (TAGS[first === 'web' ? '' : first] ?? TAGS['']!).name;
}

const HEADERS: Readonly<Record<NonNullable<Answer['headers']>[number], string>> = {
  'Retry-After': 'seconds to wait before asking again',
  Location: 'where the answer is (a presigned URL, valid for minutes)',
  ETag: "this answer's version: send it as If-None-Match for a 304",
  Warning: 'what was not applied (PS3.18 8.3.4: fuzzy matching, ignored keys, a capped limit)',
};

function headersOf(names: readonly string[]): OpenApiResponse['headers'] {
  if (names.length === 0) return undefined;
  return Object.fromEntries(
    names.map((name) => [name, { description: HEADERS[name as keyof typeof HEADERS], schema: { type: 'string' } }]),
  );
}

/**
 * The errors any route can answer besides its own: an unknown or repeated query parameter and a bad value (the
 * handler wrapper), a missing key (API Gateway, the local runtime), an oversized body, throttling, and a bug (500).
 */
export function commonErrors(route: RouteDefinition): Readonly<Record<number, readonly string[]>> {
  const takesQuery = route.query !== undefined || route.matchingKeys !== undefined;
  return mergeErrors(
    { 400: takesQuery ? ['BAD_QUERY', 'INVALID_PARAMETER'] : ['BAD_QUERY'] },
    route.public ? {} : { 401: ['UNAUTHORIZED'], 403: ['INVALID_API_KEY', 'ACCESS_DENIED', 'MISSING_AUTHENTICATION'] },
    route.body ? { 413: ['PAYLOAD_TOO_LARGE'] } : {},
    { 429: ['THROTTLED', 'QUOTA_EXCEEDED'] },
    { 500: ['INTERNAL_ERROR'], 502: ['INTEGRATION_FAILURE'], 504: ['INTEGRATION_TIMEOUT'] },
  );
}

function queryParameter(name: string, parameter: QueryParameter): OpenApiParameter {
  const schema: JsonSchema = { ...parameter.schema };
  return {
    name,
    in: 'query',
    required: parameter.required ?? false,
    description: parameter.description,
    ...(parameter.repeated ? { schema: { type: 'array', items: schema }, style: 'form', explode: true } : { schema }),
  };
}

function parametersOf(route: RouteDefinition): OpenApiParameter[] {
  const path = [...route.path.matchAll(/\{(\w+)\}/g)].map(([, name]): OpenApiParameter => {
    const declared = PATH_PARAMETERS[name!];
    if (!declared) throw new Error(`${route.name}: path parameter {${name}} is not in PATH_PARAMETERS`);
    return { name: name!, in: 'path', required: true, description: declared.description, schema: declared.schema };
  });
  const query = Object.entries(route.query ?? {}).map(([name, parameter]) => queryParameter(name, parameter));
  const keys = route.matchingKeys;
  const matching: OpenApiParameter[] = keys
    ? [
        {
          name: 'match',
          in: 'query',
          required: false,
          description: `Attribute matching: ${keys.description}`,
          // Any number of keys named by pattern: a form-exploded object, one query parameter per property.
          schema: {
            type: 'object',
            propertyNames: { pattern: keys.namePattern },
            additionalProperties: { type: 'string' },
          },
          style: 'form',
          explode: true,
        },
      ]
    : [];
  return [...path, ...query, ...matching];
}

/** The error answer of a status: the codes it may carry, in the Error schema. */
function errorResponse(status: string, codes: readonly string[]): OpenApiResponse {
  const retry = status === '429' || status === '503' ? headersOf(['Retry-After']) : undefined;
  return {
    description: `${STATUS_CODES[Number(status)]}: ${codes.join(', ')}`,
    ...(retry ? { headers: retry } : {}),
    content: {
      'application/json': {
        schema: { allOf: [{ $ref: ERROR_SCHEMA }, { properties: { code: { enum: [...codes] } } }] },
      },
    },
  };
}

/** Errors every route (every keyed one, for 401 and 403) answers alike: defined once, under components.responses. */
const SHARED_ERRORS: Readonly<Record<string, string>> = {
  401: 'Unauthorized',
  403: 'Forbidden',
  429: 'Throttled',
  500: 'InternalError',
  502: 'IntegrationFailure',
  504: 'IntegrationTimeout',
};

function sharedResponses(): Record<string, OpenApiResponse> {
  const keyed = commonErrors({ public: false } as RouteDefinition);
  return Object.fromEntries(
    Object.entries(SHARED_ERRORS).map(([status, name]) => [name, errorResponse(status, keyed[Number(status)]!)]),
  );
}

function responsesOf(route: RouteDefinition): Record<string, OpenApiResponse | OpenApiReference> {
  const responses: Record<string, OpenApiResponse | OpenApiReference> = {};
  for (const [status, answer] of Object.entries(route.answers)) {
    responses[status] = {
      description: `${STATUS_CODES[Number(status)]}: ${answer.description}`,
      ...(answer.headers ? { headers: headersOf(answer.headers) } : {}),
      ...(answer.types.length > 0 ? { content: Object.fromEntries(answer.types.map((type) => [type, {}])) } : {}),
    };
  }
  for (const [status, codes] of Object.entries(mergeErrors(route.errors, commonErrors(route)))) {
    if (responses[status]) throw new Error(`${route.name}: status ${status} is both an answer and an error`);
    const shared = SHARED_ERRORS[status];
    responses[status] =
      shared && route.errors[Number(status)] === undefined
        ? { $ref: `#/components/responses/${shared}` }
        : errorResponse(status, codes);
  }
  // In status order, as readers look them up.
  return Object.fromEntries(Object.entries(responses).sort(([a], [b]) => Number(a) - Number(b)));
}

function operationOf(route: RouteDefinition): OpenApiOperation {
  const parameters = parametersOf(route);
  const body = route.body;
  return {
    operationId: route.name,
    summary: route.summary,
    tags: [tagOf(route)],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(body
      ? {
          requestBody: {
            required: true,
            description: body.description,
            content: { [body.mediaType]: body.schema ? { schema: body.schema } : {} },
          },
        }
      : {}),
    responses: responsesOf(route),
    ...(route.public ? { security: [] } : {}),
  };
}

/** The servers of the document written to docs/openapi.json; the served one names the URL it was asked through. */
export const DEFAULT_SERVERS: OpenApiDocument['servers'] = [
  { url: 'http://localhost:5000', description: 'npm start' },
  {
    url: 'https://{apiId}.execute-api.{region}.amazonaws.com/v1',
    description: 'a deployed stack (its ApiUrl output)',
    variables: { apiId: { default: 'abc123defg' }, region: { default: 'us-east-1' } },
  },
];

/** The OpenAPI 3.1 document of `routes` (the route table by default). */
export function openApiDocument(
  routes: readonly RouteDefinition[] = ROUTES,
  servers: OpenApiDocument['servers'] = DEFAULT_SERVERS,
): OpenApiDocument {
  const paths: Record<string, Partial<Record<OpenApiMethod, OpenApiOperation>>> = {};
  for (const route of routes) {
    (paths[route.path] ??= {})[route.method.toLowerCase() as OpenApiMethod] = operationOf(route);
  }
  const used = new Set(routes.map(tagOf));
  return {
    openapi: '3.1.0',
    info: {
      title: 'dicom-api',
      version: '1',
      summary: 'DICOM files behind an API: upload, attributes, PNG renderings, listings, studies and DICOMweb',
      description: [
        'Generated from the route table (lambdas/routes.ts); docs/api.md and docs/dicomweb.md explain the answers.',
        'Every error is JSON {"error", "code"}; a bad query value adds "parameter" naming it (INVALID_PARAMETER), an',
        'unknown or repeated query parameter is BAD_QUERY (on QIDO-RS routes an unknown key is INVALID_PARAMETER).',
        'A method and path no route has is 404 ROUTE_NOT_FOUND. A read of a file still being processed waits up to',
        '8 s, then may answer 202 with Retry-After. Access: the API key as x-api-key or Authorization: Bearer',
        '(default); a stack deployed with -c auth=iam wants SigV4 instead, -c auth=none nothing; npm start asks for a',
        'key only when API_KEY is set.',
      ].join(' '),
    },
    servers,
    tags: Object.values(TAGS).filter((tag) => used.has(tag.name)),
    paths,
    components: {
      schemas: {
        Error: {
          type: 'object',
          required: ['error', 'code'],
          properties: {
            error: { type: 'string', description: 'what went wrong, in words a person can act on' },
            code: { type: 'string', description: 'a stable machine-readable code' },
            parameter: { type: 'string', description: 'the query parameter or field at fault (INVALID_PARAMETER)' },
          },
        },
      },
      responses: sharedResponses(),
      securitySchemes: {
        apiKey: {
          type: 'apiKey',
          in: 'header',
          name: API_KEY_HEADER,
          description: 'the API key (deployed: the ApiKeyId output; npm start: API_KEY)',
        },
        bearer: { type: 'http', scheme: 'bearer', description: 'the same API key as Authorization: Bearer <key>' },
      },
    },
    // Either header; the routes that need no key say `security: []`.
    security: [{ apiKey: [] }, { bearer: [] }],
  };
}
