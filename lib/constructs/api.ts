// The REST API: one Lambda per entry of the route table, and API Gateway's own errors in API.md's JSON shape.
import { RemovalPolicy } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ENV, LARGE_UPLOAD_ROUTE } from '../../lambdas/config.js';
import { ROUTES, type RouteDefinition } from '../../lambdas/routes.js';
import { createAppFunction } from './function-defaults.js';

export const STAGE_NAME = 'v1';

/** Stage-wide throttling: a runaway client costs a personal account little (429s, not Lambda time). */
export const THROTTLING = { rateLimit: 50, burstLimit: 100 } as const;

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

/** `"text"` as a JSON string literal, for gateway response templates. */
const literal = (text: string): string => JSON.stringify(text);

function routeList(): string {
  return ROUTES.map((route) => `${route.method} ${route.path}`).join(', ');
}

export const GATEWAY_ERROR_RESPONSES: readonly GatewayErrorResponse[] = [
  {
    // API Gateway answers an unknown path or method with 403 "Missing Authentication Token".
    type: apigateway.ResponseType.MISSING_AUTHENTICATION_TOKEN,
    statusCode: '404',
    error: literal(`no route matches this method and path; the routes are: ${routeList()}`),
    code: literal('ROUTE_NOT_FOUND'),
  },
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
    type: apigateway.ResponseType.INVALID_API_KEY,
    statusCode: '403',
    error: literal('the API key is missing or not valid for this API; send it in the x-api-key header'),
    code: literal('INVALID_API_KEY'),
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

export interface ApiProps {
  readonly bucket: s3.IBucket;
  readonly table: dynamodb.ITable;
}

export class Api extends Construct {
  readonly restApi: apigateway.RestApi;
  /** The Lambda of each route, by route name. */
  readonly functions: ReadonlyMap<string, NodejsFunction>;
  /** Seals paging cursors: generated by Secrets Manager at deploy, so its value is in no template or repository. */
  readonly cursorSecret: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);
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
      // Every body reaches the Lambdas base64-encoded (JSON too), and PNGs go out as bytes whatever
      // Accept says: API Gateway decides binary handling from the first Accept type.
      binaryMediaTypes: ['*/*'],
      // No account-wide CloudWatch role: a personal account need not change a global setting.
      cloudWatchRole: false,
      deployOptions: {
        stageName: STAGE_NAME,
        throttlingRateLimit: THROTTLING.rateLimit,
        throttlingBurstLimit: THROTTLING.burstLimit,
        // Execution logs (and data traces) would record query strings and bodies, i.e. patient
        // identifiers: off, and no access log. Handlers log route, status and timings only.
        loggingLevel: apigateway.MethodLoggingLevel.OFF,
        dataTraceEnabled: false,
      },
    });
    // The construct's own "Endpoint" output would duplicate the stack's ApiUrl output.
    this.restApi.node.tryRemoveChild('Endpoint');

    const functions = new Map<string, NodejsFunction>();
    for (const route of ROUTES) {
      const fn = this.routeFunction(route, props);
      this.restApi.root
        .resourceForPath(route.path)
        .addMethod(route.method, new apigateway.LambdaIntegration(fn, { proxy: true, allowTestInvoke: false }));
      functions.set(route.name, fn);
    }
    this.functions = functions;

    for (const response of GATEWAY_ERROR_RESPONSES) {
      this.restApi.addGatewayResponse(`${response.type.responseType}Response`, {
        type: response.type,
        statusCode: response.statusCode,
        templates: { 'application/json': errorTemplate(response) },
        responseHeaders: {
          'Content-Type': "'application/json'",
          ...Object.fromEntries(Object.entries(response.headers ?? {}).map(([name, value]) => [name, `'${value}'`])),
        },
      });
    }
  }

  private routeFunction(route: RouteDefinition, props: ApiProps): NodejsFunction {
    const id = `${route.name.charAt(0).toUpperCase()}${route.name.slice(1)}Function`;
    return createAppFunction(this, id, {
      name: route.name,
      description: `${route.method} ${route.path}`,
      bucket: props.bucket,
      table: props.table,
      access: route.access,
      memoryMb: route.memoryMb,
      timeoutSeconds: route.timeoutSeconds,
      // Resolved by CloudFormation at deploy ({{resolve:secretsmanager:...}}): no SDK call at cold start.
      // It is visible to whoever may read the function's configuration; it guards cursors, not data.
      ...(route.cursors ? { environment: { [ENV.cursorSecret]: this.cursorSecret.secretValue.unsafeUnwrap() } } : {}),
    });
  }
}
