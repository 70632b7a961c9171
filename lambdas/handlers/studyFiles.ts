// GET /studies/{study_uid}/files: the study's file records, newest first, with GET /dicom's other filters and paging.
import { httpHandler } from '../http/handler.js';
import { listingFromQuery, respondWithFiles, studyUid } from '../http/listing.js';

export const handler = httpHandler('studyFiles', async (event) => {
  const uid = studyUid(event);
  const request = listingFromQuery(event);
  return respondWithFiles({ ...request, filters: { ...request.filters, study_uid: uid } });
});
