// postinstall (and `npm run viewer:install`): puts OHIF Viewer's prebuilt static app (the `dist/` folder of the npm
// package @ohif/app, which cannot be installed as a dependency) into node_modules/.cache/ohif-viewer/<version>/.
// The tarball is checked against a pinned sha512 before anything is extracted. It never fails the install: without
// the viewer everything else works, /viewer/ answers 503 and `-c viewer=true` refuses to synth.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const OHIF_PACKAGE = '@ohif/app';
export const OHIF_VERSION = '3.13.2';
/** `npm view @ohif/app@3.13.2 dist.integrity`: a tarball that differs is refused. */
const OHIF_INTEGRITY =
  'sha512-WZdxmpmG7rqFgW9ZJLcbgr3XCtLi1KDNPoMaeY5PPe6j4G4fjEjjkycZM6C6Zk2F87BKxFfpq+jd5xXZB9E8EA==';

const projectRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = join(projectRoot, 'node_modules', '.cache', 'ohif-viewer', OHIF_VERSION);

function run(command, args, cwd) {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args[0]} exited with ${result.status}: ${errorSummary(result.stderr || result.stdout)}`,
    );
  }
  return result.stdout;
}

/** npm's error code and first message line ("ETARGET: No matching version..."), not its stack or log path. */
function errorSummary(output) {
  const lines = output.split('\n').map((line) => line.replace(/^npm (error|ERR!)\s?/, '').trim());
  const code = lines.find((line) => line.startsWith('code '))?.slice(5);
  const message = lines.find(
    (line) =>
      line.length > 0 && !/^(code|syscall|errno|at|A complete log|\{|\})\b/.test(line) && !line.startsWith('at '),
  );
  return [code, message].filter(Boolean).join(': ').slice(0, 240) || 'no message';
}

async function sha512(file) {
  const hash = createHash('sha512');
  for await (const chunk of createReadStream(file)) hash.update(chunk);
  return `sha512-${hash.digest('base64')}`;
}

async function install() {
  mkdirSync(dirname(target), { recursive: true });
  // Work next to the target so the final rename stays on one filesystem (an interrupted run leaves no half folder).
  const work = mkdtempSync(join(dirname(target), '.install-'));
  try {
    // npm pack takes the registry and cache settings of the npm that runs this script; --ignore-scripts: no code runs.
    run(
      'npm',
      ['pack', `${OHIF_PACKAGE}@${OHIF_VERSION}`, '--ignore-scripts', '--loglevel=error', '--pack-destination', work],
      work,
    );
    const tarball = readdirSync(work).find((name) => name.endsWith('.tgz'));
    if (!tarball) throw new Error('npm pack wrote no tarball');
    const integrity = await sha512(join(work, tarball));
    if (integrity !== OHIF_INTEGRITY) throw new Error(`tarball integrity ${integrity} is not the pinned one`);
    const extracted = join(work, 'extracted');
    mkdirSync(extracted);
    // Only the static build; the rest of the package (sources, 100+ MB) is never written.
    run('tar', ['-xzf', join(work, tarball), '-C', extracted, '--no-same-owner', 'package/dist'], work);
    const dist = join(extracted, 'package', 'dist');
    if (!existsSync(join(dist, 'index.html'))) throw new Error('the package has no dist/index.html');
    rmSync(target, { recursive: true, force: true });
    renameSync(dist, target);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (existsSync(join(target, 'index.html'))) {
  process.exit(0);
}
try {
  const started = Date.now();
  await install();
  console.log(`OHIF viewer ${OHIF_VERSION} installed in ${Date.now() - started} ms (served at /viewer/)`);
} catch (error) {
  console.log(
    `OHIF viewer unavailable (${error instanceof Error ? error.message : String(error)}); retry with: npm run viewer:install`,
  );
}
