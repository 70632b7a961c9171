// GET /studies[?study_date=]: one page of studies (patient, date, description, modalities, instance count), newest study first.
import { httpHandler } from '../http/handler.js';
import { listingFromQuery, respondWithStudies } from '../http/listing.js';

// Only limit, cursor and the study date (the route table's declaration): the date is the studies index's own order.
export const handler = httpHandler('studies', (event) => respondWithStudies(listingFromQuery(event)));
