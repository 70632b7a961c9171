// Maps Node HTTP requests to the API Gateway REST proxy events the deployed API sends, and back.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { RouteDefinition } from '../lambdas/routes.js';

export interface MatchedRoute {
  route: RouteDefinition;
  pathParameters: Record<string, string> | null;
}

interface CompiledRoute {
  route: RouteDefinition;
  pattern: RegExp;
  names: string[];
}

/** Matches method + path against the route table the way API Gateway resources do. */
export class RouteMatcher {
  private readonly compiled: CompiledRoute[];

  constructor(routes: readonly RouteDefinition[]) {
    this.compiled = routes.map((route) => {
      const names: string[] = [];
      const source = route.path
        .split('/')
        .map((segment) => {
          const param = /^\{(\w+)\}$/.exec(segment);
          if (!param) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
          names.push(param[1]!);
          return '([^/]+)';
        })
        .join('/');
      return { route, pattern: new RegExp(`^${source}/?$`), names };
    });
  }

  /**
   * Like API Gateway: the path picks the most specific resource (a literal segment beats `{param}`,
   * so /dicom/search is not /dicom/{id}), then the method must exist on that resource.
   */
  match(method: string, path: string): MatchedRoute | undefined {
    let best: { resource: string; m: RegExpExecArray } | undefined;
    for (const { route, pattern } of this.compiled) {
      const m = pattern.exec(path);
      if (m && (!best || moreSpecific(route.path, best.resource))) best = { resource: route.path, m };
    }
    const chosen = best && this.compiled.find((c) => c.route.path === best.resource && c.route.method === method);
    if (!best || !chosen) return undefined;
    const pathParameters: Record<string, string> = {};
    chosen.names.forEach((name, i) => {
      pathParameters[name] = decodeSegment(best.m[i + 1]!);
    });
    return { route: chosen.route, pathParameters: chosen.names.length ? pathParameters : null };
  }
}

/** A path segment's %-escapes decoded; a malformed escape (`%`, `%FF`) stays as sent, for the handler to refuse. */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** Whether resource path `a` beats `b` for a path both match: the first differing segment is literal in `a`. */
function moreSpecific(a: string, b: string): boolean {
  const as = a.split('/');
  const bs = b.split('/');
  for (let i = 0; i < Math.min(as.length, bs.length); i++) {
    const aParam = as[i]!.startsWith('{');
    const bParam = bs[i]!.startsWith('{');
    if (aParam !== bParam) return bParam;
  }
  return false;
}

/** Single- and multi-value maps as API Gateway builds them (last value wins in the single map). */
function valueMaps(pairs: [string, string][]): {
  single: Record<string, string> | null;
  multi: Record<string, string[]> | null;
} {
  if (pairs.length === 0) return { single: null, multi: null };
  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (const [key, value] of pairs) {
    single[key] = value;
    (multi[key] ??= []).push(value);
  }
  return { single, multi };
}

export function toProxyEvent(
  req: IncomingMessage,
  url: URL,
  matched: MatchedRoute,
  body: Buffer,
): APIGatewayProxyEvent {
  // Node lower-cases req.headers; API Gateway keeps the client's casing, so use rawHeaders.
  const headerPairs: [string, string][] = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) headerPairs.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!]);
  const headers = valueMaps(headerPairs);
  const query = valueMaps([...url.searchParams.entries()]);
  const requestId = randomUUID();
  return {
    resource: matched.route.path,
    path: url.pathname,
    httpMethod: req.method ?? 'GET',
    headers: headers.single ?? {},
    multiValueHeaders: headers.multi ?? {},
    queryStringParameters: query.single,
    multiValueQueryStringParameters: query.multi,
    pathParameters: matched.pathParameters,
    stageVariables: null,
    // binaryMediaTypes is */* on the deployed API, so every body arrives base64-encoded.
    body: body.length > 0 ? body.toString('base64') : null,
    isBase64Encoded: body.length > 0,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: null,
      protocol: 'HTTP/1.1',
      httpMethod: req.method ?? 'GET',
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        user: null,
        userAgent: req.headers['user-agent'] ?? null,
        userArn: null,
      },
      path: url.pathname,
      stage: 'local',
      requestId,
      requestTimeEpoch: Date.now(),
      resourceId: 'local',
      resourcePath: matched.route.path,
    },
  };
}

export function writeProxyResult(res: ServerResponse, result: APIGatewayProxyResult): void {
  const headers: Record<string, string | string[]> = {};
  for (const [key, value] of Object.entries(result.headers ?? {})) headers[key] = String(value);
  for (const [key, values] of Object.entries(result.multiValueHeaders ?? {})) headers[key] = values.map(String);
  const body = result.isBase64Encoded ? Buffer.from(result.body, 'base64') : Buffer.from(result.body ?? '', 'utf8');
  headers['Content-Length'] = String(body.length);
  res.writeHead(result.statusCode, headers);
  res.end(body);
}

/** API Gateway's own errors, with the JSON body (and CORS headers, when on) the stack's Gateway Responses give them. */
export function writeGatewayError(
  res: ServerResponse,
  status: number,
  code: string,
  error: string,
  headers: Record<string, string> = {},
): void {
  writeProxyResult(res, {
    statusCode: status,
    headers: { 'Content-Type': 'application/json; charset=utf-8', ...headers },
    body: JSON.stringify({ error, code }),
  });
}
