// GET /studies/{study_uid}/series: the study's series in series-number order, each with its instance count and files.
import { httpHandler } from '../http/handler.js';
import { respondWithStudySeries, studyUid } from '../http/listing.js';

export const handler = httpHandler('studySeries', (event) => respondWithStudySeries(studyUid(event)));
