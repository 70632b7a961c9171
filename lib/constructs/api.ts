// The REST API: one Lambda per entry of the route table, access control (API key, IAM or open), CORS, access
// logs without query strings, and API Gateway's own errors in API.md's JSON shape.
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ENV, LARGE_UPLOAD_ROUTE } from '../../lambdas/config.js';
import { INVALID_API_KEY } from '../../lambdas/http/access.js';
import { CORS } from '../../lambdas/http/cors.js';
import { handlerOf, ROUTES, type RouteDefinition } from '../../lambdas/routes.js';
import { AUDIT_LOG_RETENTION, createAppFunction, type FunctionSettings } from './function-defaults.js';

/**
 * Who may call the non-public routes: `apiKey` (default) an API key of the usage plan in `x-api-key`; `iam` a
 * SigV4-signed request of a principal allowed execute-api:Invoke; `none` anyone (demos only).
 */
export type AuthMode = 'apiKey' | 'iam' | 'none';

export const STAGE_NAME = 'v1';

/** Rate and burst (requests/s) of the stage and of each key, and each key's daily quota (none: no quota). */
export interface ApiLimits {
  readonly rateLimit: number;
  readonly burstLimit: number;
  readonly quotaPerDay?: number;
}

/**
 * The default limits (`-c apiRateLimit=`, `-c apiBurstLimit=`, `-c apiQuotaPerDay=` change them): room for 100,000
 * uploads and 1,000,000 image reads a day (12.7 requests/s on average, peaks 7 times that) and a quota that still
 * caps what a leaked key can spend in a day (about $11 at the API's price per request; npm run cost checks a workload
 * against them). A runaway client gets 429s, not Lambda time.
 */
export const DEFAULT_API_LIMITS = { rateLimit: 100, burstLimit: 200, quotaPerDay: 2_000_000 } as const;

/** Stage-wide throttling by default: a runaway client costs little (429s, not Lambda time). */
export const THROTTLING = {
  rateLimit: DEFAULT_API_LIMITS.rateLimit,
  burstLimit: DEFAULT_API_LIMITS.burstLimit,
} as const;

/**
 * The page routes' own limits (`public: true`: `/`, `/web/{file}` and `/openapi.json`, no key needed), per method.
 * Stage-wide throttling is the default method setting (resource `/*`, method `*`) that every method inherits: left there,
 * anyone without a key could spend the rate the data routes' key holders depend on. A method override takes these
 * methods out of that default, so page traffic is throttled (429) on its own limits and never on the data routes'
 * budget. The usage plan's per-key throttle and quota still apply, unchanged, to the data routes (they require the
 * key); the keyless page methods never count against a key. Only the account's regional limit stays shared by all.
 * A page load is about a dozen requests (index.html and web/*), well inside the burst.
 */
export const PAGE_THROTTLING = { rateLimit: 10, burstLimit: 20 } as const;

/** The stage `methodOptions` key of a route: `/{resource path}/{METHOD}` (the root `/` gives `//GET`). */
export function methodOptionsPath(route: Pick<RouteDefinition, 'method' | 'path'>): string {
  return `${route.path === '/' ? '/' : route.path}/${route.method}`;
}

/** The usage plan of the API key by default: its own rate and burst, and a daily quota (a leaked key cannot run up a bill). */
export const USAGE_PLAN = DEFAULT_API_LIMITS;

/**
 * The access log line: who (API key id, IAM ARN, source IP), which route template, status and timings.
 * `$context.resourcePath` is the template (`/dicom/{id}`), never `$context.path` or the query string, which
 * may carry patient identifiers; no body is ever logged.
 */
export const ACCESS_LOG_FIELDS: Record<string, string> = {
  requestId: apigateway.AccessLogField.contextRequestId(),
  time: apigateway.AccessLogField.contextRequestTime(),
  method: apigateway.AccessLogField.contextHttpMethod(),
  resource: apigateway.AccessLogField.contextResourcePath(),
  status: apigateway.AccessLogField.contextStatus(),
  errorType: apigateway.AccessLogField.contextErrorResponseType(),
  latencyMs: apigateway.AccessLogField.contextResponseLatency(),
  integrationLatencyMs: apigateway.AccessLogField.contextIntegrationLatency(),
  responseLength: apigateway.AccessLogField.contextResponseLength(),
  apiKeyId: apigateway.AccessLogField.contextIdentityApiKeyId(),
  userArn: apigateway.AccessLogField.contextIdentityUserArn(),
  sourceIp: apigateway.AccessLogField.contextIdentitySourceIp(),
};

