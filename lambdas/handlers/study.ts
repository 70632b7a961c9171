// GET /studies/{study_uid}: one study's row.
import { httpHandler } from '../http/handler.js';
import { respondWithStudy, studyUid } from '../http/listing.js';

export const handler = httpHandler('study', (event) => respondWithStudy(studyUid(event)));
