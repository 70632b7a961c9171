// `npm run trace:loop`: where one upload -> PNG -> delete loop spends its time. Starts `npm start` with LOCAL_TRACE=1
// (local/trace.ts), runs the loop TRACE_ROUNDS times on one file, and prints the timeline of the median round: each
// step the runtime, the processor worker and the emulators took, in ms from the client's POST, and the server's CPU
// time per loop by thread (from /proc). TRACE_CPU_PROF=<dir>
// instead writes `node --cpu-prof` profiles of the server and its workers there (without the trace, which costs
// main-thread time: ~100 stderr lines a loop).
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { freePort, procCpuMs } from './bench-stats.js';

const samplesDir = resolve(process.env.DICOM_SAMPLES ?? join(import.meta.dirname, '../../shared/dicom-samples'));
const FILE = process.env.TRACE_FILE ?? 'ct-implicit-le.dcm';
const ROUNDS = Number(process.env.TRACE_ROUNDS ?? 30);
const CPU_PROF = process.env.TRACE_CPU_PROF;
/** TRACE_QUIET=1: medians and CPU per loop only (the trace's own stderr lines cost the runtime's thread ~1 ms a loop). */
const TIMELINE = !CPU_PROF && process.env.TRACE_QUIET !== '1';

const now = () => performance.timeOrigin + performance.now();

/**
 * CPU ms the server's threads have used, from /proc (Linux; else empty): its main thread (the runtime: HTTP, the
 * handlers, both emulators), and every other thread (processor workers, the thread pool's file writes, V8's GC).
 * CPU time, unlike the loop's wall clock, holds still on a machine busy with other work.
 */
function serverCpu(pid: number): { main: number; others: number } | undefined {
  try {
    let main = 0;
    let others = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const ms = procCpuMs(`/proc/${pid}/task/${tid}/stat`) ?? 0;
      if (Number(tid) === pid) main += ms;
      else others += ms;
    }
    return { main, others };
  } catch {
    return undefined;
  }
}

const work = mkdtempSync(join(tmpdir(), 'trace-loop-'));
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const server = spawn(
  process.execPath,
  [
    ...(CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', resolve(CPU_PROF)] : []),
    '--import',
    './local/preload.mjs',
    '--import',
    'tsx',
    'bin/local-server.ts',
  ],
  {
    cwd: join(import.meta.dirname, '..'),
    env: {
      ...process.env,
      PORT: String(port),
      DATA_DIR: join(work, 'data'),
      LOCAL_TRACE: TIMELINE ? '1' : '0',
      POWERTOOLS_LOG_LEVEL: 'WARN',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  },
);
const lines: { at: number; thread: string; step: string }[] = [];
createInterface({ input: server.stderr! }).on('line', (line) => {
  const m = /^trace (\S+) (t\d+) (.*)$/.exec(line);
  if (m) lines.push({ at: Number(m[1]), thread: m[2]!, step: m[3]! });
});

try {
  for (let ready = false; !ready;) {
    ready = await fetch(`${base}/`).then(
      (r) => r.ok,
      () => false,
    );
    if (!ready) await new Promise((r) => setTimeout(r, 100));
  }
  const bytes = readFileSync(join(samplesDir, FILE));
  const rounds: { t0: number; t1: number; t2: number; t3: number }[] = [];
  let cpuBefore: ReturnType<typeof serverCpu>;
  for (let round = 0; round < ROUNDS + 3; round++) {
    if (round === 3) cpuBefore = serverCpu(server.pid!);
    const t0 = now();
    const form = new FormData();
    form.append('file', new Blob([bytes]), FILE);
    const uploaded = await fetch(`${base}/dicom`, { method: 'POST', body: form });
    const { id } = (await uploaded.json()) as { id: string };
    const t1 = now();
    for (;;) {
      const response = await fetch(`${base}/dicom/${id}/png`);
      await response.arrayBuffer();
      if (response.status !== 202) break;
    }
    const t2 = now();
    await (await fetch(`${base}/dicom/${id}`, { method: 'DELETE' })).arrayBuffer();
    const t3 = now();
    if (round >= 3) rounds.push({ t0, t1, t2, t3 });
  }
  const cpuAfter = serverCpu(server.pid!);
  await new Promise((r) => setTimeout(r, 200)); // the last trace lines
  const sorted = [...rounds].sort((a, b) => a.t3 - a.t0 - (b.t3 - b.t0));
  const median = sorted[Math.floor(sorted.length / 2)]!;
  const ms = (at: number) => (at - median.t0).toFixed(2).padStart(8);
  console.log(
    `${FILE}: ${ROUNDS} rounds; median loop ${(median.t3 - median.t0).toFixed(1)} ms (upload ${(median.t1 - median.t0).toFixed(1)}, PNG ${(median.t2 - median.t1).toFixed(1)}, delete ${(median.t3 - median.t2).toFixed(1)})`,
  );
  if (cpuBefore && cpuAfter) {
    const perLoop = (key: 'main' | 'others') => ((cpuAfter[key] - cpuBefore![key]) / ROUNDS).toFixed(1);
    console.log(`server CPU per loop: main thread ${perLoop('main')} ms, other threads ${perLoop('others')} ms`);
  }
  if (TIMELINE) {
    console.log(`${ms(median.t0)}  client   POST /dicom`);
    let last = median.t0;
    for (const line of lines.filter((l) => l.at >= median.t0 && l.at <= median.t3).sort((a, b) => a.at - b.at)) {
      const gap = line.at - last;
      last = line.at;
      console.log(`${ms(line.at)}  ${line.thread.padEnd(8)} ${line.step}${gap >= 1 ? `   (+${gap.toFixed(1)})` : ''}`);
    }
    console.log(`${ms(median.t1)}  client   upload answered`);
    console.log(`${ms(median.t2)}  client   PNG received`);
    console.log(`${ms(median.t3)}  client   delete answered`);
  }
} finally {
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  rmSync(work, { recursive: true, force: true });
}
