// STOW-RS (PS3.18 10.5): POST /dicomweb/studies[/{study}] stores each instance of a multipart/related request
// through POST /dicom's pipeline and answers the Store Instances Response Module (200 / 202 / 409).
import { getStores, logger } from '../commons.js';
import { LARGE_UPLOAD_ROUTE, MAX_UPLOAD_BODY_BYTES } from '../config.js';
import { dicomJsonResponse, dicomwebRoot, pathUid, requireJsonAccepted } from '../dicomweb/http.js';
import { stowBoundary, stowParts, stowResponse, stowStatus, storeInstances } from '../dicomweb/stow.js';
import { auditedFiles } from '../http/access.js';
import { PayloadTooLarge } from '../http/errors.js';
import { httpHandler } from '../http/handler.js';
import { bodyBytes, header } from '../http/request.js';

export const handler = httpHandler('dicomwebStore', async (event) => {
  const studyUid = event.pathParameters?.study !== undefined ? pathUid(event, 'study') : undefined;
  const boundary = stowBoundary(header(event, 'content-type'));
  requireJsonAccepted(event);
  const body = bodyBytes(event);
  if (body.length > MAX_UPLOAD_BODY_BYTES) {
    throw new PayloadTooLarge(
      `request of ${body.length} bytes is larger than one STOW-RS request takes (${MAX_UPLOAD_BODY_BYTES}); send fewer instances per request, or large files with ${LARGE_UPLOAD_ROUTE}`,
    );
  }
  const parts = stowParts(boundary, body);
  const outcomes = await storeInstances(getStores(), parts, studyUid);
  const status = stowStatus(outcomes);
  // Codes and counts only: no UID or attribute value reaches the log.
  logger.info('stow', {
    parts: parts.length,
    stored: outcomes.filter((o) => o.kind === 'stored').length,
    failures: outcomes.flatMap((o) => (o.kind === 'failed' ? [`${o.reason.toString(16)}:${o.why}`] : [])),
  });
  const ids = outcomes.flatMap((o) => (o.kind === 'stored' ? [o.id] : []));
  const answer = dicomJsonResponse(
    event,
    JSON.stringify(stowResponse(dicomwebRoot(event), outcomes, studyUid)),
    auditedFiles([...new Set(ids)]),
  );
  return { ...answer, statusCode: status };
});
