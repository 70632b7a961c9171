// A small pool of worker threads running the processor, so heavy images never stall HTTP requests.
import { Worker } from 'node:worker_threads';
import type { S3Event } from 'aws-lambda';

interface Job {
  jobId: number;
  event: S3Event;
  attempt: number;
}

interface PoolWorker {
  worker: Worker;
  busy: boolean;
  ready: Promise<void>;
}

/** Like Lambda's asynchronous invocation: a failed event is retried twice, then dropped (and logged). */
const MAX_ATTEMPTS = 3;

export class ProcessorPool {
  private readonly workers: PoolWorker[] = [];
  private readonly queue: Job[] = [];
  private readonly running = new Map<number, { job: Job; slot: PoolWorker }>();
  private nextJobId = 1;
  private idleWaiters: (() => void)[] = [];
  private closed = false;

  constructor(size: number, env: Record<string, string>) {
    for (let i = 0; i < size; i++) this.workers.push(this.spawn(env));
  }

  private spawn(env: Record<string, string>): PoolWorker {
    const worker = new Worker(new URL('./processor-worker.mjs', import.meta.url), { env: { ...process.env, ...env } });
    const slot: PoolWorker = { worker, busy: false, ready: Promise.resolve() };
    slot.ready = new Promise((resolve) => {
      worker.on('message', (message: { ready?: boolean; jobId?: number; ok?: boolean; error?: string }) => {
        if (message.ready) return resolve();
        const running = this.running.get(message.jobId!);
        if (!running) return;
        this.running.delete(message.jobId!);
        slot.busy = false;
        if (!message.ok) {
          process.stderr.write(`processor: attempt ${running.job.attempt} failed: ${message.error}\n`);
          if (running.job.attempt < MAX_ATTEMPTS) this.queue.push({ ...running.job, attempt: running.job.attempt + 1 });
        }
        this.pump();
      });
    });
    worker.on('error', (error) => process.stderr.write(`processor worker error: ${error.message}\n`));
    return slot;
  }

  submit(event: S3Event): void {
    if (this.closed) return;
    this.queue.push({ jobId: this.nextJobId++, event, attempt: 1 });
    this.pump();
  }

  private pump(): void {
    for (const slot of this.workers) {
      if (slot.busy) continue;
      const job = this.queue.shift();
      if (!job) break;
      slot.busy = true;
      const jobId = this.nextJobId++;
      this.running.set(jobId, { job, slot });
      void slot.ready.then(() => slot.worker.postMessage({ jobId, event: job.event }));
    }
    if (this.queue.length === 0 && this.running.size === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      waiters.forEach((resolve) => resolve());
    }
  }

  /** Resolves when no event is queued or running. */
  idle(): Promise<void> {
    if (this.queue.length === 0 && this.running.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((slot) => slot.worker.terminate()));
  }
}
