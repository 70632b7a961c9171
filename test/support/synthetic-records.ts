// Synthetic file records for listing tests and the bench: a small archive with patients, studies and series.
import type { FileRecord, ProcessingStatus } from '../../lambdas/store/records.js';

const MODALITIES = ['CT', 'MR', 'US', 'CR', 'DX', 'PT'] as const;

/** A deterministic pseudo-random sequence (mulberry32), so a failing test is reproducible. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface ArchiveShape {
  patients: number;
  studiesPerPatient: number;
  seriesPerStudy: number;
}

/**
 * `count` records spread over patients, studies (each with a study date in 2022-2024) and series
 * (each with a modality); about 90% READY, 5% PROCESSING (some past their deadline), 5% FAILED; a
 * few lack a patient, a modality or a study date. created_at rises from `start` by one second per
 * record, with every 25th record sharing its predecessor's instant (ties must still page exactly).
 */
export function syntheticRecords(
  count: number,
  start: Date,
  seed = 1,
  shape: ArchiveShape = { patients: 40, studiesPerPatient: 5, seriesPerStudy: 2 },
): FileRecord[] {
  const next = random(seed);
  const pick = (n: number): number => Math.floor(next() * n);
  const studies = Array.from({ length: shape.patients * shape.studiesPerPatient }, (_, s) => {
    const day = new Date(Date.UTC(2022, 0, 1) + pick(3 * 365) * 86_400_000);
    return {
      uid: `1.2.826.0.1.3680043.10.${seed}.${s + 1}`,
      patient: `P${String(Math.floor(s / shape.studiesPerPatient)).padStart(3, '0')}`,
      date: day.toISOString().slice(0, 10).replaceAll('-', ''),
      modalities: Array.from({ length: shape.seriesPerStudy }, () => MODALITIES[pick(MODALITIES.length)]!),
    };
  });
  const records: FileRecord[] = [];
  let created = start.getTime();
  for (let i = 0; i < count; i++) {
    if (i % 25 !== 24) created += 1000;
    const study = studies[pick(studies.length)]!;
    const series = pick(shape.seriesPerStudy);
    const roll = next();
    const status: ProcessingStatus = roll < 0.9 ? 'READY' : roll < 0.95 ? 'PROCESSING' : 'FAILED';
    const noPatient = next() < 0.01;
    const noModality = next() < 0.01;
    const noDate = next() < 0.02;
    const createdAt = new Date(created).toISOString();
    const modality = noModality ? null : study.modalities[series]!;
    const patientId = noPatient ? null : study.patient;
    const studyDate = noDate ? null : study.date;
    records.push({
      id: uuidFrom(next),
      filename: `synthetic-${i}.dcm`,
      size_bytes: 1000 + i,
      created_at: createdAt,
      modified_at: createdAt,
      status,
      ...(status === 'FAILED' ? { error: 'synthetic failure' } : {}),
      // Half the PROCESSING records are past their deadline: readers see them FAILED.
      ...(status === 'PROCESSING'
        ? { processing_deadline: new Date(Date.now() + (i % 2 ? 3_600_000 : -3_600_000)).toISOString() }
        : {}),
      dicom_info: {
        PatientName: noPatient ? null : `SYNTHETIC^${study.patient}`,
        PatientID: patientId,
        StudyDate: studyDate,
        StudyDescription: `STUDY ${study.uid.split('.').pop()}`,
        Modality: modality,
        ImageDimensions: null,
      },
      patient_id: patientId,
      modality,
      study_date: studyDate,
      sop_instance_uid: `1.2.826.0.1.3680043.11.${seed}.${i + 1}`,
      sop_class_uid: '1.2.840.10008.5.1.4.1.1.7',
      study_instance_uid: study.uid,
      series_instance_uid: `${study.uid}.${series + 1}`,
      transfer_syntax_uid: '1.2.840.10008.1.2.1',
      number_of_frames: null,
      image: { state: 'NO_IMAGE' },
    });
  }
  return records;
}

function uuidFrom(next: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(next() * 16).toString(16));
  hex[12] = '4';
  hex[16] = '89ab'[Math.floor(next() * 4)]!;
  const h = hex.join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Writes records through the RecordStore with bounded concurrency (dynalite is one process). */
export async function insertAll(
  create: (record: FileRecord) => Promise<void>,
  records: FileRecord[],
  concurrency = 16,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < records.length) await create(records[next++]!);
    }),
  );
}
