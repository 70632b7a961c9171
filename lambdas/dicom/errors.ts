// The domain's own errors: what is wrong with a file or with what was asked of it, in DICOM words. Each carries a
// stable code; lambdas/http/domain-errors.ts maps every code to an HTTP answer, in one table, at the edge.

/** The pixel data is there but cannot be decoded or rendered: each code names why. */
export type UndecodableReason =
  | 'UNSUPPORTED_TRANSFER_SYNTAX'
  | 'PIXEL_DATA_TRUNCATED'
  | 'PIXEL_DATA_TOO_SHORT'
  | 'PIXEL_DATA_CORRUPT'
  | 'IMAGE_TOO_LARGE'
  | 'IMAGE_NOT_RENDERABLE';

export type DicomErrorCode =
  | 'NOT_DICOM'
  | 'INFLATED_TOO_LARGE'
  | 'NO_IMAGE'
  | 'FRAME_NOT_FOUND'
  | 'FRAME_NOT_ACCEPTABLE'
  | 'WINDOW_NOT_APPLICABLE'
  | 'INVALID_TAG'
  | 'ATTRIBUTE_NOT_FOUND'
  | UndecodableReason;

export class DicomError extends Error {
  constructor(
    readonly code: DicomErrorCode,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The bytes are not a DICOM file we can read. */
export class NotDicom extends DicomError {
  constructor(reason: string) {
    super('NOT_DICOM', `not a DICOM file: ${reason}`);
  }
}

/** A deflated dataset that inflates past its cap: refused before it exhausts memory. */
export class InflatedTooLarge extends DicomError {
  constructor(cap: number) {
    super(
      'INFLATED_TOO_LARGE',
      `the deflated dataset inflates to more than ${cap} bytes, more than this API unpacks from a file of this size`,
    );
  }
}

/** The file is DICOM but its pixel data cannot be decoded or rendered (unsupported, corrupt, cut short, too large). */
export class UndecodablePixels extends DicomError {
  declare readonly code: UndecodableReason;

  constructor(message: string, reason: UndecodableReason = 'IMAGE_NOT_RENDERABLE') {
    super(reason, message);
  }
}

/** The object is DICOM but carries no pixel data (SR, RTSTRUCT, waveform...). */
export class NoImage extends DicomError {
  constructor() {
    super('NO_IMAGE', 'this DICOM object has no image');
  }
}

/** A frame number beyond Number of Frames (or below 1). */
export class FrameOutOfRange extends DicomError {
  constructor(message: string) {
    super('FRAME_NOT_FOUND', message);
  }
}

/** None of the transfer syntaxes asked for can be produced from this instance's frames. */
export class FrameNotAcceptable extends DicomError {
  constructor(message: string) {
    super('FRAME_NOT_ACCEPTABLE', message);
  }
}

/** A VOI window asked for an image it does not apply to (colour). */
export class WindowNotApplicable extends DicomError {
  constructor(message: string) {
    super('WINDOW_NOT_APPLICABLE', message);
  }
}

/** A tag given as text that is neither a tag nor a keyword. */
export class InvalidTag extends DicomError {
  constructor(message: string) {
    super('INVALID_TAG', message);
  }
}

/** A valid tag the file does not have. */
export class AttributeNotFound extends DicomError {
  constructor(message: string) {
    super('ATTRIBUTE_NOT_FOUND', message);
  }
}
