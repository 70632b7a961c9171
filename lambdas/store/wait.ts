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

/** The longest pause of a wait: how soon a file done is seen when nothing wakes the wait. */
const MAX_PAUSE_MS = 250;

/**
 * Set by a runtime that reports every record write through recordWritten (the local one, which sees each write at its
 * DynamoDB emulator): its waits then read again only when woken, or after the longest pause, instead of polling.
 */
let reporters = 0;

/** A runtime starts (true) or stops (false) reporting record writes; several may run in one process (tests). */
export function reportingRecordWrites(reported = true): void {
  reporters = Math.max(0, reporters + (reported ? 1 : -1));
}

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

/**
 * Listens for writes of `id`'s record from before a read until the pause after it: a write landing between the read
 * and the pause still ends the pause at once.
 */
function listen(id: string): { pause(ms: number): Promise<void>; stop(): void } {
  let waiting = sleepers.get(id);
  if (!waiting) sleepers.set(id, (waiting = new Set()));
  const listeners = waiting;
  let woken = false;
  let resume: (() => void) | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stop = (): void => {
    clearTimeout(timer);
    listeners.delete(wake);
    if (listeners.size === 0 && sleepers.get(id) === listeners) sleepers.delete(id);
    resume?.();
  };
  const wake = (): void => {
    woken = true;
    stop();
  };
  listeners.add(wake);
  return {
    pause: (ms) =>
      woken
        ? Promise.resolve()
        : new Promise((resolve) => {
            resume = resolve;
            timer = setTimeout(stop, ms);
          }),
    stop,
  };
}

/** Waits up to waitMs for the processor to finish (API.md: POST then GET works without a retry loop). */
export async function awaitProcessed(records: RecordStore, id: string, waitMs: number): Promise<ProcessingState> {
  const started = Date.now();
  const deadline = started + waitMs;
  for (;;) {
    const wake = listen(id);
    let found: ProcessingState;
    try {
      found = processingState(await records.get(id));
    } catch (error) {
      wake.stop();
      throw error;
    }
    const now = Date.now();
    const remaining = deadline - now;
    if (found.state !== 'processing' || remaining <= 0) {
      wake.stop();
      return found;
    }
    // Each wait is a quarter of the time waited so far (4-250 ms): a file done at t is seen by
    // ~1.25 t, however long it takes; ~50 reads over 8 s (the 1.5x back-off from 5 ms made ~40).
    // Where writes are reported, a read follows a write (or the longest pause) instead.
    const delay = reporters > 0 ? MAX_PAUSE_MS : Math.min(Math.max((now - started) / 4, 4), MAX_PAUSE_MS);
    await wake.pause(Math.min(delay, remaining));
  }
}
