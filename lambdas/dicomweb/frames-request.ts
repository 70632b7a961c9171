// WADO-RS frames (PS3.18 10.4.1.1.4 / 8.7.3): which transfer syntax the Accept header allows, and the multipart answer.
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { FrameSyntaxRequest, RetrievedFrame } from '../dicom/frames.js';
import { TRANSFER_SYNTAX } from '../dicom/uids.js';
import { multipartRelated } from '../http/multipart-related.js';
import { binary } from '../http/responses.js';
import { acceptedRanges, admits, MAX_INLINE_ANSWER_BYTES, NotAcceptable } from './http.js';

/** What the client accepts for frames: a media type for the parts and the transfer syntaxes it allows. */
export interface FrameAccept {
  /** The part media type asked for (`application/octet-stream`, `image/jls`...), or undefined for any. */
  partType?: string;
  syntaxes: FrameSyntaxRequest;
}

/**
 * Reads Accept as PS3.18 8.7.3.5 defines it for frames. `multipart/related; type="application/octet-stream"`
 * without a transfer-syntax means Explicit VR Little Endian (the standard's default); `transfer-syntax=*` means as
 * stored; an image type (image/jls...) means that compression as stored. Anything else is 406.
 */
export function frameAccept(event: APIGatewayProxyEvent): FrameAccept[] {
  const wanted: FrameAccept[] = [];
  for (const range of acceptedRanges(event)) {
    if (range.type === '*/*') {
      wanted.push({ syntaxes: '*' });
      continue;
    }
    if (!admits(range, 'multipart/related')) continue;
    const partType = (range.params.type ?? 'application/octet-stream').toLowerCase();
    const syntax = range.params['transfer-syntax'];
    if (partType === 'application/octet-stream') {
      wanted.push({
        partType,
        syntaxes: syntax === undefined ? [TRANSFER_SYNTAX.ExplicitVRLittleEndian] : syntax === '*' ? '*' : [syntax],
      });
    } else if (partType.startsWith('image/') || partType.startsWith('video/')) {
      wanted.push({ partType, syntaxes: syntax && syntax !== '*' ? [syntax] : '*' });
    }
  }
  if (wanted.length === 0) {
    throw new NotAcceptable(
      'frames are multipart/related; the Accept header allows none of it (e.g. Accept: multipart/related; type="application/octet-stream"; transfer-syntax=*)',
    );
  }
  return wanted;
}

/** Whether the frames as retrieved fit what the client asked for (an image/jls request is not met by JPEG 2000). */
export function framesMeet(accept: FrameAccept, frames: readonly RetrievedFrame[]): boolean {
  if (!accept.partType || accept.partType === 'application/octet-stream') return true;
  return frames.every((frame) => frame.contentType.split(';')[0]!.trim() === accept.partType);
}

/**
 * The frames labelled as the client asked: for `application/octet-stream` every part is octet-stream with its
 * transfer-syntax parameter naming what the bytes are (compressed ones included), as DICOMweb viewers read it.
 */
export function labelled(accept: FrameAccept, frames: RetrievedFrame[]): RetrievedFrame[] {
  if (accept.partType !== 'application/octet-stream') return frames;
  return frames.map((frame) => ({
    ...frame,
    contentType: `application/octet-stream; transfer-syntax=${frame.transferSyntaxUid}`,
  }));
}

/**
 * The frames as a multipart/related answer; each part's Content-Type names its transfer syntax. An answer larger
 * than one Lambda response carries goes to `spill` (it stores the body and redirects to it) when one is given.
 */
export async function framesResponse(
  frames: readonly RetrievedFrame[],
  headers: Record<string, string> = {},
  spill?: (body: Uint8Array, contentType: string) => Promise<APIGatewayProxyResult>,
): Promise<APIGatewayProxyResult> {
  const type = frames[0]!.contentType.split(';')[0]!.trim();
  const { body, contentType } = multipartRelated(
    frames.map((frame) => ({ contentType: frame.contentType, bytes: frame.bytes })),
    type,
  );
  if (body.length > MAX_INLINE_ANSWER_BYTES && spill) return spill(body, contentType);
  if (body.length > MAX_INLINE_ANSWER_BYTES) {
    throw new NotAcceptable(
      `the frames asked for make ${body.length} bytes, more than one answer carries (${MAX_INLINE_ANSWER_BYTES}); ask for fewer frames at a time`,
    );
  }
  return binary(200, body, contentType, headers);
}
