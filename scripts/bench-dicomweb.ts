// `npm run bench:dicomweb` (and part of `npm run bench`): DICOMweb QIDO-RS and WADO-RS metadata latency at archive scale.
import { pathToFileURL } from 'node:url';
import type { FileRecord } from '../lambdas/store/records.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 20);
const ARCHIVE = Number(process.env.BENCH_DICOMWEB_ARCHIVE ?? 10_000);
const BIG_SERIES = Number(process.env.BENCH_DICOMWEB_SERIES ?? 10_000);

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? NaN;
}

/** The QIDO attributes the processor would have kept, made from the synthetic record's own fields. */
function withDicomweb(record: FileRecord, instanceNumber: number): FileRecord {
  const text = (vr: string, value: string | null) => (value ? { vr, Value: [value] } : { vr });
  const levels = {
    study: {
      '00080020': text('DA', record.study_date),
      '00081030': text('LO', record.dicom_info.StudyDescription),
      '00100010': record.dicom_info.PatientName
        ? { vr: 'PN', Value: [{ Alphabetic: record.dicom_info.PatientName }] }
        : { vr: 'PN' },
      '00100020': text('LO', record.patient_id),
    },
    series: {
      '00080060': text('CS', record.modality),
      '0008103E': { vr: 'LO', Value: ['SYNTHETIC SERIES'] },
      '00200011': { vr: 'IS', Value: [Number(record.series_instance_uid?.split('.').pop() ?? 1)] },
    },
    instance: {
      '00080016': text('UI', record.sop_class_uid),
      '00200013': { vr: 'IS', Value: [instanceNumber] },
      '00280010': { vr: 'US', Value: [512] },
      '00280011': { vr: 'US', Value: [512] },
    },
  };
  return { ...record, dicomweb: JSON.stringify(levels) };
}

async function timed(url: string, init: RequestInit = {}): Promise<{ times: number[]; count: number; bytes: number }> {
  const times: number[] = [];
  let count = 0;
  let bytes = 0;
  for (let round = 0; round < ROUNDS + 3; round++) {
    const started = performance.now();
    const response = await fetch(url, init);
    const text = await response.text();
    if (response.status !== 200) throw new Error(`${url}: ${response.status} ${text.slice(0, 200)}`);
    if (round >= 3) times.push(performance.now() - started); // the first rounds warm the handler
    count = (JSON.parse(text) as unknown[]).length;
    bytes = text.length;
  }
  return { times, count, bytes };
}

function report(label: string, result: { times: number[]; count: number; bytes: number }): void {
  console.log(
    `  ${label.padEnd(58)} p50 ${quantile(result.times, 0.5).toFixed(1).padStart(7)} ms  p95 ${quantile(result.times, 0.95).toFixed(1).padStart(7)} ms` +
      `  ${String(result.count).padStart(6)} results  ${(result.bytes / 1024).toFixed(0).padStart(6)} KB`,
  );
}

