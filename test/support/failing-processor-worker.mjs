// A processor worker that always fails (FAIL_MODE=throw) or dies (FAIL_MODE=exit): drives the pool's retry and dead-letter path.
import { parentPort } from 'node:worker_threads';

parentPort.on('message', (message) => {
  if (process.env.FAIL_MODE === 'exit') process.exit(3);
  parentPort.postMessage({
    jobId: message.jobId,
    ok: false,
    error: 'cannot read properties of undefined',
    errorType: 'TypeError',
  });
});
parentPort.postMessage({ ready: true });
