// Opt-in timeline of the local runtime (LOCAL_TRACE=1, `npm run trace:loop` sets it): one stderr line per step, on a
// clock every thread shares (ms since the epoch), naming the thread. Steps carry operation names, routes and file
// ids only: never a body, a header value or anything read from a file.
import { threadId } from 'node:worker_threads';

export const tracing = process.env.LOCAL_TRACE === '1';

/** Writes `trace <epoch ms> t<thread> <step>` when tracing; otherwise nothing (one boolean test). */
export function trace(step: string): void {
  if (!tracing) return;
  process.stderr.write(`trace ${(performance.timeOrigin + performance.now()).toFixed(3)} t${threadId} ${step}\n`);
}
