// Runs the processor Lambda handler inside a worker thread, one S3 event at a time.
import { parentPort } from 'node:worker_threads';
import type { S3Event } from 'aws-lambda';
import { handler } from '../lambdas/handlers/processor.js';

parentPort!.on('message', async (message: { jobId: number; event: S3Event }) => {
  try {
    await handler(message.event);
    parentPort!.postMessage({ jobId: message.jobId, ok: true });
  } catch (error) {
    const { name, message: text } = error as Error;
    parentPort!.postMessage({ jobId: message.jobId, ok: false, error: text, errorType: name });
  }
});
parentPort!.postMessage({ ready: true });