/** One gateway response: API Gateway's own error, given API.md's `{"error", "code"}` body. */
export interface GatewayErrorResponse {
  readonly type: apigateway.ResponseType;
  readonly statusCode?: string;
  /** A JSON string literal, or `$context.error.messageString` (already a quoted JSON string). */
  readonly error: string;
  /** A JSON string literal, or `$context.error.responseType` (a bare word: quoted here). */
  readonly code: string;
  readonly headers?: Record<string, string>;
}

const MESSAGE = '$context.error.messageString';
const RESPONSE_TYPE = '$context.error.responseType';

/** The longest path prefix (whole segments) the routes share, e.g. `/dicomweb/studies`. */
function commonPrefix(routes: readonly RouteDefinition[]): string {
  const split = routes.map((route) => route.path.split('/'));
  const first = split[0] ?? [];
  let n = 0;
  while (n < first.length && split.every((segments) => segments[n] === first[n])) n++;
  return first.slice(0, n).join('/') || '/';
}

/** `"text"` as a JSON string literal, for gateway response templates. */
const literal = (text: string): string => JSON.stringify(text);

function routeList(): string {
  return ROUTES.map((route) => `${route.method} ${route.path}`).join(', ');
}

/** API Gateway's own errors in API.md's shape; under IAM auth an unsigned request and an unknown route look alike. */
export function gatewayErrorResponses(auth: AuthMode = 'apiKey'): GatewayErrorResponse[] {
  return [
    auth === 'iam'
      ? {
          type: apigateway.ResponseType.MISSING_AUTHENTICATION_TOKEN,
          statusCode: '403',
          error: literal(
            `the request is not signed with AWS credentials (SigV4), or no route matches this method and path; the routes are: ${routeList()}`,
          ),
          code: literal('MISSING_AUTHENTICATION'),
        }
      : {
          // API Gateway answers an unknown path or method with 403 "Missing Authentication Token".
          type: apigateway.ResponseType.MISSING_AUTHENTICATION_TOKEN,
          statusCode: '404',
          error: literal(`no route matches this method and path; the routes are: ${routeList()}`),
          code: literal('ROUTE_NOT_FOUND'),
        },
    ...COMMON_GATEWAY_ERROR_RESPONSES,
  ];
}

const COMMON_GATEWAY_ERROR_RESPONSES: readonly GatewayErrorResponse[] = [
  {
    type: apigateway.ResponseType.RESOURCE_NOT_FOUND,
    statusCode: '404',
    error: literal(`no route matches this method and path; the routes are: ${routeList()}`),
    code: literal('ROUTE_NOT_FOUND'),
  },
  {
    type: apigateway.ResponseType.REQUEST_TOO_LARGE,
    statusCode: '413',
    error: literal(
      `the request is larger than API Gateway accepts (10 MB); upload large files with ${LARGE_UPLOAD_ROUTE}`,
    ),
    code: literal('PAYLOAD_TOO_LARGE'),
  },
  {
    type: apigateway.ResponseType.THROTTLED,
    statusCode: '429',
    error: literal('too many requests; retry after a short pause'),
    code: literal('THROTTLED'),
    headers: { 'Retry-After': '1' },
  },
  {
    type: apigateway.ResponseType.QUOTA_EXCEEDED,
    statusCode: '429',
    error: literal("this API key's request quota is used up; retry when the quota period renews"),
    code: literal('QUOTA_EXCEEDED'),
  },
  {
    // A missing key is INVALID_API_KEY too; the local runtime answers both with the same body.
    type: apigateway.ResponseType.INVALID_API_KEY,
    statusCode: String(INVALID_API_KEY.status),
    error: literal(INVALID_API_KEY.error),
    code: literal(INVALID_API_KEY.code),
  },
  {
    type: apigateway.ResponseType.ACCESS_DENIED,
    statusCode: '403',
    error: MESSAGE,
    code: literal('ACCESS_DENIED'),
  },
  {
    type: apigateway.ResponseType.UNAUTHORIZED,
    statusCode: '401',
    error: MESSAGE,
    code: literal('UNAUTHORIZED'),
  },
  {
    type: apigateway.ResponseType.UNSUPPORTED_MEDIA_TYPE,
    statusCode: '415',
    error: MESSAGE,
    code: literal('UNSUPPORTED_MEDIA_TYPE'),
  },
  {
    // The Lambda could not be invoked (e.g. the request exceeds Lambda's 6 MB payload) or failed.
    type: apigateway.ResponseType.INTEGRATION_FAILURE,
    statusCode: '502',
    error: literal(
      `the service could not handle the request; bodies over about 4 MB cannot reach it: upload large files with ${LARGE_UPLOAD_ROUTE}`,
    ),
    code: literal('INTEGRATION_FAILURE'),
  },
  {
    type: apigateway.ResponseType.INTEGRATION_TIMEOUT,
    statusCode: '504',
    error: literal('the service took too long to answer; retry shortly'),
    code: literal('INTEGRATION_TIMEOUT'),
  },
  { type: apigateway.ResponseType.DEFAULT_4XX, error: MESSAGE, code: literal(RESPONSE_TYPE) },
  { type: apigateway.ResponseType.DEFAULT_5XX, error: MESSAGE, code: literal(RESPONSE_TYPE) },
];

