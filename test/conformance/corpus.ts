// `npm run test:corpus -- <dir>`: any folder of files against a reference made on the spot by
// scripts/corpus/make-reference.py (pydicom + GDCM, dcmtk), through the local runtime with run.ts's checks.
// Prints a line a file and the failures grouped by class. Exits 1 on a 5xx (a bug), 2 when it cannot run.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { checkFile, PNG_TOLERANCE, readManifest, readReference, referencePathOf, type Result } from './file-checks.js';
import { knownReference, type KnownReference } from './known-references.js';

const PYTHON = process.env.PYTHON ?? '/usr/bin/python3';
const MAKER = join(import.meta.dirname, '../../scripts/corpus/make-reference.py');

/** readers.json, per file (make-reference.py's docstring). */
interface Readers {
  has_pixel_data: boolean;
  png_reference: 'pydicom' | 'dcm2pnm' | null;
  pydicom: {
    read: 'yes' | 'forced' | 'no';
    error?: string;
    pixels: {
      has_pixel_data: boolean;
      decoded?: boolean;
      handler?: string;
      rule?: string;
      error?: string;
      handlers?: Record<string, { ok: boolean; error?: string; mad_vs_reference?: number | null }>;
    };
  };
  dcmdump: { exit_code: number | null; ok: boolean; errors: string[] };
  gdcmdump: { exit_code: number | null; ok: boolean; errors: string[] };
  dcm2pnm: { exit_code: number | null; decoded: boolean; tool?: string; errors: string[]; mad_vs_reference?: number };
}

/** The classes of issue #22 (a short name for the per-file line, a title for the summary), in summary order. */
const CLASSES = {
  bug: ['5xx', 'a 5xx answer (a bug)'],
  refused: ['refused', 'refused although pydicom or dcmtk reads it'],
  attributes: ['attributes', 'attribute mismatch'],
  notRendered: ['not rendered', 'image not rendered although a reference decoder decoded it'],
  mad: [`MAD > ${PNG_TOLERANCE}`, `PNG MAD > ${PNG_TOLERANCE} (or another shape)`],
  other: ['other', 'another check failed (PNG status without a reference image, delete)'],
  bothRefuse: ['both refuse', 'both pydicom and dcmtk refuse (not a failure; our answer shown)'],
  referenceWrong: [
    'reference wrong',
    'the reference image is known to be wrong (not a failure; why in known-references.ts)',
  ],
  decodersDisagree: [
    'decoders disagree',
    `reference decoders disagree with each other (MAD > ${PNG_TOLERANCE}; not a failure of ours)`,
  ],
} as const;
type ClassName = keyof typeof CLASSES;
const FAILURES: ClassName[] = ['bug', 'refused', 'attributes', 'notRendered', 'mad', 'other'];

function usage(message: string): never {
  console.error(`test:corpus: ${message}`);
  console.error('usage: npm run test:corpus -- <dir> [--reference <made-reference dir>] [--keep]');
  process.exit(2);
}

/** Makes the reference in a temporary folder with make-reference.py; returns that folder. */
function makeReference(samplesDir: string): string {
  const probe = spawnSync(PYTHON, ['-c', 'import pydicom, numpy, PIL'], { encoding: 'utf8' });
  if (probe.status !== 0)
    usage(
      `${PYTHON} cannot import pydicom, numpy and PIL (Debian: apt-get install python3-pydicom python3-numpy ` +
        'python3-pil python3-gdcm dcmtk); or pass --reference with one made elsewhere',
    );
  for (const tool of ['dcmdump', 'dcm2pnm'])
    if (spawnSync(tool, ['--version']).error)
      console.log(`test:corpus: ${tool} is not installed: readers.json will say dcmtk reads nothing`);
  const out = mkdtempSync(join(tmpdir(), 'dicom-corpus-reference-'));
  console.log(`test:corpus: making the reference for ${samplesDir} in ${out}`);
  const made = spawnSync(PYTHON, [MAKER, samplesDir, out], { stdio: 'inherit' });
  if (made.status !== 0) usage(`make-reference.py exited ${made.status ?? made.signal}`);
  return out;
}

/** The classes one file falls in; empty when it passes. */
function classify(result: Result, readers: Readers, known: KnownReference | undefined): ClassName[] {
  const classes: ClassName[] = [];
  const referenceReads = readers.pydicom.read !== 'no' || readers.dcmdump.ok;
  const referenceImage = readers.png_reference !== null;
  if (result.bug) classes.push('bug');
  if (!referenceReads) classes.push('bothRefuse');
  else if (!result.accepted) classes.push('refused');
  if (result.mismatches.length) classes.push('attributes');
  const imageWrong = known?.pngDeviation !== undefined;
  if (imageWrong) classes.push('referenceWrong');
  if (!imageWrong && result.accepted && referenceImage && result.pngStatus !== 200) classes.push('notRendered');
  if (!imageWrong && result.pngMad !== undefined && result.pngMad > PNG_TOLERANCE) classes.push('mad');
  const otherFailed =
    result.checks.delete === false || (!referenceImage && result.accepted && result.checks.png === false);
  if (otherFailed) classes.push('other');
  const handlerMads = Object.values(readers.pydicom.pixels.handlers ?? {}).map((h) => h.mad_vs_reference ?? 0);
  if ([...handlerMads, readers.dcm2pnm.mad_vs_reference ?? 0].some((mad) => mad > PNG_TOLERANCE))
    classes.push('decodersDisagree');
  return classes;
}

