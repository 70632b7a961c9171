// `npm run test:conformance`: uploads every corpus file to a local runtime and compares with reference/.
// Prints a per-file table and totals. Exits 1 only on a bug class (a 5xx, a crash), since the
// corpus also covers features still open in the tracker; the table says what passes today.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { decode } from 'fast-png';
import { checkFile, median, readManifest, readReference, referencePathOf, type Result } from './file-checks.js';
import { knownReference } from './known-references.js';

const samplesDir = resolve(process.env.DICOM_SAMPLES ?? join(import.meta.dirname, '../../../shared/dicom-samples'));

async function main(): Promise<void> {
  // The runtime's per-request log lines would drown the table; imported after the level is set.
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  const { startTestRuntime } = await import('../support/runtime.js');
  if (!existsSync(join(samplesDir, 'MANIFEST.tsv'))) {
    console.log(`conformance: no corpus at ${samplesDir} (set DICOM_SAMPLES); nothing to run`);
    return;
  }
  const api = await startTestRuntime();
  const results: Result[] = [];
  const renderedPngs = new Map<string, Uint8Array>();
  try {
    for (const row of readManifest(join(samplesDir, 'MANIFEST.tsv'))) {
      const bytes = readFileSync(join(samplesDir, row.file));
      // Where the reference is knowingly wrong (pydicom's GB2312 name, pm-float32's window): known-references.ts.
      const known = knownReference(bytes);
      const referencePath = referencePathOf(join(samplesDir, 'reference'), row.file);
      const reference = readReference(referencePath, known?.corrections);
      const { result, png } = await checkFile(api.url, {
        file: row.file,
        bytes,
        referencePath,
        reference,
        expectAccepted: reference !== undefined,
        // No reference image: no pixel data (SR, ECG, RTSTRUCT: 404), or pixel data pydicom could not decode (422).
        pngStatusWithoutReference:
          row.sop_class.includes('.88.') || row.file.startsWith('ecg') || row.file.startsWith('rtstruct') ? 404 : 422,
        ...(known?.pngDeviation ? { pngDeviation: known.pngDeviation } : {}),
      });
      results.push(result);
      if (png) renderedPngs.set(row.file, png);
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
