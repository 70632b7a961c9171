// One corpus file through the local runtime (upload, PNG, record, attributes, delete) against its reference
// NAME.json / NAME.png; shared by `npm run test:conformance` (run.ts) and `npm run test:corpus` (corpus.ts).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decode } from 'fast-png';
import { MAX_UPLOAD_BODY_BYTES } from '../../lambdas/config.js';

/** Mean absolute difference (grey levels) under which a PNG matches the reference. */
export const PNG_TOLERANCE = 2;

export interface ManifestRow {
  file: string;
  sop_class: string;
  size_bytes: string;
  purpose: string;
}

/** NAME.json: what pydicom reads (scripts/corpus/make-reference.py, the shared corpus's make_reference.py). */
export interface Reference {
  PatientName: string | null;
  PatientID: string | null;
  StudyDate: string | null;
  StudyDescription: string | null;
  Modality: string | null;
  Rows: number | null;
  Columns: number | null;
  NumberOfFrames: number | null;
  SOPInstanceUID: string | null;
  TransferSyntaxUID: string | null;
  element_count_top_level: number;
}

export interface Result {
  file: string;
  checks: Record<string, boolean | undefined>;
  notes: string[];
  uploadToPngMs?: number;
  bug: boolean;
  /** What we answered, for callers that classify rather than print notes. */
  uploadStatus?: number;
  /** True once the bytes are stored (201, or 413 then the large-file route). */
  accepted?: boolean;
  pngStatus?: number;
  pngMad?: number;
  /** Record fields, `element_count_top_level` or `SOPInstanceUID` that differ from the reference. */
  mismatches: string[];
}

/** What to expect of one file, and where its reference is. */
export interface FileCase {
  file: string;
  bytes: Uint8Array;
  /** NAME without extension: NAME.json and NAME.png when the reference has them. */
  referencePath: string;
  /** NAME.json with any corrections applied; undefined when pydicom cannot read the file. */
  reference: Reference | undefined;
  /** Whether the upload should be accepted (201, or 413 then the large-file route). */
  expectAccepted: boolean;
  /** The PNG status wanted when there is no reference image: 404 (no pixel data) or 422 (undecodable). */
  pngStatusWithoutReference: number;
  /** Why the reference PNG is knowingly wrong: the MAD is printed but does not fail the check. */
  pngDeviation?: string;
}

export function readManifest(path: string): ManifestRow[] {
  const [header, ...lines] = readFileSync(path, 'utf8').trim().split('\n');
  const columns = header!.split('\t');
  return lines.map(
    (line) => Object.fromEntries(line.split('\t').map((v, i) => [columns[i], v])) as unknown as ManifestRow,
  );
}

/** reference/NAME.json for a manifest file name, or undefined, with `corrections` laid over it. */
export function readReference(referencePath: string, corrections?: Partial<Reference>): Reference | undefined {
  return existsSync(`${referencePath}.json`)
    ? { ...JSON.parse(readFileSync(`${referencePath}.json`, 'utf8')), ...corrections }
    : undefined;
}

/** The reference name of a manifest file: its path with a final `.dcm` dropped, under `referenceDir`. */
export function referencePathOf(referenceDir: string, file: string): string {
  return join(referenceDir, file.replace(/\.dcm$/, ''));
}

/** API.md: a value that is absent or empty is null; pydicom reports empty strings as "". */
export function normalise(value: string | null | undefined): string | null {
  return value === undefined || value === null || value === '' ? null : value;
}

export function meanAbsoluteDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** POST /dicom/uploads + presigned PUT; returns the id once the bytes are stored. */
async function uploadDirect(
  base: string,
  bytes: Uint8Array,
  filename: string,
  result: Result,
): Promise<string | undefined> {
  const start = await fetch(`${base}/dicom/uploads`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ filename, size_bytes: bytes.length, multipart: false }),
  });
  const body = (await start.json()) as {
    id?: string;
    upload_url?: string;
    upload_headers?: Record<string, string>;
    error?: string;
  };
  if (start.status >= 500) result.bug = true;
  if (start.status !== 201 || !body.upload_url) {
    result.checks.upload = false;
    result.notes.push(`large-file route ${start.status}: ${body.error ?? ''}`);
    return undefined;
  }
  const put = await fetch(body.upload_url, { method: 'PUT', body: bytes, headers: body.upload_headers ?? {} });
  result.checks.upload = put.ok;
  result.notes.push(`POST /dicom 413, then large-file route PUT ${put.status}`);
  return put.ok ? body.id : undefined;
}

/**
 * Uploads one file to the runtime at `baseUrl`, compares what it answers with the reference, deletes it.
 * `png` is the rendered PNG when GET /png answered 200.
 */
