// One error family that carries an HTTP status and a stable code; the handler wrapper maps it to a response.

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

/** The file is DICOM but its image cannot be rendered (unsupported or corrupt pixel data). */
export class UnprocessableImage extends HttpError {
  constructor(message: string, code = 'IMAGE_NOT_RENDERABLE') {
    super(422, code, message);
  }
}

/** The object is DICOM but carries no pixel data (SR, RTSTRUCT, waveform...). */
export class NoImage extends NotFound {
  constructor() {
    super('this DICOM object has no image', 'NO_IMAGE');
  }
}

/** The bytes are not a DICOM file we can read. */
export class NotDicom extends BadRequest {
  constructor(reason: string) {
    super(`not a DICOM file: ${reason}`, 'NOT_DICOM');
  }
}
