// Query strings checked once, against the route table's declarations: unknown or repeated names, and values.
import type { APIGatewayProxyEvent } from 'aws-lambda';
import {
  handlerOf,
  ROUTES,
  type QueryParameter,
  type QueryValue,
  type RouteContract,
  type RouteDefinition,
} from '../routes.js';
import { BadRequest, InvalidParameter } from './errors.js';

const patterns = new Map<string, RegExp>();
function compiled(pattern: string): RegExp {
  let regex = patterns.get(pattern);
  if (!regex) patterns.set(pattern, (regex = new RegExp(pattern)));
  return regex;
}

/** Whether a value fits its declaration (trimmed, as the handlers read values; enums in any case). */
export function fitsDeclaration(schema: QueryValue, value: string): boolean {
  const text = value.trim();
  if (schema.type === 'integer') {
    if (!/^\d{1,16}$/.test(text)) return false;
    const number = Number(text);
    return number >= schema.minimum && (schema.maximum === undefined || number <= schema.maximum);
  }
  if (schema.maxLength !== undefined && text.length > schema.maxLength) return false;
  if (schema.enum && !schema.enum.some((allowed) => allowed.toLowerCase() === text.toLowerCase())) return false;
  return schema.pattern === undefined || compiled(schema.pattern).test(text);
}

/** Every value of every query parameter (API Gateway sends both maps; the multi-value one keeps repeats). */
function queryValues(event: APIGatewayProxyEvent): [string, readonly string[]][] {
  const multi = event.multiValueQueryStringParameters;
  if (multi) return Object.entries(multi).map(([name, values]) => [name, values ?? []]);
  return Object.entries(event.queryStringParameters ?? {}).map(([name, value]) => [name, [value ?? '']]);
}

/**
 * 400 for a query parameter the route does not declare (BAD_QUERY; on a QIDO-RS route, where every key is a
 * parameter name, INVALID_PARAMETER naming it), one given twice that may not repeat (BAD_QUERY), or a value that
 * does not fit its declaration (INVALID_PARAMETER naming it). Messages name parameters, never echo values.
 */
export function checkQuery(contract: Pick<RouteContract, 'query' | 'matchingKeys'>, event: APIGatewayProxyEvent): void {
  const declared = contract.query ?? {};
  const accepted = Object.keys(declared).join(', ') || 'none';
  for (const [name, values] of queryValues(event)) {
    let parameter: QueryParameter | undefined = Object.hasOwn(declared, name) ? declared[name] : undefined;
    if (!parameter && contract.matchingKeys && compiled(contract.matchingKeys.namePattern).test(name)) {
      parameter = contract.matchingKeys;
    }
    if (!parameter) {
      if (contract.matchingKeys) {
        throw new InvalidParameter(
          name.slice(0, 64),
          `unknown query key: not a QIDO-RS parameter (${accepted}), DICOM keyword or tag`,
        );
      }
      throw new BadRequest(`unknown query parameter: ${name.slice(0, 40)} (accepted: ${accepted})`, 'BAD_QUERY');
    }
    if (values.length > 1 && !parameter.repeated) {
      throw new BadRequest(`give the query parameter ${name.slice(0, 40)} once`, 'BAD_QUERY');
    }
    for (const value of values) {
      if (!fitsDeclaration(parameter.schema, value)) {
        throw new InvalidParameter(name.slice(0, 64), `${name.slice(0, 64)} must be ${parameter.description}`);
      }
    }
  }
}

/**
 * The route a handler module is serving for this request: the one of its routes whose resource template and method
 * the event names (API Gateway sets `resource` to the template), or its only route.
 */
export function routeServed(
  routes: readonly RouteDefinition[],
  event: APIGatewayProxyEvent,
): RouteDefinition | undefined {
  return (
    routes.find((route) => route.path === event.resource && route.method === event.httpMethod) ??
    (routes.length === 1 ? routes[0] : undefined)
  );
}

/** The routes a handler module serves (by route name or handler name, as httpHandler is given). */
export function routesOf(handler: string): RouteDefinition[] {
  return ROUTES.filter((route) => route.name === handler || handlerOf(route) === handler);
}
