// A small pool of worker threads running the processor, so heavy images never stall HTTP requests.
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import type { S3Event } from 'aws-lambda';
import { PROCESSOR } from '../lambdas/routes.js';
import { trace } from './trace.js';

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

/** Like Lambda's asynchronous invocation (the stack's retry setting): then the event goes to `onExhausted`. */
const MAX_ATTEMPTS = PROCESSOR.retryAttempts + 1;

interface WorkerMessage {
  ready?: boolean;
  jobId?: number;
  ok?: boolean;
  error?: string;
  errorType?: string;
}

export interface ProcessorPoolOptions {
  /** The event failed every attempt: the local stand-in for Lambda's on-failure destination (the DLQ). */
  onExhausted?: (event: S3Event, error: { errorType: string; errorMessage: string }, attempts: number) => Promise<void>;
  /** The worker script (tests substitute one that fails). */
  workerUrl?: URL;
  /** Serves a worker's storage requests posted on this port (the emulators' listeners); unset: workers use HTTP. */
  serveStorage?: (port: MessagePort) => void;
}

export class ProcessorPool {
  private readonly workers: PoolWorker[] = [];
  private readonly queue: Job[] = [];
  private readonly running = new Map<number, { job: Job; slot: PoolWorker }>();
  private nextJobId = 1;
  private idleWaiters: (() => void)[] = [];
  private closed = false;
  /** Exhausted events whose on-failure handling is still running (idle() waits for them too). */
  private settling = 0;

  constructor(
    size: number,
    private readonly env: Record<string, string>,
    private readonly options: ProcessorPoolOptions = {},
  ) {
    for (let i = 0; i < size; i++) this.workers.push(this.spawn());
  }

  private spawn(): PoolWorker {
    const url = this.options.workerUrl ?? new URL('./processor-worker.mjs', import.meta.url);
    const { port1, port2 } = new MessageChannel();
    const relay = this.options.serveStorage ? port2 : undefined;
    if (relay) this.options.serveStorage!(port1);
    const worker = new Worker(url, {
      env: { ...process.env, ...this.env },
      ...(relay ? { workerData: { relay }, transferList: [relay] } : {}),
    });
    worker.once('exit', () => port1.close());
    const slot: PoolWorker = { worker, busy: false, ready: Promise.resolve() };
    slot.ready = new Promise((resolve) => {
      worker.on('message', (message: WorkerMessage) => {
        if (message.ready) return resolve();
        const error = { errorType: message.errorType ?? 'Error', errorMessage: message.error ?? '' };
        this.finish(message.jobId!, slot, message.ok ? undefined : error);
      });
    });
    worker.on('error', (error) => process.stderr.write(`processor worker error: ${error.message}\n`));
    // A worker that dies (out of memory, a crash in native code) fails its job, like a Lambda crash, and is replaced.
    worker.on('exit', (code) => {
      if (this.closed) return;
      const index = this.workers.indexOf(slot);
      if (index >= 0) this.workers[index] = this.spawn();
      for (const [jobId, running] of this.running) {
        if (running.slot === slot) {
          this.finish(jobId, slot, { errorType: 'Runtime.ExitError', errorMessage: `worker exited with code ${code}` });
        }
      }
    });
    return slot;
  }

  private finish(jobId: number, slot: PoolWorker, error?: { errorType: string; errorMessage: string }): void {
    const running = this.running.get(jobId);
    if (!running) return;
    trace(`job< ${jobId}`);
    this.running.delete(jobId);
    slot.busy = false;
    if (error) {
      const { job } = running;
      process.stderr.write(`processor: attempt ${job.attempt} failed: ${error.errorMessage}\n`);
      if (job.attempt < MAX_ATTEMPTS) {
        this.queue.push({ ...job, attempt: job.attempt + 1 });
      } else if (this.options.onExhausted) {
        this.settling++;
        this.options
          .onExhausted(job.event, error, job.attempt)
          .catch((failure: Error) =>
            process.stderr.write(`processor: dead-letter handling failed: ${failure.message}\n`),
          )
          .finally(() => {
            this.settling--;
            this.pump();
          });
      }
    }
    this.pump();
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
      void slot.ready.then(() => {
        trace(`job> ${jobId}`);
        slot.worker.postMessage({ jobId, event: job.event });
      });
    }
    if (this.isIdle()) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      waiters.forEach((resolve) => resolve());
    }
  }

  /** Resolves when no event is queued or running. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private isIdle(): boolean {
    return this.queue.length === 0 && this.running.size === 0 && this.settling === 0;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((slot) => slot.worker.terminate()));
  }
}
