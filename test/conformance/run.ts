// `npm run test:conformance`: uploads every corpus file to a local runtime and compares with reference/.
// Prints a per-file table and totals. Exits 1 only on a bug class (a 5xx, a crash), since the
// corpus also covers features still open in the tracker; the table says what passes today.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { decode } from 'fast-png';
import { MAX_UPLOAD_BODY_BYTES } from '../../lambdas/config.js';

const samplesDir = resolve(process.env.DICOM_SAMPLES ?? join(import.meta.dirname, '../../../shared/dicom-samples'));
/** Mean absolute difference (grey levels) under which a PNG matches the reference. */
const PNG_TOLERANCE = 2;

interface ManifestRow {
  file: string;
  sop_class: string;
  size_bytes: string;
  purpose: string;
}

interface Reference {
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

/**
 * Where the reference is wrong, with the reason. pydicom 2.3.1 leaves the ISO 2022 IR 58 escape
 * sequence in the GB2312 name (the corpus README says so); the correct decoding is this.
 */
const REFERENCE_CORRECTIONS: Record<string, Partial<Reference>> = {
  'charset-chinese-gb2312.dcm': { PatientName: 'Zhang^XiaoDong=张^小东' },
};

/**
 * PNGs where the reference is knowingly wrong, with why; the MAD is still printed.
 * pm-float32: the window the file asks for (centre 0.5, width 1) sits in its Shared Functional
 * Groups (5200,9229); make_reference.py only looks for a top-level window, so it min-max scales.
 * We apply the file's window (as LINEAR_EXACT: LINEAR's integer offsets would threshold a 0..1 map).
 */
const PNG_REFERENCE_DEVIATIONS: Record<string, string> = {
  'pm-float32.dcm': 'reference ignores the functional-group window',
};

function readManifest(): ManifestRow[] {
  const [header, ...lines] = readFileSync(join(samplesDir, 'MANIFEST.tsv'), 'utf8').trim().split('\n');
  const columns = header!.split('\t');
  return lines.map(
    (line) => Object.fromEntries(line.split('\t').map((v, i) => [columns[i], v])) as unknown as ManifestRow,
  );
}

/** API.md: a value that is absent or empty is null; pydicom reports empty strings as "". */
function normalise(value: string | null | undefined): string | null {
  return value === undefined || value === null || value === '' ? null : value;
}

function meanAbsoluteDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}

interface Result {
  file: string;
  checks: Record<string, boolean | undefined>;
  notes: string[];
  uploadToPngMs?: number;
  bug: boolean;
}

