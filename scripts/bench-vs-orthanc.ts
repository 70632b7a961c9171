// `npm run bench:vs-orthanc`: the upload -> rendered PNG -> delete loop, ours vs Orthanc, side by side.
// Both servers run as their own processes on loopback; files and rounds are interleaved.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { storageFloor } from './storage-floor.js';

const samplesDir = resolve(process.env.DICOM_SAMPLES ?? join(import.meta.dirname, '../../shared/dicom-samples'));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 30);
const FILES = (process.env.BENCH_FILES ?? 'ct-explicit-le-window.dcm,us-rgb-planar0.dcm,ct-jpeg-lossless-70.dcm').split(
  ',',
);
const GDCM_PLUGIN = '/usr/share/orthanc/plugins/libOrthancGdcm.so';

function freePort(): Promise<number> {
  return new Promise((resolvePort) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

async function waitFor(url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not come up`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

type Loop = (bytes: Uint8Array, name: string) => Promise<number>;

function oursLoop(base: string): Loop {
  return async (bytes, name) => {
    const form = new FormData();
    form.append('file', new Blob([bytes]), name);
    const { id } = (await (await fetch(`${base}/dicom`, { method: 'POST', body: form })).json()) as { id: string };
    let png: Response;
    for (;;) {
      png = await fetch(`${base}/dicom/${id}/png`);
      if (png.status !== 202) break;
    }
    const size = (await png.arrayBuffer()).byteLength;
    if (png.status !== 200) throw new Error(`ours: PNG ${png.status} for ${name}`);
    await fetch(`${base}/dicom/${id}`, { method: 'DELETE' });
    return size;
  };
}

function orthancLoop(base: string): Loop {
  return async (bytes, name) => {
    const { ID } = (await (await fetch(`${base}/instances`, { method: 'POST', body: bytes })).json()) as { ID: string };
    const png = await fetch(`${base}/instances/${ID}/rendered`, { headers: { Accept: 'image/png' } });
    const size = (await png.arrayBuffer()).byteLength;
    if (png.status !== 200) throw new Error(`orthanc: rendered ${png.status} for ${name}`);
    await fetch(`${base}/instances/${ID}`, { method: 'DELETE' });
    return size;
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function main(): Promise<void> {
  if (spawnSync('which', ['Orthanc']).status !== 0) {
    console.log('bench:vs-orthanc: Orthanc is not installed. On Debian/Ubuntu:');
    console.log(
      '  sudo apt-get install orthanc orthanc-gdcm   (then stop the system service: sudo service orthanc stop)',
    );
    return;
  }
  const work = mkdtempSync(join(tmpdir(), 'bench-vs-orthanc-'));
  const children: ChildProcess[] = [];
  try {
    const orthancPort = await freePort();
    const oursPort = await freePort();
    writeFileSync(
      join(work, 'orthanc.json'),
      JSON.stringify({
        Name: 'bench',
        HttpPort: orthancPort,
        DicomServerEnabled: false,
        StorageDirectory: join(work, 'orthanc-storage'),
        IndexDirectory: join(work, 'orthanc-index'),
        RemoteAccessAllowed: false,
        AuthenticationEnabled: false,
        Plugins: [GDCM_PLUGIN],
      }),
    );
    children.push(spawn('Orthanc', [join(work, 'orthanc.json')], { stdio: 'ignore' }));
    children.push(
      spawn(process.execPath, ['--import', './local/preload.mjs', '--import', 'tsx', 'bin/local-server.ts'], {
        cwd: join(import.meta.dirname, '..'),
        env: { ...process.env, PORT: String(oursPort), DATA_DIR: join(work, 'ours'), POWERTOOLS_LOG_LEVEL: 'WARN' },
        stdio: 'ignore',
      }),
    );
    const orthanc = `http://127.0.0.1:${orthancPort}`;
    const ours = `http://127.0.0.1:${oursPort}`;
    await Promise.all([waitFor(`${orthanc}/system`), waitFor(`${ours}/dicom`)]);
    const loops: Record<'ours' | 'orthanc', Loop> = { ours: oursLoop(ours), orthanc: orthancLoop(orthanc) };

    console.log(
      `CPU: ${cpus()[0]?.model} x${cpus().length}; ${ROUNDS} rounds per file, interleaved, after 3 warm-up rounds`,
    );
    console.log(
      `${'file'.padEnd(28)} ${'ours files/s'.padStart(13)} ${'Orthanc files/s'.padStart(16)} ${'ratio ours/Orthanc (time)'.padStart(26)}`,
    );
    for (const file of FILES) {
      const bytes = readFileSync(join(samplesDir, file));
      const times: Record<'ours' | 'orthanc', number[]> = { ours: [], orthanc: [] };
      for (let round = 0; round < ROUNDS + 3; round++) {
        for (const who of round % 2 ? (['orthanc', 'ours'] as const) : (['ours', 'orthanc'] as const)) {
          const started = performance.now();
          await loops[who](bytes, file);
          if (round >= 3) times[who].push(performance.now() - started);
        }
      }
      const oursMs = median(times.ours);
      const orthancMs = median(times.orthanc);
      const floor = await storageFloor(bytes, ROUNDS);
      console.log(
        `${file.padEnd(28)} ${(1000 / oursMs).toFixed(1).padStart(13)} ${(1000 / orthancMs).toFixed(1).padStart(16)} ${(oursMs / orthancMs).toFixed(2).padStart(26)}   (median ${oursMs.toFixed(1)} vs ${orthancMs.toFixed(1)} ms; our ${floor.requests} storage calls alone ${floor.medianMs.toFixed(1)} ms)`,
      );
    }
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