/** The gateway response body template: `{"error": ..., "code": ...}`. */
export function errorTemplate(response: GatewayErrorResponse): string {
  return `{"error": ${response.error}, "code": ${response.code}}`;
}

/**
 * The CORS headers of API Gateway's own answers. Gateway responses cannot choose among origins (their templates
 * are not VTL), so one origin is named; with several, the caller's Origin is echoed on these error bodies only,
 * which hold no data (handlers and the preflight still answer allowed origins only).
 */
export function gatewayCorsHeaders(origins: readonly string[]): Record<string, string> {
  if (origins.length === 0) return {};
  return {
    'Access-Control-Allow-Origin': origins.length === 1 ? `'${origins[0]}'` : 'method.request.header.origin',
    'Access-Control-Expose-Headers': `'${CORS.exposeHeaders.join(',')}'`,
    Vary: "'Origin'",
  };
}

export interface ApiProps extends FunctionSettings {
  readonly bucket: s3.IBucket;
  readonly table: dynamodb.ITable;
  /** Default `apiKey`. */
  readonly auth?: AuthMode;
  /** Browser origins allowed by CORS; empty: CORS off. */
  readonly corsOrigins?: readonly string[];
  /** Keep the access logs (and the audited functions' logs) when the stack is deleted; default true. */
  readonly retainLogs?: boolean;
  /** Stage and per-key limits; default DEFAULT_API_LIMITS. */
  readonly limits?: ApiLimits;
}

