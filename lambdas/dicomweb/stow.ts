// STOW-RS (PS3.18 10.5): reads a multipart/related request of DICOM instances, decides each one, answers per Annex I.
import { MultipartParseError, parseMultipart } from '@remix-run/multipart-parser';
import type { Stores } from '../commons.js';
import { logger } from '../commons.js';
import { MAX_UPLOAD_BODY_BYTES } from '../config.js';
import type { DicomJsonDataset } from '../dicom/dicom-json.js';
import { parseDicom, type ParsedDicom } from '../dicom/parse.js';
import { TAG_HEX } from '../dicom/tags.js';
import { clientError } from '../http/domain-errors.js';
import { BadRequest, HttpError } from '../http/errors.js';
import { parseAccept } from '../http/multipart-related.js';
import { newFileRecord, storeFile } from '../ingest/store-file.js';
import { withDeadlineApplied, type FileRecord } from '../store/records.js';

/**
 * Failure Reason (0008,1197) values: PS3.18 Table I.2-2 where it has one; the others are this service's own codes
 * (the table allows them, "defined in the conformance statement": docs/dicomweb.md), chosen as other servers use them.
 */
export const FAILURE_REASON = {
  /** Cxxx "Error: Cannot understand": the part is not a DICOM file we can read (empty, not DICOM, truncated). */
  cannotUnderstand: 0xc000,
  /** A7xx "Refused out of Resources": storage failed (retry later), or the file inflates beyond what we parse. */
  outOfResources: 0xa700,
  /** A9xx "Data Set does not match SOP Class": a Type 1 UID DICOMweb addresses it by is missing or not a UID. */
  missingUids: 0xa900,
  /**
   * The instance's Study Instance UID is not the study of a study-scoped request (PS3.18 10.5.3.1 names the
   * "Study Instance UID mismatch" among 409's reasons but gives it no code; C122 there means an unsupported
   * transfer syntax). 0xA901 (43265) as Azure's DICOM service answers it.
   */
  studyMismatch: 0xa901,
  /** PS3.7 C.5 "Duplicate SOP Instance": another file with this SOP Instance UID is already stored. */
  duplicateSopInstance: 0x0111,
  /** 0110 "Processing failure" (Table I.2-2): anything else. */
  processingFailure: 0x0110,
} as const;

/** 415 Unsupported Media Type (PS3.18 10.5.3.1): the request's Content-Type is not one STOW-RS here takes. */
export class UnsupportedMediaType extends HttpError {
  constructor(message: string) {
    super(415, 'UNSUPPORTED_MEDIA_TYPE', message);
  }
}

/** One instance of the request: its position, bytes and SOP-level UIDs once known. */
export interface StowPart {
  index: number;
  bytes: Uint8Array;
}

export type StowOutcome =
  | { kind: 'stored'; sopClassUid: string; sopInstanceUid: string; studyUid: string; seriesUid: string; id: string }
  | { kind: 'failed'; reason: number; sopClassUid?: string; sopInstanceUid?: string; why: string };

/**
 * The boundary of a `multipart/related; type="application/dicom"` Content-Type (quoted or bare parameters). 415 for
 * any other media type, or a `type` other than application/dicom (no metadata+bulkdata STOW); 400 without boundary.
 */
export function stowBoundary(contentType: string | undefined): string {
  const [range] = parseAccept(contentType ?? '');
  if (!contentType || !range || range.type !== 'multipart/related') {
    throw new UnsupportedMediaType(
      'STOW-RS takes multipart/related; type="application/dicom" with one DICOM file per part',
    );
  }
  const type = range.params.type?.toLowerCase();
  // A missing `type` is read as application/dicom (each part is checked as DICOM anyway).
  if (type !== undefined && type !== 'application/dicom') {
    throw new UnsupportedMediaType(
      `multipart/related parts of type ${type} are not stored here; send application/dicom`,
    );
  }
  const boundary = range.params.boundary;
  if (!boundary) throw new BadRequest('the multipart/related Content-Type has no boundary', 'BAD_MULTIPART');
  return boundary;
}

/** Most parts one request may carry (a 4.3 MB body of the smallest DICOM files holds far fewer). */
const MAX_PARTS = 1000;

/** The parts of a multipart/related body (@remix-run/multipart-parser); 400 when it is not well-formed multipart. */
export function stowParts(boundary: string, body: Uint8Array): StowPart[] {
  // RFC 2046 allows a preamble; clients that send one send a bare CRLF before the first delimiter.
  let start = 0;
  while (body[start] === 0x0d && body[start + 1] === 0x0a) start += 2;
  const parts: StowPart[] = [];
  try {
    for (const part of parseMultipart(body.subarray(start), {
      boundary,
      maxFileSize: MAX_UPLOAD_BODY_BYTES,
      maxTotalSize: MAX_UPLOAD_BODY_BYTES,
      maxParts: MAX_PARTS,
    })) {
      parts.push({ index: parts.length, bytes: part.bytes });
    }
  } catch (error) {
    if (error instanceof MultipartParseError || error instanceof TypeError) {
      throw new BadRequest(`malformed multipart/related body: ${error.message}`, 'BAD_MULTIPART');
    }
    throw error;
  }
  if (parts.length === 0) throw new BadRequest('the request holds no DICOM instance', 'NO_INSTANCES');
  return parts;
}

