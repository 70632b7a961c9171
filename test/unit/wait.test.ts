// The bounded wait for the processor (lambdas/store/wait.ts): its back-off, and the early wake the local runtime gives
// it when it sees the record written.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { FileRecord, RecordStore } from '../../lambdas/store/records.js';
import {
  awaitProcessed,
  recordWritten,
  reportingRecordWrites,
  type ProcessingState,
} from '../../lambdas/store/wait.js';

const ID = '6f1c2d4e-8a9b-4c0d-9e1f-2a3b4c5d6e7f';

/** A store whose record turns READY when `finish()` is called; counts its reads. */
function storeFinishingLater() {
  let status: FileRecord['status'] = 'PROCESSING';
  const store = {
    reads: 0,
    finish: () => {
      status = 'READY';
    },
    get: async (id: string) => {
      store.reads += 1;
      return { id, status, filename: 'a.dcm', created_at: '', modified_at: '' } as unknown as FileRecord;
    },
  };
  return store;
}

describe('awaitProcessed', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('backs off to 250 ms pauses, and a record written for the file ends the pause at once', async () => {
    const store = storeFinishingLater();
    let answer: ProcessingState | undefined;
    void awaitProcessed(store as unknown as RecordStore, ID, 8_000).then((state) => (answer = state));
    await vi.advanceTimersByTimeAsync(2_000);
    const readsAfterTwoSeconds = store.reads;
    // A quarter of the time waited: after 2 s the pauses are 250 ms, so a 4 s wait reads ~25 times, not ~500.
    expect(readsAfterTwoSeconds).toBeGreaterThan(5);
    expect(readsAfterTwoSeconds).toBeLessThan(40);

    store.finish();
    await vi.advanceTimersByTimeAsync(0);
    expect(answer, 'without a wake the wait still pauses').toBeUndefined();

    recordWritten('00000000-0000-4000-8000-000000000000');
    await vi.advanceTimersByTimeAsync(0);
    expect(answer, "another file's write does not wake it").toBeUndefined();

    recordWritten(ID);
    await vi.advanceTimersByTimeAsync(0);
    expect(answer?.state).toBe('ready');
    expect(store.reads).toBe(readsAfterTwoSeconds + 1);
  });

  it('without a wake, sees the file done within a quarter of the time waited', async () => {
    const store = storeFinishingLater();
    let answer: ProcessingState | undefined;
    void awaitProcessed(store as unknown as RecordStore, ID, 8_000).then((state) => (answer = state));
    await vi.advanceTimersByTimeAsync(400);
    store.finish();
    await vi.advanceTimersByTimeAsync(100);
    expect(answer?.state).toBe('ready');
  });

  it('answers processing once the wait is over, and leaves no pause behind', async () => {
    const store = storeFinishingLater();
    let answer: ProcessingState | undefined;
    void awaitProcessed(store as unknown as RecordStore, ID, 1_000).then((state) => (answer = state));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(answer?.state).toBe('processing');
    const reads = store.reads;
    recordWritten(ID);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(store.reads).toBe(reads);
  });

  describe('where every record write is reported (the local runtime)', () => {
    beforeEach(() => reportingRecordWrites(true));
    afterEach(() => reportingRecordWrites(false));

    it('reads again only when the file is written, or after the longest pause', async () => {
      const store = storeFinishingLater();
      let answer: ProcessingState | undefined;
      void awaitProcessed(store as unknown as RecordStore, ID, 8_000).then((state) => (answer = state));
      await vi.advanceTimersByTimeAsync(240);
      expect(store.reads, 'no polling between writes').toBe(1);
      await vi.advanceTimersByTimeAsync(20);
      expect(store.reads, 'the longest pause still reads again').toBe(2);
      store.finish();
      recordWritten(ID);
      await vi.advanceTimersByTimeAsync(0);
      expect(answer?.state).toBe('ready');
      expect(store.reads).toBe(3);
    });

    it('a write that lands while the record is being read is not missed', async () => {
      const store = storeFinishingLater();
      const read = store.get;
      // The processor finishes between the wait's read and its pause: the read saw PROCESSING.
      store.get = async (id: string) => {
        const seen = await read(id);
        if (store.reads === 1) {
          store.finish();
          recordWritten(ID);
        }
        return seen;
      };
      let answer: ProcessingState | undefined;
      void awaitProcessed(store as unknown as RecordStore, ID, 8_000).then((state) => (answer = state));
      await vi.advanceTimersByTimeAsync(0);
      expect(answer?.state, 'read again at once, not after 250 ms').toBe('ready');
      expect(store.reads).toBe(2);
    });
  });
});
