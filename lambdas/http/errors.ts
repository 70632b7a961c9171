// One error family that carries an HTTP status and a stable code; the handler wrapper maps it to a response. The
// domain's errors (lambdas/dicom/errors.ts) name no status: lambdas/http/domain-errors.ts maps them onto this family.

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Extra response headers (e.g. Retry-After) and fields added to the JSON body. */
    readonly extra: { headers?: Record<string, string>; body?: Record<string, unknown> } = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class BadRequest extends HttpError {
  constructor(message: string, code = 'BAD_REQUEST') {
    super(400, code, message);
  }
}

/** A query parameter (or search field) with a value the API cannot use; the body names it in `parameter`. */
export class InvalidParameter extends HttpError {
  constructor(parameter: string, message: string) {
    super(400, 'INVALID_PARAMETER', message, { body: { parameter } });
  }
}

export class NotFound extends HttpError {
  constructor(message: string, code = 'NOT_FOUND') {
    super(404, code, message);
  }
}

/** The request is valid but the file's state does not allow it now (e.g. reprocess before the bytes arrived). */
export class Conflict extends HttpError {
  constructor(message: string, code = 'CONFLICT') {
    super(409, code, message);
  }
}

/** Our storage failed (not the client's request): nothing was kept, and retrying later should work. */
export class ServiceUnavailable extends HttpError {
  constructor(message: string, code = 'SERVICE_UNAVAILABLE') {
    super(503, code, message, { headers: { 'Retry-After': '5' } });
  }
}

export class PayloadTooLarge extends HttpError {
  constructor(message: string, code = 'PAYLOAD_TOO_LARGE') {
    super(413, code, message);
  }
}
