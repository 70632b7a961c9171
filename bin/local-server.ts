// `npm start`: the whole API on http://localhost:5000 with S3 and DynamoDB emulated in-process.
import { ENV } from '../lambdas/config.js';
import { parseOrigins } from '../lambdas/http/cors.js';
import { startLocalRuntime } from '../local/runtime.js';

const port = Number(process.env.PORT ?? 5000);
const runtime = await startLocalRuntime({
  port,
  host: process.env.HOST ?? '127.0.0.1',
  dataDir: process.env.DATA_DIR ?? '.data',
  // Access control as deployed: API_KEY required in x-api-key when set; CORS for the listed origins.
  ...(process.env.API_KEY ? { apiKey: process.env.API_KEY } : {}),
  corsOrigins: parseOrigins(process.env[ENV.corsOrigins]),
});
process.stdout.write(
  `dicom-api listening on ${runtime.url} (data in ${runtime.dataDir}; ${process.env.API_KEY ? 'API key required' : 'no API key'})\n`,
);

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
