// In-process S3 (s3rver) and DynamoDB (dynalite) on loopback ports, with the stack's bucket and table.
import { mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Server } from 'node:http';
import S3rver from 's3rver';
import dynalite from 'dynalite';
import { ensureTable } from './table.js';

/** The emulators accept any credentials except s3rver, which wants these. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

/**
 * The web page sends large files straight to the bucket with presigned PUTs (and reads parts' ETags); the
 * emulator listens on loopback only, and the page's origin (the runtime's port) is not known yet here: any origin.
 */
const BROWSER_UPLOAD_CORS = `<CORSConfiguration><CORSRule>
  <AllowedOrigin>*</AllowedOrigin><AllowedMethod>PUT</AllowedMethod><AllowedMethod>GET</AllowedMethod>
  <AllowedMethod>HEAD</AllowedMethod><AllowedHeader>*</AllowedHeader><ExposeHeader>ETag</ExposeHeader>
  <MaxAgeSeconds>600</MaxAgeSeconds>
</CORSRule></CORSConfiguration>`;
export const LOCAL_REGION = 'us-east-1';

export interface Emulators {
  s3Endpoint: string;
  dynamoEndpoint: string;
  /** s3rver's notification emitter (S3-event-shaped records). */
  s3: S3rver;
  close(): Promise<void>;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

interface S3rverStore {
  getResourcePath(bucket: string, key: string, resource: string): string;
  deleteObject(bucket: string, key: string): Promise<void>;
}

/**
 * s3rver's deleteObject removes parent folders it finds empty; under concurrent requests that races
 * with other deletes (ENOENT) and with puts into the same folder (the put fails): 500s that real S3
 * never gives. Deleting only the object's files, and leaving empty folders, keeps the emulator honest.
 */
function makeDeletesConcurrencySafe(s3: S3rver): void {
  const store = (s3 as unknown as { store: S3rverStore }).store;
  store.deleteObject = async (bucket, key) => {
    await Promise.all(
      ['object', 'object.md5', 'metadata.json'].map((resource) =>
        rm(store.getResourcePath(bucket, key, resource), { force: true }),
      ),
    );
  };
}

export async function startEmulators(dataDir: string, bucketName: string, tableName: string): Promise<Emulators> {
  const s3Dir = join(dataDir, 's3');
  const dynamoDir = join(dataDir, 'dynamodb');
  mkdirSync(s3Dir, { recursive: true });
  mkdirSync(dynamoDir, { recursive: true });

  const s3 = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: s3Dir,
    configureBuckets: [{ name: bucketName, configs: [BROWSER_UPLOAD_CORS] }],
  });
  makeDeletesConcurrencySafe(s3);
  const s3Address = (await s3.run()) as AddressInfo;
  const dynamo = dynalite({ path: dynamoDir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const dynamoPort = await listen(dynamo);
  const dynamoEndpoint = `http://127.0.0.1:${dynamoPort}`;
  await ensureTable(dynamoEndpoint, tableName, dataDir);

  return {
    s3Endpoint: `http://127.0.0.1:${s3Address.port}`,
    dynamoEndpoint,
    s3,
    async close() {
      await s3.close();
      await new Promise<void>((resolve) => dynamo.close(() => resolve()));
    },
  };
}
