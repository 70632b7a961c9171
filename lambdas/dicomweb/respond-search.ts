// Answers a QIDO-RS request: parse, search the indexes, DICOM JSON out (an empty match is 200 with [] per PS3.18).
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { getStores } from '../commons.js';
import { stringifyDicomJson } from '../dicom/dicom-json.js';
import { dicomJsonResponse, dicomwebRoot, pathUid, requireJsonAccepted } from './http.js';
import { parseQidoQuery, type QueryLevel } from './qido.js';
import { searchInstances, searchSeries, searchStudies, type SearchScope } from './search.js';

export async function respondToSearch(event: APIGatewayProxyEvent, level: QueryLevel): Promise<APIGatewayProxyResult> {
  const scope: SearchScope = {
    ...(event.pathParameters?.study !== undefined ? { studyUid: pathUid(event, 'study') } : {}),
    ...(event.pathParameters?.series !== undefined ? { seriesUid: pathUid(event, 'series') } : {}),
  };
  // API Gateway sends both maps; the multi-value one keeps repeated keys (includefield may repeat).
  const single = Object.entries(event.queryStringParameters ?? {}).map(([k, v]) => [k, [v ?? '']] as const);
  const query = parseQidoQuery(level, event.multiValueQueryStringParameters ?? Object.fromEntries(single));
  requireJsonAccepted(event);
  const { records } = getStores();
  const root = dicomwebRoot(event);
  const result =
    level === 'study'
      ? await searchStudies(records, query, root)
      : level === 'series'
        ? await searchSeries(records, query, root, scope)
        : await searchInstances(records, query, root, scope);
  const warning: Record<string, string> = result.warnings.length > 0 ? { Warning: result.warnings.join(', ') } : {};
  return dicomJsonResponse(event, stringifyDicomJson(result.datasets), warning);
}