export class Api extends Construct {
  readonly restApi: apigateway.RestApi;
  /** The Lambda of each route, by route name (routes sharing a handler module share one). */
  readonly functions: ReadonlyMap<string, NodejsFunction>;
  /** Each Lambda once, by handler module name. */
  readonly handlerFunctions: ReadonlyMap<string, NodejsFunction>;
  /** Seals paging cursors: generated by Secrets Manager at deploy, so its value is in no template or repository. */
  readonly cursorSecret: secretsmanager.Secret;
  readonly auth: AuthMode;
  /** The key clients send (auth `apiKey` only); read its value with `aws apigateway get-api-key --include-value`. */
  readonly apiKey?: apigateway.ApiKey;
  readonly usagePlan?: apigateway.UsagePlan;
  /** API Gateway's access log: one JSON line per request, no query string, no body. */
  readonly accessLogs: logs.LogGroup;
  /** Auth `apiKey`: the request authorizer that reads the key from x-api-key or a Bearer token, and its Lambda. */
  readonly authorizer?: apigateway.RequestAuthorizer;
  readonly authorizerFunction?: NodejsFunction;

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);
    this.auth = props.auth ?? 'apiKey';
    const limits = props.limits ?? DEFAULT_API_LIMITS;
    const corsOrigins = [...(props.corsOrigins ?? [])];
    const logRemoval = props.retainLogs === false ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      // Refused keys and unsigned calls show only here (no Lambda runs for them): kept as long as the audit trail.
      retention: AUDIT_LOG_RETENTION,
      removalPolicy: logRemoval,
    });
    this.cursorSecret = new secretsmanager.Secret(this, 'CursorSecret', {
      description: 'Key material for the paging cursors of the DICOM API listing routes',
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
      // Losing it only invalidates cursors in flight (clients start again without one).
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.restApi = new apigateway.RestApi(this, 'RestApi', {
      restApiName: 'dicom-api',
      description: 'DICOM API: stores DICOM files and serves their records, attributes and PNG renderings',
      endpointTypes: [apigateway.EndpointType.REGIONAL],
      // With API keys, an authorizer hands API Gateway the key from x-api-key or `Authorization: Bearer` (DICOMweb
      // viewers send bearer tokens); API Gateway still checks it against the usage plan and throttles per key.
      ...(this.auth === 'apiKey' ? { apiKeySourceType: apigateway.ApiKeySourceType.AUTHORIZER } : {}),
      // Every body reaches the Lambdas base64-encoded (JSON too), and PNGs go out as bytes whatever
      // Accept says: API Gateway decides binary handling from the first Accept type.
      binaryMediaTypes: ['*/*'],
      // Access logs to CloudWatch need the account's API Gateway logging role (one per account and region; an
      // existing one is simply replaced by an equivalent). It is retained on stack delete: other APIs may use it.
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      deployOptions: {
        stageName: STAGE_NAME,
        throttlingRateLimit: limits.rateLimit,
        throttlingBurstLimit: limits.burstLimit,
        // Execution logs (and data traces) would record query strings and bodies, i.e. patient
        // identifiers: off. The access log has a format of our own without them.
        loggingLevel: apigateway.MethodLoggingLevel.OFF,
        dataTraceEnabled: false,
        accessLogDestination: new apigateway.LogGroupLogDestination(this.accessLogs),
        accessLogFormat: apigateway.AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
        tracingEnabled: props.tracing ?? false,
        // The keyless page methods are throttled apart from the data routes (see PAGE_THROTTLING).
        methodOptions: Object.fromEntries(
          ROUTES.filter((route) => route.public).map((route) => [
            methodOptionsPath(route),
            {
              throttlingRateLimit: PAGE_THROTTLING.rateLimit,
              throttlingBurstLimit: PAGE_THROTTLING.burstLimit,
              // An override stands apart from the stage default: restate that nothing is execution-logged.
              loggingLevel: apigateway.MethodLoggingLevel.OFF,
              dataTraceEnabled: false,
            },
          ]),
        ),
      },
      // Preflights answered by API Gateway itself (a mock integration per resource, no key needed), only when
      // origins are configured; the handlers add the headers to real answers (lambdas/http/cors.ts).
      ...(corsOrigins.length > 0
        ? {
            defaultCorsPreflightOptions: {
              allowOrigins: corsOrigins,
              allowMethods: [...CORS.allowMethods],
              allowHeaders: [...CORS.allowHeaders],
              maxAge: Duration.seconds(CORS.maxAgeSeconds),
            },
          }
        : {}),
    });
    // The construct's own "Endpoint" output would duplicate the stack's ApiUrl output.
    this.restApi.node.tryRemoveChild('Endpoint');

    if (this.auth === 'apiKey') {
      this.authorizerFunction = createAppFunction(this, 'ApiKeyAuthorizerFunction', {
        name: 'apiKeyAuthorizer',
        description: 'Hands API Gateway the API key from x-api-key or Authorization: Bearer',
        bucket: props.bucket,
        table: props.table,
        access: {},
        memoryMb: 256,
        tracing: props.tracing ?? false,
        listingIndexes: props.listingIndexes ?? 'all',
      });
      this.authorizer = new apigateway.RequestAuthorizer(this, 'ApiKeyAuthorizer', {
        handler: this.authorizerFunction,
        // Either header may carry the key, and a cached answer needs every identity source present: no cache.
        identitySources: [],
        resultsCacheTtl: Duration.seconds(0),
      });
    }
    const functions = new Map<string, NodejsFunction>();
    const byHandler = new Map<string, NodejsFunction>();
    for (const route of ROUTES) {
      // Routes that share a handler module share its Lambda (one per module).
      const handler = handlerOf(route);
      const fn = byHandler.get(handler) ?? this.routeFunction(route, props, corsOrigins, logRemoval);
      byHandler.set(handler, fn);
      // The page routes stay open in every mode: they carry no patient data, and the page asks for the key.
      const guarded = !route.public;
      this.restApi.root
        .resourceForPath(route.path)
        .addMethod(route.method, new apigateway.LambdaIntegration(fn, { proxy: true, allowTestInvoke: false }), {
          apiKeyRequired: guarded && this.auth === 'apiKey',
          ...(guarded && this.authorizer
            ? { authorizer: this.authorizer, authorizationType: apigateway.AuthorizationType.CUSTOM }
            : {
                authorizationType:
                  guarded && this.auth === 'iam' ? apigateway.AuthorizationType.IAM : apigateway.AuthorizationType.NONE,
              }),
        });
      functions.set(route.name, fn);
    }
    this.functions = functions;
    this.handlerFunctions = byHandler;

    if (this.auth === 'apiKey') {
      this.apiKey = new apigateway.ApiKey(this, 'ApiKey', {
        description: 'DICOM API client key (send it as x-api-key); value: aws apigateway get-api-key --include-value',
        enabled: true,
      });
      this.usagePlan = this.restApi.addUsagePlan('UsagePlan', {
        description: 'DICOM API clients: rate, burst and a daily quota per key',
        throttle: { rateLimit: limits.rateLimit, burstLimit: limits.burstLimit },
        ...(limits.quotaPerDay !== undefined
          ? { quota: { limit: limits.quotaPerDay, period: apigateway.Period.DAY } }
          : {}),
        apiStages: [{ api: this.restApi, stage: this.restApi.deploymentStage }],
      });
      this.usagePlan.addApiKey(this.apiKey);
    }

    const cors = gatewayCorsHeaders(corsOrigins);
    for (const response of gatewayErrorResponses(this.auth)) {
      this.restApi.addGatewayResponse(`${response.type.responseType}Response`, {
        type: response.type,
        statusCode: response.statusCode,
        templates: { 'application/json': errorTemplate(response) },
        responseHeaders: {
          'Content-Type': "'application/json'",
          ...Object.fromEntries(Object.entries(response.headers ?? {}).map(([name, value]) => [name, `'${value}'`])),
          ...cors,
        },
      });
    }
  }

  /** The functions of routes that write audit lines (their log groups hold the audit trail). */
  auditedFunctions(): NodejsFunction[] {
    return [...new Set(ROUTES.filter((route) => route.audit).map((route) => this.functions.get(route.name)!))];
  }

  private routeFunction(
    route: RouteDefinition,
    props: ApiProps,
    corsOrigins: readonly string[],
    logRemoval: RemovalPolicy,
  ): NodejsFunction {
    const handler = handlerOf(route);
    const id = `${handler.charAt(0).toUpperCase()}${handler.slice(1)}Function`;
    const served = ROUTES.filter((other) => handlerOf(other) === handler);
    return createAppFunction(this, id, {
      name: handler,
      description:
        served.length === 1 ? `${route.method} ${route.path}` : `${served.length} routes under ${commonPrefix(served)}`,
      bucket: props.bucket,
      table: props.table,
      access: route.access,
      memoryMb: route.memoryMb,
      timeoutSeconds: route.timeoutSeconds,
      ...(props.dataKey ? { dataKey: props.dataKey } : {}),
      tracing: props.tracing ?? false,
      listingIndexes: props.listingIndexes ?? 'all',
      // The audit trail is in these functions' logs: kept for years, and kept when the stack goes.
      ...(route.audit ? { logRetention: AUDIT_LOG_RETENTION, logRemovalPolicy: logRemoval } : {}),
      environment: {
        ...(corsOrigins.length > 0 ? { [ENV.corsOrigins]: corsOrigins.join(',') } : {}),
        // Resolved by CloudFormation at deploy ({{resolve:secretsmanager:...}}): no SDK call at cold start.
        // It is visible to whoever may read the function's configuration; it guards cursors, not data.
        ...(route.cursors ? { [ENV.cursorSecret]: this.cursorSecret.secretValue.unsafeUnwrap() } : {}),
      },
    });
  }
}
