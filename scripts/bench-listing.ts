// `npm run bench:listing` (and part of `npm run bench`): listing and search latency and read cost at 2,000 and 10,000 records.
import { pathToFileURL } from 'node:url';
import type { FileFilters } from '../lambdas/store/queries.js';

const SIZES = (process.env.BENCH_LISTING_SIZES ?? '2000,10000').split(',').map(Number);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 30);

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? NaN;
}

export async function benchListing(): Promise<void> {
  process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT'; // numbers only: the audit trail (INFO unless SILENT) would drown them
  const { startTestRuntime } = await import('../test/support/runtime.js');
  const { insertAll, syntheticRecords } = await import('../test/support/synthetic-records.js');
  const { getStores } = await import('../lambdas/commons.js');

  for (const size of SIZES) {
    const api = await startTestRuntime();
    try {
      // About 50 files per patient, 5 studies each: the archive grows in patients, as real ones do.
      const records = syntheticRecords(size, new Date('2024-01-01T00:00:00Z'), 7, {
        patients: Math.max(1, Math.round(size / 50)),
        studiesPerPatient: 5,
        seriesPerStudy: 2,
      });
      const started = performance.now();
      await insertAll((r) => getStores().records.create(r), records);
      const insertMs = performance.now() - started;
      console.log(
        `  ${size} records written through the RecordStore in ${(insertMs / 1000).toFixed(1)} s ` +
          `(${((size / insertMs) * 1000).toFixed(0)}/s; each write also counts the file in its study row)`,
      );

      const sample = records[Math.floor(size / 3)]!;
      const cursor = ((await (await fetch(`${api.url}/dicom?limit=100`)).json()) as { next_cursor: string })
        .next_cursor;
      const cases: [string, string, FileFilters, RequestInit?][] = [
        ['first page (100)', '/dicom', {}],
        ['second page (cursor)', `/dicom?cursor=${cursor}`, {}],
        ['page of 1,000', '/dicom?limit=1000', {}],
        ['patient_id', `/dicom?patient_id=${sample.patient_id}`, { patient_id: sample.patient_id! }],
        ['modality', '/dicom?modality=CT', { modality: 'CT' }],
        [
          'study_date (a year)',
          '/dicom?study_date=20230101-20231231',
          { study_date: { from: '20230101', to: '20231231' } },
        ],
        [
          'modality + study_date',
          '/dicom?modality=MR&study_date=20230101-20231231',
          { modality: 'MR', study_date: { from: '20230101', to: '20231231' } },
        ],
        ['status=FAILED', '/dicom?status=FAILED', { status: 'FAILED' }],
        ['modality + status=READY', '/dicom?modality=CT&status=READY', { modality: 'CT', status: 'READY' }],
        ['study_uid', `/dicom?study_uid=${sample.study_instance_uid}`, { study_uid: sample.study_instance_uid! }],
        [
          'POST /dicom/search patient_id',
          '/dicom/search',
          { patient_id: sample.patient_id! },
          { method: 'POST', body: JSON.stringify({ patient_id: sample.patient_id }) },
        ],
        ['GET /studies (100)', '/studies', {}],
      ];
      console.log(`  ${'query'.padEnd(32)} ${'p50'.padStart(7)} ${'p95'.padStart(7)}  files  read units  items read`);
      for (const [label, path, filters, init] of cases) {
        const times: number[] = [];
        let count = 0;
        for (let round = 0; round < ROUNDS + 3; round++) {
          const t = performance.now();
          const response = await fetch(`${api.url}${path}`, init);
          const body = (await response.json()) as { count: number };
          if (response.status !== 200) throw new Error(`${label}: ${response.status} ${JSON.stringify(body)}`);
          if (round >= 3) times.push(performance.now() - t); // the first rounds warm the handler
          count = body.count;
        }
        // The same query through the store: what one page costs in DynamoDB read units (eventually consistent).
        const page = label.startsWith('GET /studies')
          ? await getStores().records.listStudies({ limit: 100 })
          : await getStores().records.listFiles(filters, { limit: label === 'page of 1,000' ? 1000 : 100 });
        console.log(
          `  ${label.padEnd(32)} ${quantile(times, 0.5).toFixed(1).padStart(5)} ms ${quantile(times, 0.95).toFixed(1).padStart(5)} ms` +
            `  ${String(count).padStart(5)}  ${page.readUnits.toFixed(1).padStart(10)}  ${String(page.examined).padStart(10)}`,
        );
      }
    } finally {
      await api.destroy();
    }
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log('Listing and search on the local runtime (GET over HTTP, sequential; dynalite in-process):');
  await benchListing();
}