export async function benchDicomweb(): Promise<void> {
  process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
  const { startTestRuntime } = await import('../test/support/runtime.js');
  const { insertAll, syntheticRecords } = await import('../test/support/synthetic-records.js');
  const { getStores } = await import('../lambdas/commons.js');
  const { KEYS } = await import('../lambdas/config.js');
  const { packDocuments } = await import('../lambdas/store/derived-documents.js');
  const api = await startTestRuntime();
  try {
    // An archive: ~200 patients, 5 studies each, 2 series per study.
    const archive = syntheticRecords(ARCHIVE, new Date('2024-01-01T00:00:00Z'), 11, {
      patients: Math.max(1, Math.round(ARCHIVE / 50)),
      studiesPerPatient: 5,
      seriesPerStudy: 2,
    }).map((record, i) => withDicomweb(record, i + 1));
    // One series of BIG_SERIES instances (a long CT or a whole-slide pyramid), with its metadata objects stored.
    const studyUid = '1.2.826.0.1.3680043.10.99.1';
    const seriesUid = `${studyUid}.1`;
    const big = syntheticRecords(BIG_SERIES, new Date('2025-01-01T00:00:00Z'), 12, {
      patients: 1,
      studiesPerPatient: 1,
      seriesPerStudy: 1,
    }).map((record, i) =>
      withDicomweb(
        {
          ...record,
          status: 'READY',
          study_instance_uid: studyUid,
          series_instance_uid: seriesUid,
          error: undefined,
          processing_deadline: undefined,
        },
        i + 1,
      ),
    );
    const started = performance.now();
    await insertAll((r) => getStores().records.create(r), [...archive, ...big]);
    const metadata = (r: FileRecord) =>
      JSON.stringify({
        '00080018': { vr: 'UI', Value: [r.sop_instance_uid] },
        '0020000D': { vr: 'UI', Value: [studyUid] },
        '0020000E': { vr: 'UI', Value: [seriesUid] },
        '7FE00010': { vr: 'OW', BulkDataURI: 'bulkdata/7FE00010' },
      });
    // Stored as the processor stores them: in the file's documents object, beside its attributes document.
    const attributes = Buffer.from('{"count":0,"attributes":{}}');
    await insertAll(
      (r) =>
        getStores().objects.put(
          KEYS.documents(r.id),
          packDocuments(Buffer.from(metadata(r)), attributes),
          'application/json',
        ),
      big,
    );
    console.log(
      `  ${ARCHIVE} + ${BIG_SERIES} records written in ${((performance.now() - started) / 1000).toFixed(1)} s ` +
        `(each counted in its study and series)`,
    );
    const root = `${api.url}/dicomweb`;
    const studies = (await (await fetch(`${root}/studies?limit=1`)).json()) as Record<string, { Value?: string[] }>[];
    const someStudy = studies[0]!['0020000D']!.Value![0]!;
    report('QIDO /studies?limit=100 (a 100-study page)', await timed(`${root}/studies?limit=100`));
    report('QIDO /studies?limit=100&offset=500', await timed(`${root}/studies?limit=100&offset=500`));
    report(
      'QIDO /studies?StudyDate=20230101-20231231&limit=100',
      await timed(`${root}/studies?StudyDate=20230101-20231231&limit=100`),
    );
    report('QIDO /studies?PatientName=SYNTHETIC^P01*', await timed(`${root}/studies?PatientName=SYNTHETIC%5EP01*`));
    report('QIDO /series?limit=100', await timed(`${root}/series?limit=100`));
    report('QIDO /studies/{study}/series', await timed(`${root}/studies/${someStudy}/series`));
    report(
      `QIDO /studies/{study}/series (the ${BIG_SERIES}-instance series)`,
      await timed(`${root}/studies/${studyUid}/series`),
    );
    report(
      `QIDO .../series/{series}/instances?limit=1000 (of ${BIG_SERIES})`,
      await timed(`${root}/studies/${studyUid}/series/${seriesUid}/instances?limit=1000`),
    );
    report(
      `QIDO .../series/{series}/instances?limit=5000 (of ${BIG_SERIES})`,
      await timed(`${root}/studies/${studyUid}/series/${seriesUid}/instances?limit=5000`),
    );
    // Series metadata of the big series: the first request reads every instance's stored DICOM JSON (32 at a
    // time) and keeps the assembled answer; later ones read that one object.
    const metadataUrl = `${root}/studies/${studyUid}/series/${seriesUid}/metadata`;
    const assembling = performance.now();
    const firstAnswer = await fetch(metadataUrl, { headers: { 'Accept-Encoding': 'identity' } });
    await firstAnswer.text();
    console.log(
      `  ${`WADO .../series/{series}/metadata, first request (assembles ${BIG_SERIES})`.padEnd(58)} ` +
        `${(performance.now() - assembling).toFixed(0).padStart(11)} ms`,
    );
    const metadataRounds = await timed(metadataUrl, {
      headers: { 'Accept-Encoding': 'identity' },
    });
    report(`WADO .../series/{series}/metadata, kept answer (${BIG_SERIES})`, metadataRounds);
  } finally {
    await api.destroy();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log('DICOMweb on the local runtime (GET over HTTP, sequential; dynalite and the S3 store in-process):');
  await benchDicomweb();
}