function ours(result: Result): string {
  const parts = [result.accepted ? `accepted (${result.uploadStatus})` : `refused ${result.uploadStatus}`];
  if (result.pngStatus !== undefined)
    parts.push(
      result.pngMad === undefined
        ? `png ${result.pngStatus}`
        : `png MAD ${Number.isFinite(result.pngMad) ? result.pngMad.toFixed(2) : 'shape'}`,
    );
  if (result.mismatches.length) parts.push(`differs: ${result.mismatches.join(', ')}`);
  return parts.join(', ');
}

function theirs(readers: Readers): string {
  const { pydicom, dcmdump, dcm2pnm } = readers;
  const pixels = pydicom.pixels;
  const decodedBy = pixels.decoded
    ? `decoded by ${pixels.handler} (${pixels.rule})`
    : pixels.has_pixel_data
      ? 'pixels not decoded'
      : 'no pixels';
  const others = Object.entries(pixels.handlers ?? {})
    .filter(([name]) => name !== pixels.handler)
    .map(([name, h]) => (h.ok ? `${name} MAD ${(h.mad_vs_reference ?? 0).toFixed(2)}` : `${name} fails`));
  const pnm = dcm2pnm.decoded
    ? `${dcm2pnm.tool} decodes${dcm2pnm.mad_vs_reference !== undefined ? ` (MAD ${dcm2pnm.mad_vs_reference.toFixed(2)})` : ''}`
    : 'dcm2pnm no image';
  return [
    `pydicom ${pydicom.read === 'no' ? 'refuses' : pydicom.read === 'forced' ? 'reads (forced)' : 'reads'}`,
    ...(pydicom.read === 'no' ? [] : [decodedBy, ...others]),
    `dcmdump ${dcmdump.ok ? 'reads' : `exit ${dcmdump.exit_code}`}`,
    pnm,
    `gdcmdump ${readers.gdcmdump.ok ? 'reads' : `exit ${readers.gdcmdump.exit_code}`}`,
    ...(readers.png_reference === 'dcm2pnm' ? ['reference PNG from dcm2pnm'] : []),
  ].join(', ');
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    // --strict (CI): any failure class fails the run, not only a 5xx.
    options: {
      reference: { type: 'string' },
      keep: { type: 'boolean', default: false },
      strict: { type: 'boolean', default: false },
    },
  });
  if (positionals.length !== 1) usage('give one folder of files');
  const samplesDir = resolve(positionals[0]!);
  if (!existsSync(samplesDir)) usage(`no folder ${samplesDir}`);
  const referenceDir = values.reference ? resolve(values.reference) : makeReference(samplesDir);
  if (!existsSync(join(referenceDir, 'readers.json'))) usage(`${referenceDir} has no readers.json`);
  const readersByFile = JSON.parse(readFileSync(join(referenceDir, 'readers.json'), 'utf8')) as Record<string, Readers>;

  // The runtime's log lines (audit ones too) would drown the table; a 5xx shows in the table anyway.
  process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
  const { startTestRuntime } = await import('../support/runtime.js');
  const api = await startTestRuntime();
  const rows: { file: string; classes: ClassName[]; ours: string; theirs: string }[] = [];
  try {
    for (const row of readManifest(join(referenceDir, 'MANIFEST.tsv'))) {
      const readers = readersByFile[row.file]!;
      const referencePath = referencePathOf(referenceDir, row.file);
      const bytes = readFileSync(join(samplesDir, row.file));
      const known = knownReference(bytes);
      const { result } = await checkFile(api.url, {
        file: row.file,
        bytes,
        referencePath,
        reference: readReference(referencePath, known?.corrections),
        expectAccepted: readers.pydicom.read !== 'no' || readers.dcmdump.ok,
        pngStatusWithoutReference: readers.has_pixel_data ? 422 : 404,
        ...(known?.pngDeviation ? { pngDeviation: known.pngDeviation } : {}),
      });
      const classes = classify(result, readers, known);
      const why = known?.pngDeviation ?? known?.decodersDisagree;
      const reference = theirs(readers) + (why ? ` [known: ${why}]` : '');
      rows.push({ file: row.file, classes, ours: ours(result), theirs: reference });
      const failures = classes.filter((c) => FAILURES.includes(c)).map((c) => CLASSES[c][0]);
      const notes = classes.filter((c) => !FAILURES.includes(c)).map((c) => CLASSES[c][0]);
      const verdict = (failures.join(' + ') || 'ok') + (notes.length ? ` (${notes.join(', ')})` : '');
      console.log(`${row.file} | ${verdict} | ours: ${rows.at(-1)!.ours} | reference: ${rows.at(-1)!.theirs}`);
    }
  } finally {
    await api.destroy();
    if (!values.reference && !values.keep) rmSync(referenceDir, { recursive: true, force: true });
    else console.log(`test:corpus: reference kept in ${referenceDir}`);
  }

  console.log(
    `\ntest:corpus: ${rows.length} files, ${rows.filter((r) => !r.classes.some((c) => FAILURES.includes(c))).length} pass`,
  );
  for (const name of Object.keys(CLASSES) as ClassName[]) {
    const inClass = rows.filter((r) => r.classes.includes(name));
    if (!inClass.length) continue;
    console.log(`\n${CLASSES[name][1]}: ${inClass.length}`);
    for (const r of inClass) console.log(`  ${r.file} | ours: ${r.ours} | reference: ${r.theirs}`);
  }
  const failing = values.strict ? FAILURES : (['bug'] as ClassName[]);
  if (rows.some((r) => r.classes.some((c) => failing.includes(c)))) process.exitCode = 1;
}

await main();
