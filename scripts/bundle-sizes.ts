// `npm run bench:bundles`: builds each Lambda with the stack's exact esbuild settings and prints its sizes
// (minified bundle, source map, the files beside it such as the codecs' .wasm, the deployment zip), its module init
// time in a fresh Node process, whether
// it carries render/codec code (only the rendering functions may: exit code 1 otherwise), and its heaviest packages.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { deflateRawSync } from 'node:zlib';
import { build, type Metafile } from 'esbuild';
import { ENV } from '../lambdas/config.js';
import { handlerOf, PROCESSING_FAILED, PROCESSOR, ROUTES } from '../lambdas/routes.js';
import { renderInputs, RENDERING_FUNCTIONS } from '../lib/constructs/bundle-contents.js';
import { BUNDLE_FILE_NAME, esbuildOptions, handlerEntry } from '../lib/constructs/function-defaults.js';
import { median } from './bench-stats.js';

// One row per Lambda: routes that share a handler module (DICOMweb's) share its bundle, named by handlerOf.
// The API key authorizer is deployed under the default `-c auth=apiKey`.
const names = [...new Set(ROUTES.map(handlerOf)), PROCESSOR.name, PROCESSING_FAILED.name, 'apiKeyAuthorizer'];
const INIT_RUNS = Number(process.env.BENCH_INIT_RUNS ?? 10);

/** Imports the bundle in a new Node process (as a Lambda cold start does) and reports the import's duration. */
const INIT_RUNNER = `
const started = performance.now();
await import(process.argv[2]);
process.stdout.write(String(performance.now() - started));
`;

/** Median module init (ms) over INIT_RUNS fresh processes; the handler is not invoked. */
function initMs(runner: string, bundle: string): number {
  const env = {
    PATH: process.env.PATH,
    AWS_REGION: 'us-east-1',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    [ENV.bucketName]: 'bench-bucket',
    [ENV.tableName]: 'bench-table',
  };
  const times: number[] = [];
  for (let run = 0; run < INIT_RUNS; run++) {
    times.push(Number(execFileSync(process.execPath, [runner, pathToFileURL(bundle).href], { env, encoding: 'utf8' })));
  }
  return median(times);
}
const kb = (bytes: number): string => `${(bytes / 1024).toFixed(0)} KB`;

/** The size of a zip of these files at deflate level 9, as the CDK asset zip is built (local + central headers + end record). */
function zipSize(files: { name: string; bytes: Buffer }[]): number {
  let size = 22;
  for (const file of files) {
    const compressed = Math.min(deflateRawSync(file.bytes, { level: 9 }).length, file.bytes.length);
    size += 30 + file.name.length + compressed + 46 + file.name.length;
  }
  return size;
}

/** The heaviest packages (or the project's own code) in the bundle itself (not the files beside it), by bytes. */
function heaviest(metafile: Metafile, count: number): string {
  const byPackage = new Map<string, number>();
  for (const [file, output] of Object.entries(metafile.outputs)) {
    if (path.basename(file) !== BUNDLE_FILE_NAME) continue;
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
      const name = match?.[1] ?? `(project) ${input.split('/').slice(0, 2).join('/')}`;
      byPackage.set(name, (byPackage.get(name) ?? 0) + bytesInOutput);
    }
  }
  return [...byPackage]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, bytes]) => `${name} ${kb(bytes)}`)
    .join(', ');
}

const outRoot = mkdtempSync(path.join(tmpdir(), 'dicom-bundle-sizes-'));
const runner = path.join(outRoot, 'init-runner.mjs');
writeFileSync(runner, INIT_RUNNER);
try {
  const rows: string[][] = [];
  for (const name of names) {
    const outDir = path.join(outRoot, name);
    const started = performance.now();
    let metafile: Metafile;
    try {
      const options = esbuildOptions(handlerEntry(name), path.join(outDir, BUNDLE_FILE_NAME));
      ({ metafile } = await build({ ...options, metafile: true }));
    } catch {
      process.exitCode = 1; // esbuild has printed why
      rows.push([name, 'BUILD FAILED', '-', '-', '-', '-', '-', '-', '-']);
      continue;
    }
    const ms = Math.round(performance.now() - started);
    const files = readdirSync(outDir).map((file) => ({ name: file, bytes: readFileSync(path.join(outDir, file)) }));
    const bundle = files.find((file) => file.name === BUNDLE_FILE_NAME)!;
    const map = files.find((file) => file.name.endsWith('.map'));
    // What the file loader wrote beside the bundle (the codecs' .wasm, read on first use): deployed, not parsed.
    const beside = files.filter((file) => file !== bundle && file !== map);
    const besideBytes = beside.reduce((sum, file) => sum + file.bytes.length, 0);
    const renders = renderInputs(metafile).length > 0;
    if (renders !== RENDERING_FUNCTIONS.includes(name)) {
      process.exitCode = 1;
      console.error(`${name}: ${renders ? 'carries render/codec code it must not' : 'lacks the render pipeline'}`);
    }
    rows.push([
      name,
      kb(bundle.bytes.length),
      map ? kb(map.bytes.length) : '-',
      beside.length ? `${beside.length} files, ${kb(besideBytes)}` : '-',
      kb(zipSize(files)),
      `${ms} ms`,
      `${initMs(runner, path.join(outDir, BUNDLE_FILE_NAME)).toFixed(0)} ms`,
      renders ? 'yes' : 'no',
      heaviest(metafile, 3),
    ]);
  }
  const header = [
    'function',
    'minified',
    'source map',
    'beside',
    'zip',
    'build',
    `init (p50 of ${INIT_RUNS})`,
    'codecs',
    'heaviest in the bundle',
  ];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  for (const row of [header, ...rows]) console.log(row.map((cell, column) => cell.padEnd(widths[column]!)).join('  '));
} finally {
  rmSync(outRoot, { recursive: true, force: true });
}
