// What the bench scripts share: the median of their samples, a free loopback port, and a process's CPU time.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** The middle sample (the upper one of an even count); NaN without samples. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

/** A loopback port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

/**
 * CPU ms (user + system) from a /proc `stat` file: `/proc/<pid>/stat` for a whole process (every thread, exited ones
 * included), `/proc/<pid>/task/<tid>/stat` for one thread. Undefined where there is no such file (not Linux, gone).
 */
export function procCpuMs(statFile: string): number | undefined {
  try {
    const stat = readFileSync(statFile, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10; // utime + stime, in ticks of USER_HZ 100
  } catch {
    return undefined;
  }
}
