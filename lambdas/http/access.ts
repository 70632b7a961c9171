// Who is calling (API key id or IAM principal) and the audit trail of what they did to which file, written by one helper.
import { createHash } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';

/** The header API Gateway reads API keys from (and the local runtime, the same way). */
export const API_KEY_HEADER = 'x-api-key';

/**
 * The API key a request carries: `x-api-key`, or `Authorization: Bearer <key>` as DICOMweb viewers and clients send
 * it (OHIF, dicomweb-client). Header names in any case. The local runtime and the stack's authorizer both use this.
 */
export function apiKeyOf(
  headers: Record<string, string | string[] | undefined> | null | undefined,
): string | undefined {
  let bearer: string | undefined;
  for (const [name, raw] of Object.entries(headers ?? {})) {
    const value = Array.isArray(raw) ? raw[0] : raw;
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    if (lower === API_KEY_HEADER) return value;
    if (lower === 'authorization') bearer = /^Bearer\s+(\S+)\s*$/i.exec(value)?.[1];
  }
  return bearer;
}

/** API Gateway's answer to a missing or wrong key (its INVALID_API_KEY gateway response), locally the same. */
export const INVALID_API_KEY = {
  status: 403,
  code: 'INVALID_API_KEY',
  error: `the API key is missing or not valid for this API; send it in the ${API_KEY_HEADER} header`,
} as const;

/** What an audit line says was done: `route` in the same line tells which read (record, attributes, image). */
export type AuditAction = 'upload' | 'read' | 'download' | 'delete' | 'reprocess' | 'list';

export interface Principal {
  /** `api-key` (the key's id, never its value), `iam` (the caller's ARN) or `none` (access control off). */
  readonly type: 'api-key' | 'iam' | 'none';
  readonly id: string | null;
}

/**
 * The id the local runtime gives a key (API Gateway's `apiKeyId` names a key without revealing it): a
 * hash prefix, so logs can tell keys apart and never hold one.
 */
export function localApiKeyId(key: string): string {
  return `local-${createHash('sha256').update(key).digest('hex').slice(0, 12)}`;
}

/** The caller as API Gateway identified it (requestContext.identity). */
export function principalOf(event: APIGatewayProxyEvent): Principal {
  const identity = event.requestContext?.identity;
  if (identity?.userArn) return { type: 'iam', id: identity.userArn };
  if (identity?.apiKeyId) return { type: 'api-key', id: identity.apiKeyId };
  return { type: 'none', id: null };
}

/**
 * Audit lines: a logger of their own (`audit: true` on every line) that a lowered POWERTOOLS_LOG_LEVEL (WARN,
 * ERROR) does not silence; only SILENT (the tests' setting) does.
 */
export const auditLogger = new Logger({
  serviceName: 'dicom-api',
  logLevel: process.env.POWERTOOLS_LOG_LEVEL?.toUpperCase() === 'SILENT' ? 'SILENT' : 'INFO',
  persistentKeys: { audit: true },
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * A handler that resolves files from something other than an `{id}` (DICOMweb UIDs) names them in this response
 * header; the handler wrapper takes it off before the answer leaves (lambdas/http/handler.ts).
 */
export const AUDIT_FILE_IDS_HEADER = 'X-Audit-File-Ids';
/** An audit line names at most this many files (a series' metadata may hold thousands; the count says how many). */
const MAX_AUDITED_IDS = 100;

/** The header that tells the audit which files an answer came from. */
export function auditedFiles(ids: readonly string[]): Record<string, string> {
  return { [AUDIT_FILE_IDS_HEADER]: ids.slice(0, MAX_AUDITED_IDS).join(',') };
}

/**
 * The file ids a request touched, from what the service made or checked, never from raw client text: the path's
 * `{id}` only when it is a UUID; for an upload the `id` of its answer; for a listing the ids of the page it showed.
 */
export function auditedFileIds(event: APIGatewayProxyEvent, response: APIGatewayProxyResult): string[] {
  const named = response.headers?.[AUDIT_FILE_IDS_HEADER];
  if (typeof named === 'string') return named.split(',').filter((id) => UUID.test(id));
  const pathId = event.pathParameters?.id?.toLowerCase();
  if (pathId !== undefined) return UUID.test(pathId) ? [pathId] : [];
  if (response.statusCode < 200 || response.statusCode >= 300 || response.isBase64Encoded) return [];
  if (!String(response.headers?.['Content-Type'] ?? '').startsWith('application/json')) return [];
  try {
    const body = JSON.parse(response.body) as { id?: unknown; files?: { id?: unknown }[] };
    const ids = body.files ? body.files.map((file) => file.id) : [body.id];
    return ids.filter((id): id is string => typeof id === 'string' && UUID.test(id));
  } catch {
    return [];
  }
}

/** Writes the audit line of one request: who, what, which file(s), when (the line's timestamp), how it ended. No PHI. */
export function writeAudit(
  event: APIGatewayProxyEvent,
  route: string,
  action: AuditAction,
  response: APIGatewayProxyResult,
): void {
  const principal = principalOf(event);
  const ids = auditedFileIds(event, response);
  auditLogger.info('audit', {
    action,
    route,
    // One id as a plain field (easy to filter on); a listing's page as a list.
    // A listing, or a DICOMweb request touching several files (STOW, a study's DELETE), names them as a list.
    ...(action === 'list' || ids.length > 1 ? { file_ids: ids } : { file_id: ids[0] ?? null }),
    principal_type: principal.type,
    principal: principal.id,
    status: response.statusCode,
    requestId: event.requestContext?.requestId,
    source_ip: event.requestContext?.identity?.sourceIp ?? null,
  });
}
