// The storage calls of one upload -> PNG -> delete loop, alone: the same RecordStore/ObjectStore calls, in
// the same order and overlap as the handlers and the processor make them, against the same emulators, with
// no HTTP API, no worker thread and no DICOM work in between. What the local runtime cannot go below.
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KEYS } from '../lambdas/config.js';
import { dicomInfo } from '../lambdas/dicom/attributes.js';
import { dicomIdentifiers } from '../lambdas/dicom/identifiers.js';
import { parseDicom } from '../lambdas/dicom/parse.js';
import { processDicom } from '../lambdas/dicom/process.js';
import { DynamoRecordStore } from '../lambdas/store/dynamo-record-store.js';
import { deleteFileObjects } from '../lambdas/store/file-objects.js';
import type { FileRecord } from '../lambdas/store/records.js';
import { S3ObjectStore } from '../lambdas/store/s3-object-store.js';
import { emulatorDynamoClient, emulatorS3Client, startEmulators } from '../local/emulators.js';

export interface StorageFloor {
  /** Median ms of the storage calls of one loop. */
  medianMs: number;
  /** Storage requests per loop. */
  requests: number;
}

export async function storageFloor(bytes: Uint8Array, rounds: number): Promise<StorageFloor> {
  const dataDir = mkdtempSync(join(tmpdir(), 'storage-floor-'));
  const emulators = await startEmulators(dataDir, 'floor-bucket', 'floor-table');
  let requests = 0;
  const counting = (next: (args: unknown) => Promise<unknown>) => (args: unknown) => {
    requests++;
    return next(args);
  };
  const s3 = emulatorS3Client(emulators);
  const dynamo = emulatorDynamoClient(emulators);
  s3.middlewareStack.add(counting as never, { step: 'finalizeRequest' });
  dynamo.middlewareStack.add(counting as never, { step: 'finalizeRequest' });
  const objects = new S3ObjectStore(s3, 'floor-bucket');
  const records = new DynamoRecordStore(dynamo, 'floor-table');
  const parsed = parseDicom(bytes);
  const outcome = await processDicom(bytes);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const times: number[] = [];
  try {
    for (let round = 0; round < rounds + 3; round++) {
      const started = performance.now();
      const id = randomUUID();
      const now = new Date().toISOString();
      const record: FileRecord = {
        id,
        filename: 'floor.dcm',
        size_bytes: bytes.length,
        created_at: now,
        modified_at: now,
        status: 'PROCESSING',
        dicom_info: dicomInfo(parsed),
        ...dicomIdentifiers(parsed),
        sha256,
      };
      // POST /dicom
      await records.create(record, () => objects.put(KEYS.upload(id), bytes, 'application/dicom'));
      // the processor
      const [current] = await Promise.all([records.get(id), objects.get(KEYS.upload(id))]);
      await Promise.all([
        objects.put(KEYS.attributes(id), outcome.attributesJson, 'application/json'),
        outcome.png && objects.put(KEYS.png(id), outcome.png, 'image/png'),
        outcome.thumbnail && objects.put(KEYS.thumbnail(id), outcome.thumbnail, 'image/png'),
      ]);
      await records.markReady(id, outcome.result, current);
      // GET /png (one record read: a wait that finds the file READY at once), then DELETE
      await records.get(id);
      await objects.get(KEYS.png(id));
      await records.delete(id, () => deleteFileObjects(objects, id));
      if (round >= 3) times.push(performance.now() - started);
    }
  } finally {
    s3.destroy();
    dynamo.destroy();
    await emulators.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  const sorted = [...times].sort((a, b) => a - b);
  return { medianMs: sorted[Math.floor(sorted.length / 2)]!, requests: Math.round(requests / (rounds + 3)) };
}
