// Listing limits: page sizes, and how much of an index one page may read. The listing's types (filters, pages,
// study and series rows) are part of the store model in records.ts; they are re-exported here for the listing code.
export {
  PROCESSING_STATUSES,
  type FileFilters,
  type Page,
  type PageRequest,
  type SeriesSummary,
  type StudyDateRange,
  type StudyFilters,
  type StudySummary,
} from './records.js';

/** Page sizes of GET /dicom, POST /dicom/search and the study routes. */
export const DEFAULT_PAGE_LIMIT = 100;
export const MAX_PAGE_LIMIT = 1000;

/**
 * The most index items one page may examine (filtered out or not): the cap that keeps every
 * request bounded even when part of a filter is a FilterExpression. A page that hits it comes back
 * short, with a cursor to continue.
 */
export const MAX_EXAMINED_PER_PAGE = 5000;