/** A part that parsed, with the identifiers its record will carry. */
interface ReadablePart {
  part: StowPart;
  parsed: ParsedDicom;
  record: FileRecord;
}

function failure(reason: number, why: string, record?: FileRecord): StowOutcome {
  return {
    kind: 'failed',
    reason,
    why,
    ...(record?.sop_class_uid ? { sopClassUid: record.sop_class_uid } : {}),
    ...(record?.sop_instance_uid ? { sopInstanceUid: record.sop_instance_uid } : {}),
  };
}

function stored(record: FileRecord): StowOutcome {
  return {
    kind: 'stored',
    id: record.id,
    sopClassUid: record.sop_class_uid!,
    sopInstanceUid: record.sop_instance_uid!,
    studyUid: record.study_instance_uid!,
    seriesUid: record.series_instance_uid!,
  };
}

/** Parses and checks one part without storing anything: a failure, or the record it would be stored with. */
function readPart(part: StowPart, studyUid: string | undefined): ReadablePart | StowOutcome {
  let parsed: ParsedDicom;
  try {
    parsed = parseDicom(part.bytes);
  } catch (error) {
    // InflatedTooLarge (413): a deflated file that inflates past what one Lambda parses.
    const refused = clientError(error);
    if (refused?.status === 413) return failure(FAILURE_REASON.outOfResources, 'too large');
    return failure(FAILURE_REASON.cannotUnderstand, refused ? refused.code : 'NOT_DICOM');
  }
  const record = newFileRecord({ filename: `stow-${part.index + 1}.dcm`, bytes: part.bytes, parsed });
  if (!record.sop_class_uid || !record.sop_instance_uid || !record.study_instance_uid || !record.series_instance_uid) {
    return failure(FAILURE_REASON.missingUids, 'MISSING_UIDS', record);
  }
  if (studyUid !== undefined && record.study_instance_uid !== studyUid) {
    return failure(FAILURE_REASON.studyMismatch, 'STUDY_MISMATCH', record);
  }
  return { part, parsed, record };
}

/**
 * The file already stored under this SOP Instance UID that DICOMweb serves, if any (FAILED copies serve nothing).
 * The look-up reads an index, so two requests racing with the same new UID may both store: the processor then marks
 * them duplicate_of each other and DICOMweb serves one (the newest), never two.
 */
async function existingCopies({ records }: Stores, sopInstanceUid: string): Promise<FileRecord[]> {
  const ids = await records.findBySopInstanceUid(sopInstanceUid);
  const found = await Promise.all(ids.map((id) => records.get(id)));
  return found
    .filter((record): record is FileRecord => record !== undefined)
    .map((record) => withDeadlineApplied(record))
    .filter((record) => record.status !== 'FAILED');
}

/**
 * Duplicates (PS3.4 leaves the policy to the SCP; PS3.7 C.5 has status 0111 "Duplicate SOP Instance"): an instance
 * whose SOP Instance UID is already stored is not stored again. The very same bytes (SHA-256) count as stored (a
 * retry after a lost answer succeeds and changes nothing); different bytes are refused with 0x0111: delete the
 * stored one first to replace it. So DICOMweb never holds two silent copies of one instance.
 */
async function storeOne(stores: Stores, readable: ReadablePart): Promise<StowOutcome> {
  const { record, part, parsed } = readable;
  let copies: FileRecord[];
  try {
    copies = await existingCopies(stores, record.sop_instance_uid!);
  } catch (error) {
    logger.error('stow duplicate look-up failed', { error: error as Error });
    return failure(FAILURE_REASON.outOfResources, 'STORAGE_FAILED', record);
  }
  const same = copies.find((copy) => copy.sha256 === record.sha256);
  if (same) return stored(same);
  if (copies.length > 0) return failure(FAILURE_REASON.duplicateSopInstance, 'DUPLICATE_SOP_INSTANCE', record);
  try {
    // Exactly POST /dicom's pipeline: same record, same key, same processing, same undo on a fault.
    return stored(await storeFile(stores, { filename: record.filename, bytes: part.bytes, parsed }, record));
  } catch (error) {
    const refused = clientError(error);
    if (refused) return failure(FAILURE_REASON.outOfResources, refused.code, record);
    throw error;
  }
}

/** How many instances are stored at once (each is a few small DynamoDB and S3 calls). */
const STORE_CONCURRENCY = 8;

