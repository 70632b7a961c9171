// `npm run reprocess-all`: asks the API to rebuild every file whose derived data predates the current schema version.
import { pathToFileURL } from 'node:url';
import { DERIVED_SCHEMA_VERSION } from '../lambdas/dicom/process.js';

export interface ReprocessAllOptions {
  /** The API's base URL: http://localhost:5000 locally, the stack's ApiUrl output deployed. */
  apiUrl: string;
  /** Sent as x-api-key when the stage requires a key. */
  apiKey?: string;
  /** Every file, not only those below DERIVED_SCHEMA_VERSION. */
  all?: boolean;
  /** List what would be reprocessed, change nothing. */
  dryRun?: boolean;
  /** Requests in flight at once (the processor scales out; the stage throttles at 50/s). */
  concurrency?: number;
  log?: (line: string) => void;
}

export interface ReprocessSummary {
  listed: number;
  requested: number;
  /** Not reprocessable: original not stored (not DICOM), upload still pending, or deleted meanwhile. */
  skipped: number;
  failed: number;
}

interface ListedFile {
  id: string;
  status: string;
  schema_version?: number | null;
}

/** Through the API, not the tables: the same checks and the same path as POST /dicom/{id}/reprocess. */
export async function reprocessAll(options: ReprocessAllOptions): Promise<ReprocessSummary> {
  const base = options.apiUrl.replace(/\/+$/, '');
  const headers: Record<string, string> = options.apiKey ? { 'x-api-key': options.apiKey } : {};
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const summary: ReprocessSummary = { listed: 0, requested: 0, skipped: 0, failed: 0 };

  const ids: string[] = [];
  let cursor: string | null | undefined;
  do {
    // Follows next_cursor when the listing pages; a listing without it is one page.
    const response = await fetch(`${base}/dicom${cursor ? `?cursor=${encodeURIComponent(cursor)}` : ''}`, { headers });
    if (!response.ok) throw new Error(`GET /dicom answered ${response.status}: ${await response.text()}`);
    const page = (await response.json()) as { files: ListedFile[]; next_cursor?: string | null };
    for (const file of page.files) {
      summary.listed++;
      const outdated = (file.schema_version ?? 0) < DERIVED_SCHEMA_VERSION;
      if (file.status !== 'PROCESSING' && (options.all || outdated)) ids.push(file.id);
    }
    cursor = page.next_cursor;
  } while (cursor);
  log(`${summary.listed} files listed; ${ids.length} to reprocess (schema version ${DERIVED_SCHEMA_VERSION})`);
  if (options.dryRun) {
    for (const id of ids) log(`would reprocess ${id}`);
    return summary;
  }

  const queue = [...ids];
  async function worker(): Promise<void> {
    for (let id = queue.shift(); id; id = queue.shift()) {
      for (let attempt = 1; ; attempt++) {
        const response = await fetch(`${base}/dicom/${id}/reprocess`, { method: 'POST', headers });
        if (response.status === 429 && attempt < 5) {
          await new Promise((resolve) => setTimeout(resolve, 1000 * attempt));
          continue;
        }
        const body = (await response.json().catch(() => ({}))) as { code?: string; error?: string };
        if (response.status === 202) summary.requested++;
        else if (response.status === 409 || response.status === 404) {
          summary.skipped++;
          log(`skipped ${id}: ${body.code ?? response.status}`);
        } else {
          summary.failed++;
          log(`failed ${id}: ${response.status} ${body.code ?? ''} ${body.error ?? ''}`);
        }
        break;
      }
    }
  }
  await Promise.all(Array.from({ length: options.concurrency ?? 4 }, worker));
  log(`requested ${summary.requested}, skipped ${summary.skipped}, failed ${summary.failed}`);
  return summary;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const apiUrl = process.env.API_URL ?? 'http://localhost:5000';
  const summary = await reprocessAll({
    apiUrl,
    ...(process.env.API_KEY ? { apiKey: process.env.API_KEY } : {}),
    all: args.includes('--all'),
    dryRun: args.includes('--dry-run'),
  });
  process.exitCode = summary.failed > 0 ? 1 : 0;
}
