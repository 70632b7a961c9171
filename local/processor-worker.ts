// Runs the processor Lambda handler inside a worker thread, one S3 event at a time. Its storage requests go to the
// emulators in the runtime's thread over a message port (local/in-process-transport.ts), not over loopback HTTP.
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { S3Event } from 'aws-lambda';
import { createStores, setStores } from '../lambdas/commons.js';
import { handler } from '../lambdas/handlers/processor.js';
import { RelayHttpHandler } from './in-process-transport.js';
import { trace } from './trace.js';

const relay = (workerData as { relay?: MessagePort } | undefined)?.relay;
if (relay) {
  setStores(createStores({ s3: new RelayHttpHandler(relay, 's3'), dynamodb: new RelayHttpHandler(relay, 'dynamodb') }));
}

parentPort!.on('message', async (message: { jobId: number; event: S3Event }) => {
  try {
    trace(`worker job ${message.jobId}`);
    await handler(message.event);
    trace(`worker done ${message.jobId}`);
    parentPort!.postMessage({ jobId: message.jobId, ok: true });
  } catch (error) {
    const { name, message: text } = error as Error;
    parentPort!.postMessage({ jobId: message.jobId, ok: false, error: text, errorType: name });
  }
});
parentPort!.postMessage({ ready: true });
