// The storage round trips of each API operation, counted where the emulators serve them (local/storage-calls.ts):
// the local runtime runs in this process on a fresh data folder, operations one at a time, the processor awaited.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalRuntime, type LocalRuntime } from '../local/runtime.js';
import { PROCESSOR_APP_ID, totalCalls, type CallCounts } from '../local/storage-calls.js';

/** The operations of one file's life, in the order a client makes them. */
export const FILE_OPERATIONS = ['upload', 'processing', 'png', 'attributes', 'delete'] as const;
export type FileOperation = (typeof FILE_OPERATIONS)[number];

/** How many times the image-URL call is made (the first also loads its handler). */
const IMAGE_URL_CALLS = 4;

export interface RoundTrips {
  /** Per uploaded file (in upload order): each operation's requests by storage operation. */
  files: Record<FileOperation, CallCounts>[];
  /** One page of GET /dicom, and of QIDO-RS GET /dicomweb/studies, with every file stored. */
  listing: CallCounts;
  qido: CallCounts;
  /** One GET /dicom/image-urls naming every file stored (their PNG and thumbnail URLs), as each of its repeats made. */
  imageUrls: CallCounts;
}

async function expectOk(response: Response, what: string): Promise<void> {
  await response.arrayBuffer();
  if (!response.ok) throw new Error(`${what}: HTTP ${response.status}`);
}

/** The api caller's counts of what `step` made the runtime do (the processor's are checked to be none). */
async function apiCalls(runtime: LocalRuntime, step: () => Promise<void>): Promise<CallCounts> {
  runtime.takeStorageCalls();
  await step();
  const { api = {}, ...others } = runtime.takeStorageCalls();
  const stray = totalCalls(others[PROCESSOR_APP_ID]);
  if (stray > 0) throw new Error(`the processor made ${stray} storage calls during an API operation`);
  return api;
}

/**
 * Uploads each file, waits for its processing, reads its PNG and attributes; then one listing page of each kind and
 * one call for every file's image URLs; then deletes the files in upload order. A file that joins a study or series already stored costs what a typical
 * upload costs; the first and last of a study show what creating and removing the study adds.
 */
export async function measureRoundTrips(files: readonly Uint8Array[]): Promise<RoundTrips> {
  const dataDir = mkdtempSync(join(tmpdir(), 'round-trips-'));
  // The handlers run in this process: their audit lines (always written, by design) would bury the report.
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) =>
    String(chunk).startsWith('{"level"') ? true : write(chunk, ...rest)) as typeof process.stdout.write;
  const runtime = await startLocalRuntime({ port: 0, dataDir, processorWorkers: 1 }).catch((error: unknown) => {
    process.stdout.write = write;
    throw error;
  });
  try {
    const perFile: Partial<Record<FileOperation, CallCounts>>[] = [];
    const ids: string[] = [];
    for (const bytes of files) {
      const counts: Partial<Record<FileOperation, CallCounts>> = {};
      let id = '';
      runtime.takeStorageCalls();
      const form = new FormData();
      form.append('file', new Blob([bytes]), 'file.dcm');
      const uploaded = await fetch(`${runtime.url}/dicom`, { method: 'POST', body: form });
      if (uploaded.status !== 201) throw new Error(`upload: HTTP ${uploaded.status}`);
      id = ((await uploaded.json()) as { id: string }).id;
      await runtime.processorIdle();
      const taken = runtime.takeStorageCalls();
      counts.upload = taken.api ?? {};
      counts.processing = taken[PROCESSOR_APP_ID] ?? {};
      counts.png = await apiCalls(runtime, async () => expectOk(await fetch(`${runtime.url}/dicom/${id}/png`), 'png'));
      counts.attributes = await apiCalls(runtime, async () =>
        expectOk(await fetch(`${runtime.url}/dicom/${id}/attributes`), 'attributes'),
      );
      ids.push(id);
      perFile.push(counts);
    }
    const listing = await apiCalls(runtime, async () =>
      expectOk(await fetch(`${runtime.url}/dicom?limit=100`), 'listing'),
    );
    const qido = await apiCalls(runtime, async () =>
      expectOk(await fetch(`${runtime.url}/dicomweb/studies?limit=100`), 'qido'),
    );
    // Asked a few times, each the same calls: a timing caller (scripts/cost/measure.ts) takes a warm one.
    let imageUrls: CallCounts = {};
    for (let i = 0; i < IMAGE_URL_CALLS; i++) {
      imageUrls = await apiCalls(runtime, async () =>
        expectOk(await fetch(`${runtime.url}/dicom/image-urls?ids=${ids.join(',')}`), 'image URLs'),
      );
    }
    for (const [i, id] of ids.entries()) {
      perFile[i]!.delete = await apiCalls(runtime, async () =>
        expectOk(await fetch(`${runtime.url}/dicom/${id}`, { method: 'DELETE' }), 'delete'),
      );
    }
    return { files: perFile as Record<FileOperation, CallCounts>[], listing, qido, imageUrls };
  } finally {
    await runtime.close();
    process.stdout.write = write;
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** `S3 PutObject x4, DynamoDB UpdateItem x2` style, most frequent first. */
export function describeCalls(counts: CallCounts): string {
  return Object.entries(counts)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([name, n]) => (n > 1 ? `${name} x${n}` : name))
    .join(', ');
}
