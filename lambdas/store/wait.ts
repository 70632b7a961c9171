// A bounded wait for the processor: how a file's processing stands, once it is done or the wait is over.
import { withDeadlineApplied, type FileRecord, type RecordStore } from './records.js';

/** How a read finds a file: gone, still being processed after the wait, or done (READY or FAILED, with the reason). */
export type ProcessingState =
  | { state: 'missing' }
  | { state: 'processing'; record: FileRecord }
  | { state: 'failed'; record: FileRecord }
  | { state: 'ready'; record: FileRecord };

/** The state of a record as readers see it (PROCESSING past its deadline is FAILED). */
export function processingState(record: FileRecord | undefined): ProcessingState {
  if (!record) return { state: 'missing' };
  const seen = withDeadlineApplied(record);
  if (seen.status === 'PROCESSING') return { state: 'processing', record: seen };
  if (seen.status === 'FAILED') return { state: 'failed', record: seen };
  return { state: 'ready', record: seen };
}

/** Waits in progress, by file id: each wakes its wait's current pause. */
const sleepers = new Map<string, Set<() => void>>();

/**
 * Something that sees every record write (the local runtime, at its DynamoDB emulator) says a file's record changed:
 * its waits look again at once instead of after their pause. On AWS nothing calls it; the back-off alone paces them.
 */
export function recordWritten(id: string): void {
  for (const wake of sleepers.get(id) ?? []) wake();
}

/** Whether any wait is in progress (so a caller can skip working out which record a write touched). */
export function anyWaits(): boolean {
  return sleepers.size > 0;
}

/** Pauses a wait for `id` for `ms`, or until recordWritten(id). */
function pause(id: string, ms: number): Promise<void> {
  return new Promise((resolve) => {
    let waiting = sleepers.get(id);
    if (!waiting) sleepers.set(id, (waiting = new Set()));
    const wake = (): void => {
      clearTimeout(timer);
      waiting.delete(wake);
      if (waiting.size === 0 && sleepers.get(id) === waiting) sleepers.delete(id);
      resolve();
    };
    const timer = setTimeout(wake, ms);
    waiting.add(wake);
  });
}

/** Waits up to waitMs for the processor to finish (API.md: POST then GET works without a retry loop). */
export async function awaitProcessed(records: RecordStore, id: string, waitMs: number): Promise<ProcessingState> {
  const started = Date.now();
  const deadline = started + waitMs;
  for (;;) {
    const found = processingState(await records.get(id));
    if (found.state !== 'processing') return found;
    const now = Date.now();
    const remaining = deadline - now;
    if (remaining <= 0) return found;
    // Each wait is a quarter of the time waited so far (4-250 ms): a file done at t is seen by
    // ~1.25 t, however long it takes; ~50 reads over 8 s (the 1.5x back-off from 5 ms made ~40).
    const delay = Math.min(Math.max((now - started) / 4, 4), 250);
    await pause(id, Math.min(delay, remaining));
  }
}
