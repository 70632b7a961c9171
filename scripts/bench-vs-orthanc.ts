// `npm run bench:vs-orthanc`: the upload -> rendered PNG -> delete loop, ours vs Orthanc, side by side; then 8
// clients uploading 400 distinct files in parallel; then the storage round trips of each of our operations.
// Both servers run as their own processes on loopback; files and rounds are interleaved.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { dicomIdentifiers } from '../lambdas/dicom/identifiers.js';
import { parseDicom } from '../lambdas/dicom/parse.js';
import { totalCalls } from '../local/storage-calls.js';
import { describeCalls, FILE_OPERATIONS, measureRoundTrips } from './round-trips.js';
import { measureStorageFloor } from './storage-floor.js';
import { freePort, median, procCpuMs } from './bench-stats.js';

const samplesDir = resolve(process.env.DICOM_SAMPLES ?? join(import.meta.dirname, '../../shared/dicom-samples'));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 30);
const FILES = (
  process.env.BENCH_FILES ?? 'ct-implicit-le.dcm,us-rgb-planar0.dcm,ct-jpeg-lossless-70.dcm,mr-jpeg-lossless-57.dcm'
).split(',');
const PARALLEL_CLIENTS = Number(process.env.BENCH_CLIENTS ?? 8);
const PARALLEL_FILES = Number(process.env.BENCH_PARALLEL_FILES ?? 400);
const GDCM_PLUGIN = '/usr/share/orthanc/plugins/libOrthancGdcm.so';

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

interface Server {
  upload(bytes: Uint8Array, name: string): Promise<string>;
  png(id: string): Promise<number>;
  remove(id: string): Promise<void>;
  /** Resolves when what was uploaded is fully stored and processed (ours processes after the upload answers). */
  settled(ids: readonly string[]): Promise<void>;
}

