// POST /dicom/search: GET /dicom's filters and paging in a JSON body, so patient identifiers stay out of URLs and logs.
import { httpHandler } from '../http/handler.js';
import { listingFromBody, respondWithFiles } from '../http/listing.js';

export const handler = httpHandler('search', (event) => respondWithFiles(listingFromBody(event)));
