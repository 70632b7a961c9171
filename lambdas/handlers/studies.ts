// GET /studies: one page of studies (patient, date, description, modalities, instance count), newest study first.
import { httpHandler } from '../http/handler.js';
import { listingFromQuery, respondWithStudies, FILTER_NAMES } from '../http/listing.js';

export const handler = httpHandler('studies', (event) => respondWithStudies(listingFromQuery(event, FILTER_NAMES)));