function ours(base: string): Server {
  return {
    async upload(bytes, name) {
      const form = new FormData();
      form.append('file', new Blob([bytes]), name);
      const response = await fetch(`${base}/dicom`, { method: 'POST', body: form });
      if (response.status !== 201) throw new Error(`ours: upload ${response.status} for ${name}`);
      return ((await response.json()) as { id: string }).id;
    },
    async png(id) {
      // The server waits (up to its limit) for processing to finish; a 202 means it is still at it.
      for (;;) {
        const response = await fetch(`${base}/dicom/${id}/png`);
        const size = (await response.arrayBuffer()).byteLength;
        if (response.status === 202) continue;
        if (response.status !== 200) throw new Error(`ours: PNG ${response.status}`);
        return size;
      }
    },
    async remove(id) {
      await (await fetch(`${base}/dicom/${id}`, { method: 'DELETE' })).arrayBuffer();
    },
    async settled(ids) {
      for (const id of ids) {
        for (;;) {
          const { status } = (await (await fetch(`${base}/dicom/${id}`)).json()) as { status: string };
          if (status !== 'PROCESSING') break;
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    },
  };
}

function orthanc(base: string): Server {
  return {
    async upload(bytes, name) {
      const response = await fetch(`${base}/instances`, { method: 'POST', body: bytes });
      if (!response.ok) throw new Error(`orthanc: upload ${response.status} for ${name}`);
      return ((await response.json()) as { ID: string }).ID;
    },
    async png(id) {
      const response = await fetch(`${base}/instances/${id}/rendered`, { headers: { Accept: 'image/png' } });
      const size = (await response.arrayBuffer()).byteLength;
      if (response.status !== 200) throw new Error(`orthanc: rendered ${response.status}`);
      return size;
    },
    async remove(id) {
      await (await fetch(`${base}/instances/${id}`, { method: 'DELETE' })).arrayBuffer();
    },
    async settled() {
      // Orthanc stores and indexes before its upload answers.
    },
  };
}

/**
 * `count` copies of a file, each with its own SOP Instance UID (same length, last digits replaced in the file meta
 * and the dataset), so that neither server sees a duplicate: a series of distinct instances.
 */
function distinctInstances(bytes: Uint8Array, count: number): Uint8Array[] {
  const uid = dicomIdentifiers(parseDicom(bytes)).sop_instance_uid;
  const digits = String(count - 1).length + 1;
  if (!uid || uid.length - uid.lastIndexOf('.') - 1 < digits) throw new Error('SOP Instance UID too short to vary');
  const needle = Buffer.from(uid, 'latin1');
  const source = Buffer.from(bytes);
  const places: number[] = [];
  for (let at = source.indexOf(needle); at >= 0; at = source.indexOf(needle, at + 1)) places.push(at);
  return Array.from({ length: count }, (_, i) => {
    const copy = Buffer.from(source);
    const tail = Buffer.from(`9${String(i).padStart(digits - 1, '0')}`, 'latin1');
    for (const at of places) tail.copy(copy, at + needle.length - digits);
    return copy;
  });
}

/** Files per second until every upload was answered, and until every file was also processed. */
async function parallelUploads(
  server: Server,
  files: readonly Uint8Array[],
  clients: number,
  pid: number | undefined,
): Promise<{ answered: number; processed: number; cpuPerFile?: number }> {
  const cpuOf = (): number | undefined => (pid === undefined ? undefined : procCpuMs(`/proc/${pid}/stat`));
  const cpuBefore = cpuOf();
  const started = performance.now();
  let next = 0;
  const ids: string[] = [];
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < files.length) {
        const i = next++;
        ids[i] = await server.upload(files[i]!, `file-${i}.dcm`);
      }
    }),
  );
  const answered = (performance.now() - started) / 1000;
  await server.settled(ids);
  const processed = (performance.now() - started) / 1000;
  const cpuAfter = cpuOf();
  for (const id of ids) await server.remove(id);
  return {
    answered: files.length / answered,
    processed: files.length / processed,
    ...(cpuBefore !== undefined && cpuAfter !== undefined ? { cpuPerFile: (cpuAfter - cpuBefore) / files.length } : {}),
  };
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
    const servers = { ours: ours(`http://127.0.0.1:${oursPort}`), orthanc: orthanc(`http://127.0.0.1:${orthancPort}`) };
    await Promise.all([waitFor(`http://127.0.0.1:${orthancPort}/system`), waitFor(`http://127.0.0.1:${oursPort}/`)]);

    console.log(
      `CPU: ${cpus()[0]?.model} x${cpus().length}; upload -> PNG -> delete, ${ROUNDS} rounds per file, interleaved, after 3 warm-up rounds`,
    );
    console.log(
      `${'file'.padEnd(26)} ${'ours ms'.padStart(8)} ${'Orthanc ms'.padStart(11)} ${'ratio (time)'.padStart(13)}  ${'ours: upload / PNG / delete ms'.padStart(30)}`,
    );
    const ratios: number[] = [];
    const orthancLoops = new Map<string, number>();
    for (const file of FILES) {
      const bytes = readFileSync(join(samplesDir, file));
      const times = { ours: [] as number[], orthanc: [] as number[] };
      const phases = { upload: [] as number[], png: [] as number[], remove: [] as number[] };
      for (let round = 0; round < ROUNDS + 3; round++) {
        for (const who of round % 2 ? (['orthanc', 'ours'] as const) : (['ours', 'orthanc'] as const)) {
          const server = servers[who];
          const t0 = performance.now();
          const id = await server.upload(bytes, file);
          const t1 = performance.now();
          await server.png(id);
          const t2 = performance.now();
          await server.remove(id);
          const t3 = performance.now();
          if (round < 3) continue;
          times[who].push(t3 - t0);
          if (who === 'ours') {
            phases.upload.push(t1 - t0);
            phases.png.push(t2 - t1);
            phases.remove.push(t3 - t2);
          }
        }
      }
      const oursMs = median(times.ours);
      const orthancMs = median(times.orthanc);
      orthancLoops.set(file, orthancMs);
      ratios.push(oursMs / orthancMs);
      console.log(
        `${file.padEnd(26)} ${oursMs.toFixed(1).padStart(8)} ${orthancMs.toFixed(1).padStart(11)} ${(oursMs / orthancMs).toFixed(2).padStart(13)}  ${[
          phases.upload,
          phases.png,
          phases.remove,
        ]
          .map((p) => median(p).toFixed(1))
          .join(' / ')
          .padStart(30)}`,
      );
    }
    const geomean = Math.exp(ratios.reduce((sum, r) => sum + Math.log(r), 0) / ratios.length);
    console.log(`geometric mean of the ratios: ${geomean.toFixed(2)}`);

    console.log(
      `\n${PARALLEL_CLIENTS} clients uploading ${PARALLEL_FILES} distinct files (${FILES.join(', ')} in turn):`,
    );
    const perFile = Math.ceil(PARALLEL_FILES / FILES.length);
    const parallelFiles = FILES.map((file) => distinctInstances(readFileSync(join(samplesDir, file)), perFile))
      .flatMap((copies) => copies.map((copy, i) => ({ copy, i })))
      .sort((a, b) => a.i - b.i)
      .map(({ copy }) => copy)
      .slice(0, PARALLEL_FILES);
    const pids = { orthanc: children[0]?.pid, ours: children[1]?.pid };
    for (const who of ['ours', 'orthanc'] as const) {
      const rate = await parallelUploads(servers[who], parallelFiles, PARALLEL_CLIENTS, pids[who]);
      const cpu = rate.cpuPerFile === undefined ? '' : `, ${rate.cpuPerFile.toFixed(1)} ms of server CPU per file`;
      console.log(
        `  ${who.padEnd(8)} ${rate.answered.toFixed(1)} files/s answered, ${rate.processed.toFixed(1)} files/s stored and processed${cpu}${who === 'orthanc' ? ' (Orthanc indexes before it answers and renders only when asked)' : ' (PNG, thumbnail, attributes, DICOM JSON made at ingest)'}`,
      );
    }
    console.log(
      `  (${cpus().length} cores: at ${(1000 * cpus().length).toFixed(0)} ms of CPU a second, a server needing c ms a file stores at most ${cpus().length}000/c files/s)`,
    );

    console.log('\nour storage round trips per operation (counted at the emulators; a fresh study, one file):');
    for (const file of FILES) {
      const { files } = await measureRoundTrips([readFileSync(join(samplesDir, file))]);
      const counts = files[0]!;
      const loop = totalCalls(counts.upload) + totalCalls(counts.processing) + totalCalls(counts.png);
      console.log(`  ${file}: ${loop + totalCalls(counts.delete)} per upload -> PNG -> delete loop`);
      if (file !== FILES[0]) continue;
      for (const operation of FILE_OPERATIONS) {
        console.log(
          `    ${operation.padEnd(11)} ${String(totalCalls(counts[operation])).padStart(3)}  ${describeCalls(counts[operation])}`,
        );
      }
    }

    console.log(
      "\nthe loop's storage calls alone (same adapters, SDK clients, in-process transport and emulators; no HTTP, no DICOM work; scripts/storage-floor.ts):",
    );
    console.log(
      `  ${'file'.padEnd(26)} ${'upload / processing / PNG / delete ms'.padStart(38)} ${'loop'.padStart(6)}  vs Orthanc's whole loop`,
    );
    for (const file of FILES) {
      const floor = await measureStorageFloor(readFileSync(join(samplesDir, file)), Math.min(ROUNDS, 20));
      const orthancMs = orthancLoops.get(file)!;
      console.log(
        `  ${file.padEnd(26)} ${[floor.upload, floor.processing, floor.png, floor.delete]
          .map((ms) => ms.toFixed(1))
          .join(' / ')
          .padStart(38)} ${floor.loop.toFixed(1).padStart(6)}  ${(floor.loop / orthancMs).toFixed(2)}x`,
      );
    }
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