/**
 * Decides and stores every part; outcomes in request order. A SOP Instance UID sent twice in one request is stored
 * once: a second part with the same bytes shares the first's outcome, with other bytes it is refused (0x0111).
 */
export async function storeInstances(
  stores: Stores,
  parts: readonly StowPart[],
  studyUid: string | undefined,
): Promise<StowOutcome[]> {
  const outcomes = new Array<StowOutcome | undefined>(parts.length);
  const firstBySop = new Map<string, { index: number; sha256: string }>();
  const sameAs = new Map<number, number>();
  const work: ReadablePart[] = [];
  for (const part of parts) {
    const read = readPart(part, studyUid);
    if (!('record' in read)) {
      outcomes[part.index] = read;
      continue;
    }
    const sop = read.record.sop_instance_uid!;
    const first = firstBySop.get(sop);
    if (!first) {
      firstBySop.set(sop, { index: part.index, sha256: read.record.sha256! });
      work.push(read);
    } else if (first.sha256 === read.record.sha256) {
      sameAs.set(part.index, first.index);
    } else {
      outcomes[part.index] = failure(FAILURE_REASON.duplicateSopInstance, 'DUPLICATE_SOP_INSTANCE', read.record);
    }
  }
  let next = 0;
  async function worker(): Promise<void> {
    while (next < work.length) {
      const item = work[next++]!;
      outcomes[item.part.index] = await storeOne(stores, item);
    }
  }
  await Promise.all(Array.from({ length: Math.min(STORE_CONCURRENCY, work.length) }, worker));
  for (const [index, first] of sameAs) outcomes[index] = outcomes[first];
  return outcomes.map((outcome) => outcome ?? failure(FAILURE_REASON.processingFailure, 'UNDECIDED'));
}

/** 200 all stored, 202 some failed, 409 none stored (PS3.18 Table 10.5.3-1). */
export function stowStatus(outcomes: readonly StowOutcome[]): 200 | 202 | 409 {
  const storedCount = outcomes.filter((outcome) => outcome.kind === 'stored').length;
  if (storedCount === outcomes.length) return 200;
  return storedCount > 0 ? 202 : 409;
}

const ui = (value: string) => ({ vr: 'UI', Value: [value] });
const ur = (value: string) => ({ vr: 'UR', Value: [value] });

/** The instance's WADO-RS URL under the DICOMweb root the request came through. */
export function instanceUrl(root: string, o: { studyUid: string; seriesUid: string; sopInstanceUid: string }): string {
  return `${root}/studies/${o.studyUid}/series/${o.seriesUid}/instances/${o.sopInstanceUid}`;
}

/**
 * The Store Instances Response Module (PS3.18 Annex I) as DICOM JSON: Retrieve URL of the study (Type 2: empty when
 * the stored instances span several studies or none was stored), the Failed SOP Sequence and the Referenced SOP
 * Sequence (each only when it has items).
 */
export function stowResponse(root: string, outcomes: readonly StowOutcome[], studyUid?: string): DicomJsonDataset {
  const storedOnes = outcomes.filter((o): o is Extract<StowOutcome, { kind: 'stored' }> => o.kind === 'stored');
  const failedOnes = outcomes.filter((o): o is Extract<StowOutcome, { kind: 'failed' }> => o.kind === 'failed');
  const studies = new Set(storedOnes.map((o) => o.studyUid));
  const study = studyUid ?? (studies.size === 1 ? [...studies][0] : undefined);
  const dataset: DicomJsonDataset = {
    [TAG_HEX.RetrieveURL]: study && storedOnes.length > 0 ? ur(`${root}/studies/${study}`) : { vr: 'UR' },
  };
  if (failedOnes.length > 0) {
    dataset[TAG_HEX.FailedSOPSequence] = {
      vr: 'SQ',
      Value: failedOnes.map((o) => ({
        ...(o.sopClassUid ? { [TAG_HEX.ReferencedSOPClassUID]: ui(o.sopClassUid) } : {}),
        ...(o.sopInstanceUid ? { [TAG_HEX.ReferencedSOPInstanceUID]: ui(o.sopInstanceUid) } : {}),
        [TAG_HEX.FailureReason]: { vr: 'US', Value: [o.reason] },
      })),
    };
  }
  if (storedOnes.length > 0) {
    dataset[TAG_HEX.ReferencedSOPSequence] = {
      vr: 'SQ',
      Value: storedOnes.map((o) => ({
        [TAG_HEX.ReferencedSOPClassUID]: ui(o.sopClassUid),
        [TAG_HEX.ReferencedSOPInstanceUID]: ui(o.sopInstanceUid),
        [TAG_HEX.RetrieveURL]: ur(instanceUrl(root, o)),
      })),
    };
  }
  return dataset;
}
