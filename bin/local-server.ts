// `npm start`: the whole API on http://localhost:5000 with S3 and DynamoDB emulated in-process.
import { startLocalRuntime } from '../local/runtime.js';

const port = Number(process.env.PORT ?? 5000);
const runtime = await startLocalRuntime({
  port,
  host: process.env.HOST ?? '127.0.0.1',
  dataDir: process.env.DATA_DIR ?? '.data',
});
process.stdout.write(`dicom-api listening on ${runtime.url} (data in ${runtime.dataDir})\n`);

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  process.stdout.write(`${signal}: shutting down\n`);
  await runtime.close();
  process.exit(0);
}
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
