// GET /studies[?study_date=]: one page of studies (patient, date, description, modalities, instance count), newest study first.
import { httpHandler } from '../http/handler.js';
import { listingFromQuery, respondWithStudies, FILTER_NAMES } from '../http/listing.js';

/** Only the study date: it is the studies index's own order, so a range is a key condition, never a scan. */
const NOT_FOR_STUDIES = FILTER_NAMES.filter((name) => name !== 'study_date');

export const handler = httpHandler('studies', (event) => respondWithStudies(listingFromQuery(event, NOT_FOR_STUDIES)));