export async function checkFile(baseUrl: string, fileCase: FileCase): Promise<{ result: Result; png?: Uint8Array }> {
  // Imported here: the runtime's loggers read POWERTOOLS_LOG_LEVEL when loaded, which the caller sets first.
  const { uploadForm } = await import('../support/runtime.js');
  const { file, bytes, referencePath, reference } = fileCase;
  const result: Result = { file, checks: {}, notes: [], bug: false, mismatches: [] };
  const started = performance.now();
  const uploadResponse = await fetch(`${baseUrl}/dicom`, { method: 'POST', body: uploadForm(bytes, file) });
  result.uploadStatus = uploadResponse.status;
  if (uploadResponse.status >= 500) result.bug = true;
  const uploadBody = (await uploadResponse.json()) as { id?: string; error?: string };

  // What the upload should answer: 413 above the request limit, 400 for what no reference reader reads.
  const expectedUpload = bytes.length > MAX_UPLOAD_BODY_BYTES ? 413 : fileCase.expectAccepted ? 201 : 400;
  result.checks.upload = uploadResponse.status === expectedUpload;
  if (!result.checks.upload)
    result.notes.push(`upload ${uploadResponse.status} (want ${expectedUpload}): ${uploadBody.error ?? ''}`);
  let id = uploadBody.id;
  if (uploadResponse.status === 413 && fileCase.expectAccepted) {
    // Too large for a Lambda request: the route the 413 names, a presigned PUT straight to storage.
    id = await uploadDirect(baseUrl, bytes, file, result);
  }
  if (!id || (uploadResponse.status !== 201 && uploadResponse.status !== 413)) return { result };
  result.accepted = true;

  const pngResponse = await fetch(`${baseUrl}/dicom/${id}/png`);
  const pngBytes = new Uint8Array(await pngResponse.arrayBuffer());
  result.pngStatus = pngResponse.status;
  result.uploadToPngMs = performance.now() - started;
  if (pngResponse.status >= 500) result.bug = true;
  if (existsSync(`${referencePath}.png`)) {
    if (pngResponse.status === 200) {
      const ours = decode(pngBytes);
      const theirs = decode(readFileSync(`${referencePath}.png`));
      const sameShape =
        ours.width === theirs.width && ours.height === theirs.height && ours.channels === theirs.channels;
      const mad = sameShape ? meanAbsoluteDifference(ours.data, theirs.data) : Infinity;
      result.pngMad = mad;
      const deviation = fileCase.pngDeviation;
      result.checks.png = mad <= PNG_TOLERANCE || (sameShape && deviation !== undefined);
      if (deviation) result.notes.push(`known reference deviation: ${deviation}`);
      result.notes.push(
        sameShape
          ? `png MAD ${mad.toFixed(2)}`
          : `png shape ${ours.width}x${ours.height}x${ours.channels} vs ${theirs.width}x${theirs.height}x${theirs.channels}`,
      );
    } else {
      result.checks.png = false;
      result.notes.push(
        `png ${pngResponse.status}: ${(JSON.parse(Buffer.from(pngBytes).toString()) as { error: string }).error}`,
      );
    }
  } else if (pngResponse.status !== 200) {
    // No reference image: no pixel data (404), or pixel data no reference decoder could decode (422).
    result.checks.png = pngResponse.status === fileCase.pngStatusWithoutReference;
    result.notes.push(`png ${pngResponse.status}`);
  } else {
    result.notes.push('png 200 (no reference to compare)');
  }

  const record = (await (await fetch(`${baseUrl}/dicom/${id}`)).json()) as {
    size_bytes: number;
    number_of_frames: number | null;
    dicom_info: Record<string, unknown> & { ImageDimensions: { rows: number; columns: number } | null };
  };
  if (reference) {
    const info = record.dicom_info;
    const mismatches: string[] = (
      ['PatientName', 'PatientID', 'StudyDate', 'StudyDescription', 'Modality'] as const
    ).filter((key) => normalise(info[key] as string | null) !== normalise(reference[key]));
    const wantDims =
      reference.Rows && reference.Columns && existsSync(`${referencePath}.png`)
        ? { rows: reference.Rows, columns: reference.Columns }
        : undefined;
    if (wantDims && JSON.stringify(info.ImageDimensions) !== JSON.stringify(wantDims))
      mismatches.push('ImageDimensions');
    if (record.size_bytes !== bytes.length) mismatches.push('size_bytes');
    // pydicom keeps an invalid IS as its text (pydicom's badVR.dcm: "1A"); the record then says null, "one frame".
    const wantFrames = typeof reference.NumberOfFrames === 'number' ? reference.NumberOfFrames : null;
    if ((record.number_of_frames ?? null) !== wantFrames) mismatches.push('NumberOfFrames');
    result.checks.record = mismatches.length === 0;
    if (mismatches.length) result.notes.push(`record differs: ${mismatches.join(', ')}`);
    result.mismatches.push(...mismatches);

    const attributesResponse = await fetch(`${baseUrl}/dicom/${id}/attributes`);
    if (attributesResponse.status >= 500) result.bug = true;
    const attributes = (await attributesResponse.json()) as {
      count: number;
      attributes: Record<string, { value: unknown }>;
    };
    const topLevel = Object.keys(attributes.attributes ?? {}).filter((tag) => !tag.startsWith('0002,')).length;
    const sopOk =
      normalise(attributes.attributes?.['0008,0018']?.value as string) === normalise(reference.SOPInstanceUID);
    result.checks.attributes =
      attributesResponse.status === 200 && topLevel === reference.element_count_top_level && sopOk;
    if (!result.checks.attributes)
      result.notes.push(
        `attributes ${attributesResponse.status}: ${topLevel} top-level (want ${reference.element_count_top_level}), SOP/transfer syntax ${sopOk ? 'ok' : 'differ'}`,
      );
    if (attributesResponse.status !== 200) result.mismatches.push(`attributes ${attributesResponse.status}`);
    if (topLevel !== reference.element_count_top_level)
      result.mismatches.push(`element_count_top_level ${topLevel} (want ${reference.element_count_top_level})`);
    if (!sopOk) result.mismatches.push('SOPInstanceUID');
  }

  const deleteResponse = await fetch(`${baseUrl}/dicom/${id}`, { method: 'DELETE' });
  const afterDelete = await fetch(`${baseUrl}/dicom/${id}/png`);
  result.checks.delete = deleteResponse.status === 200 && afterDelete.status === 404;
  return { result, ...(pngResponse.status === 200 ? { png: pngBytes } : {}) };
}
