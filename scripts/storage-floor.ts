// The storage part of one upload -> PNG -> delete loop on its own: the calls the handlers and the processor make,
// through the same store adapters, SDK clients, in-process transport and emulators as `npm start`, one operation after
// another, with no HTTP and no DICOM work (the processor's outcome is computed once, before the clock starts). What
// this takes, no change outside the storage path can take off the loop; `npm run bench:vs-orthanc` prints it beside
// Orthanc's whole loop.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStores, type Stores } from '../lambdas/commons.js';
import { KEYS } from '../lambdas/config.js';
import { processDicom } from '../lambdas/dicom/process.js';
import { parseDicom } from '../lambdas/dicom/parse.js';
import { packDocuments } from '../lambdas/store/derived-documents.js';
import { deleteFile, newFileRecord, storeFile } from '../lambdas/ingest/store-file.js';
import { startEmulators, storageEnvironment } from '../local/emulators.js';
import { InProcessHttpHandler } from '../local/in-process-transport.js';
import { median } from './bench-stats.js';

export interface StorageFloor {
  /** Median ms of each operation's storage calls. */
  upload: number;
  processing: number;
  png: number;
  delete: number;
  loop: number;
  /** CPU ms of this process (every thread) per loop: holds still when other work shares the machine. */
  cpu: number;
}

async function timed(into: number[], step: () => Promise<unknown>): Promise<void> {
  const started = performance.now();
  await step();
  into.push(performance.now() - started);
}

/** `rounds` loops of one file's storage calls (after 3 warm-up loops), each on a new record and new objects. */
export async function measureStorageFloor(bytes: Uint8Array, rounds = 30): Promise<StorageFloor> {
  const dataDir = mkdtempSync(join(tmpdir(), 'storage-floor-'));
  const emulators = await startEmulators(dataDir, 'storage-floor', 'storage-floor');
  // The variables createStores reads, for the time of the measurement (put back as they were after it).
  const environment = storageEnvironment(emulators, 'storage-floor', 'storage-floor');
  const saved = Object.fromEntries(Object.keys(environment).map((name) => [name, process.env[name]]));
  Object.assign(process.env, environment);
  try {
    const stores: Stores = createStores({
      s3: new InProcessHttpHandler(emulators.listeners.s3),
      dynamodb: new InProcessHttpHandler(emulators.listeners.dynamodb),
    });
    const { objects, records } = stores;
    const parsed = parseDicom(bytes);
    const outcome = await processDicom(bytes);
    const documents = packDocuments(outcome.metadataJson, outcome.attributesJson);
    const times = { upload: [] as number[], processing: [] as number[], png: [] as number[], delete: [] as number[] };
    let cpuStart = process.cpuUsage();
    for (let round = 0; round < rounds + 3; round++) {
      if (round === 3) cpuStart = process.cpuUsage();
      const file = { filename: 'floor.dcm', bytes, parsed };
      const record = newFileRecord(file);
      const { id } = record;
      const into = round < 3 ? { upload: [], processing: [], png: [], delete: [] } : times;
      await timed(into.upload, () => storeFile(stores, file, record));
      await timed(into.processing, async () => {
        const [known] = await Promise.all([records.get(id), objects.get(KEYS.upload(id))]);
        await Promise.all([
          objects.put(KEYS.documents(id), documents, 'application/json'),
          outcome.png && objects.put(KEYS.png(id), outcome.png, 'image/png'),
          outcome.thumbnail && objects.put(KEYS.thumbnail(id), outcome.thumbnail, 'image/png'),
        ]);
        if (!(await records.markReady(id, outcome.result, known))) throw new Error('record gone');
      });
      await timed(into.png, () => objects.get(KEYS.png(id)));
      await timed(into.delete, () => deleteFile(stores, id));
    }
    const cpu = process.cpuUsage(cpuStart);
    const floor = {
      upload: median(times.upload),
      processing: median(times.processing),
      png: median(times.png),
      delete: median(times.delete),
    };
    return {
      ...floor,
      loop: floor.upload + floor.processing + floor.png + floor.delete,
      cpu: (cpu.user + cpu.system) / 1000 / rounds,
    };
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await emulators.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