function median(values: number[]): number {
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

async function main(): Promise<void> {
  // The runtime's per-request log lines would drown the table; imported after the level is set.
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  const { startTestRuntime, uploadForm } = await import('../support/runtime.js');
  if (!existsSync(join(samplesDir, 'MANIFEST.tsv'))) {
    console.log(`conformance: no corpus at ${samplesDir} (set DICOM_SAMPLES); nothing to run`);
    return;
  }
  const api = await startTestRuntime();
  const results: Result[] = [];
  const renderedPngs = new Map<string, Uint8Array>();
  try {
    for (const row of readManifest()) {
      const result: Result = { file: row.file, checks: {}, notes: [], bug: false };
      results.push(result);
      const bytes = readFileSync(join(samplesDir, row.file));
      const referencePath = join(samplesDir, 'reference', row.file.replace(/\.dcm$/, ''));
      const reference: Reference | undefined = existsSync(`${referencePath}.json`)
        ? { ...JSON.parse(readFileSync(`${referencePath}.json`, 'utf8')), ...REFERENCE_CORRECTIONS[row.file] }
        : undefined;
      const started = performance.now();
      const uploadResponse = await fetch(`${api.url}/dicom`, { method: 'POST', body: uploadForm(bytes, row.file) });
      if (uploadResponse.status >= 500) result.bug = true;
      const uploadBody = (await uploadResponse.json()) as { id?: string; error?: string };

      // What the upload should answer: 413 above the request limit, 400 for what pydicom cannot read.
      const expectedUpload = bytes.length > MAX_UPLOAD_BODY_BYTES ? 413 : reference ? 201 : 400;
      result.checks.upload = uploadResponse.status === expectedUpload;
      if (!result.checks.upload)
        result.notes.push(`upload ${uploadResponse.status} (want ${expectedUpload}): ${uploadBody.error ?? ''}`);
      let id = uploadBody.id;
      if (uploadResponse.status === 413 && reference) {
        // Too large for a Lambda request: the route the 413 names, a presigned PUT straight to storage.
        id = await uploadDirect(api.url, bytes, row.file, result);
      }
      if (!id || (uploadResponse.status !== 201 && uploadResponse.status !== 413)) continue;

      const pngResponse = await fetch(`${api.url}/dicom/${id}/png`);
      const pngBytes = new Uint8Array(await pngResponse.arrayBuffer());
      if (pngResponse.status === 200) renderedPngs.set(row.file, pngBytes);
      result.uploadToPngMs = performance.now() - started;
      if (pngResponse.status >= 500) result.bug = true;
      if (existsSync(`${referencePath}.png`)) {
        if (pngResponse.status === 200) {
          const ours = decode(pngBytes);
          const theirs = decode(readFileSync(`${referencePath}.png`));
          const sameShape =
            ours.width === theirs.width && ours.height === theirs.height && ours.channels === theirs.channels;
          const mad = sameShape ? meanAbsoluteDifference(ours.data, theirs.data) : Infinity;
          const deviation = PNG_REFERENCE_DEVIATIONS[row.file];
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
        // No reference image: no pixel data (404), or pixel data pydicom could not decode (422).
        const expected =
          row.sop_class.includes('.88.') || row.file.startsWith('ecg') || row.file.startsWith('rtstruct') ? 404 : 422;
        result.checks.png = pngResponse.status === expected;
        result.notes.push(`png ${pngResponse.status}`);
      } else {
        result.notes.push('png 200 (no reference to compare)');
      }

      const record = (await (await fetch(`${api.url}/dicom/${id}`)).json()) as {
        size_bytes: number;
        number_of_frames: number | null;
        dicom_info: Record<string, unknown> & { ImageDimensions: { rows: number; columns: number } | null };
      };
      if (reference) {
        const info = record.dicom_info;
        const mismatches = (['PatientName', 'PatientID', 'StudyDate', 'StudyDescription', 'Modality'] as const).filter(
          (key) => normalise(info[key] as string | null) !== normalise(reference[key]),
        );
        const wantDims =
          reference.Rows && reference.Columns && existsSync(`${referencePath}.png`)
            ? { rows: reference.Rows, columns: reference.Columns }
            : undefined;
        if (wantDims && JSON.stringify(info.ImageDimensions) !== JSON.stringify(wantDims))
          mismatches.push('ImageDimensions' as never);
        if (record.size_bytes !== bytes.length) mismatches.push('size_bytes' as never);
        if ((record.number_of_frames ?? null) !== (reference.NumberOfFrames ?? null))
          mismatches.push('NumberOfFrames' as never);
        result.checks.record = mismatches.length === 0;
        if (mismatches.length) result.notes.push(`record differs: ${mismatches.join(', ')}`);

        const attributesResponse = await fetch(`${api.url}/dicom/${id}/attributes`);
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
      }

      const deleteResponse = await fetch(`${api.url}/dicom/${id}`, { method: 'DELETE' });
      const afterDelete = await fetch(`${api.url}/dicom/${id}/png`);
      result.checks.delete = deleteResponse.status === 200 && afterDelete.status === 404;
    }
  } finally {
    await api.destroy();
  }

  // The corpus derives cr-large-uncompressed from cr-mono1-jpegls-large with gdcmconv --raw: same pixels.
  const pair = ['cr-large-uncompressed.dcm', 'cr-mono1-jpegls-large.dcm'].map((f) => renderedPngs.get(f));
  if (pair[0] && pair[1]) {
    const [a, b] = pair.map((png) => decode(png!));
    const identical =
      a!.width === b!.width &&
      Buffer.compare(Buffer.from(a!.data as Uint8Array), Buffer.from(b!.data as Uint8Array)) === 0;
    console.log(
      `conformance: cr-large-uncompressed and cr-mono1-jpegls-large render ${identical ? 'identically' : 'DIFFERENTLY'}`,
    );
  }

  const columns = ['upload', 'record', 'attributes', 'png', 'delete'] as const;
  const mark = (v: boolean | undefined): string => (v === undefined ? '-' : v ? 'ok' : 'FAIL');
  console.log(['file'.padEnd(34), ...columns.map((c) => c.padEnd(10)), 'ms'.padEnd(6), 'notes'].join(' '));
  for (const r of results) {
    console.log(
      [
        r.file.padEnd(34),
        ...columns.map((c) => mark(r.checks[c]).padEnd(10)),
        (r.uploadToPngMs?.toFixed(0) ?? '').padEnd(6),
        r.notes.join('; '),
      ].join(' '),
    );
  }
  for (const column of columns) {
    const ran = results.filter((r) => r.checks[column] !== undefined);
    console.log(`conformance ${column}: ${ran.filter((r) => r.checks[column]).length}/${ran.length} files`);
  }
  const fullyPassing = results.filter((r) => Object.values(r.checks).every((v) => v !== false)).length;
  const times = results.flatMap((r) => (r.uploadToPngMs !== undefined ? [r.uploadToPngMs] : []));
  console.log(`conformance total: ${fullyPassing}/${results.length} files pass every check`);
  if (times.length)
    console.log(`conformance upload-to-PNG median: ${median(times).toFixed(0)} ms over ${times.length} files`);
  const bugs = results.filter((r) => r.bug);
  if (bugs.length) {
    console.log(`conformance: 5xx answers (bugs) for ${bugs.map((r) => r.file).join(', ')}`);
    process.exitCode = 1;
  }
}

await main();
