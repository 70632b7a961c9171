// The handler wrapper: checks the query string against the route table, runs a route, maps HttpErrors (and the
// domain's errors, through lambdas/http/domain-errors.ts) to API.md's JSON error body, adds CORS, logs and audits
// without PHI.
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { logger } from '../commons.js';
import { AUDIT_FILE_IDS_HEADER, writeAudit } from './access.js';
import { withCors } from './cors.js';
import { clientError } from './domain-errors.js';
import type { HttpError } from './errors.js';
import { checkQuery, routeServed, routesOf } from './query.js';
import { json } from './responses.js';

export type ApiHandler = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;

export function errorResponse(error: HttpError): APIGatewayProxyResult {
  return json(error.status, { error: error.message, code: error.code, ...error.extra.body }, error.extra.headers);
}

/**
 * Wraps a route (a route name, or the handler module several routes share): a query parameter its route does not
 * declare, or a value that does not fit, is 400 before it runs (lambdas/http/query.ts). HttpErrors, and the domain's
 * and the store's errors, become their status; anything else is a bug, logged with the request id, 500. Every answer
 * gets the CORS headers for its Origin; a route with `audit` in the route table writes its audit line.
 */
export function httpHandler(route: string, run: ApiHandler): ApiHandler {
  const routes = routesOf(route);
  const audit = routes[0]?.audit;
  return async (event) => {
    const started = performance.now();
    const requestId = event.requestContext?.requestId;
    let response: APIGatewayProxyResult;
    try {
      const served = routeServed(routes, event);
      if (served) checkQuery(served, event);
      response = await run(event);
    } catch (error) {
      const client = clientError(error);
      if (client) {
        response = errorResponse(client);
      } else {
        // Error messages from our code and the SDK carry no attribute values; stacks point at the bug.
        logger.error('unhandled error', { route, requestId, error: error as Error });
        response = json(500, { error: 'internal error; it has been logged', code: 'INTERNAL_ERROR' });
      }
    }
    logger.info('request', {
      route,
      requestId,
      status: response.statusCode,
      ms: Math.round(performance.now() - started),
    });
    if (audit) writeAudit(event, route, audit, response);
    if (response.headers?.[AUDIT_FILE_IDS_HEADER] !== undefined) {
      const { [AUDIT_FILE_IDS_HEADER]: _ids, ...headers } = response.headers;
      response = { ...response, headers };
    }
    return withCors(event, response);
  };
}
