// GET /dicom: one page of file records, newest first, optionally filtered (?patient_id=&modality=&study_date=...).
import { httpHandler } from '../http/handler.js';
import { listingFromQuery, respondWithFiles } from '../http/listing.js';

export const handler = httpHandler('list', (event) => respondWithFiles(listingFromQuery(event)));
