// The one table from the domain's and the store's errors to HTTP answers: status, the code the client sees (the
// domain's own unless named here) and any extra body field. The domain never names a status.
import { DicomError, type DicomErrorCode } from '../dicom/errors.js';
import { InvalidPagePosition, isStorageBusy } from '../store/errors.js';
import { HttpError, ServiceUnavailable } from './errors.js';

interface HttpAnswer {
  readonly status: number;
  /** The API's code when it is not the domain's (a generic HTTP word such as NOT_ACCEPTABLE). */
  readonly code?: string;
  readonly body?: Record<string, unknown>;
}

const DICOM_ERRORS: Readonly<Record<DicomErrorCode, HttpAnswer>> = {
  NOT_DICOM: { status: 400 },
  INVALID_TAG: { status: 400 },
  WINDOW_NOT_APPLICABLE: { status: 400, code: 'INVALID_PARAMETER', body: { parameter: 'window' } },
  NO_IMAGE: { status: 404 },
  FRAME_NOT_FOUND: { status: 404 },
  ATTRIBUTE_NOT_FOUND: { status: 404 },
  FRAME_NOT_ACCEPTABLE: { status: 406, code: 'NOT_ACCEPTABLE' },
  INFLATED_TOO_LARGE: { status: 413 },
  UNSUPPORTED_TRANSFER_SYNTAX: { status: 422 },
  PIXEL_DATA_TRUNCATED: { status: 422 },
  PIXEL_DATA_TOO_SHORT: { status: 422 },
  PIXEL_DATA_CORRUPT: { status: 422 },
  IMAGE_TOO_LARGE: { status: 422 },
  IMAGE_NOT_RENDERABLE: { status: 422 },
};

/**
 * What a thrown error means to the client: an HttpError as it is, a domain or store error through the table above;
 * undefined for anything else, which is a bug (500).
 */
export function clientError(error: unknown): HttpError | undefined {
  if (error instanceof HttpError) return error;
  if (error instanceof DicomError) {
    const { status, code = error.code, body } = DICOM_ERRORS[error.code];
    return new HttpError(status, code, error.message, body ? { body } : {});
  }
  if (error instanceof InvalidPagePosition) return new HttpError(400, error.code, error.message);
  // Throttled through every retry: the client's request is fine, and the same request shortly should work.
  if (isStorageBusy(error)) return new ServiceUnavailable('the storage is busy; retry shortly', 'STORAGE_BUSY');
  return undefined;
}
