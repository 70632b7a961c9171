// GET /studies/{study_uid}/series over HTTP (the local runtime, or API_URL's stage): a study's series in series-number
// order with their instance counts, which follow uploads and deletes; each names its files' listing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StudySeriesJson } from '../../lambdas/http/listing.js';
import { buildDicom, imageElements, patientElements } from '../fixtures/dicom-builder.js';
import { uniqueUidRoot } from '../support/dicomweb.js';
import { uploadForm } from '../support/runtime.js';
import { startTarget, type ApiTarget } from '../support/target.js';

interface SeriesListing {
  count: number;
  series: StudySeriesJson[];
}

let api: ApiTarget;
let root: string;

beforeAll(async () => {
  api = await startTarget();
  root = uniqueUidRoot();
});
afterAll(async () => {
  await api?.close();
});

/** One series of the study: its number (none when absent), modality and description. */
interface SeriesFixture {
  uid: string;
  number?: number;
  modality: string;
  description?: string;
}

function instance(study: string, series: SeriesFixture, sop: string): Uint8Array {
  return buildDicom(
    [
      ...patientElements({ id: `SER-${root.slice(-8)}`, modality: series.modality, description: 'SERIES E2E' }),
      { tag: 0x0020000d, vr: 'UI', value: study },
      { tag: 0x0020000e, vr: 'UI', value: series.uid },
      ...(series.number === undefined ? [] : [{ tag: 0x00200011, vr: 'IS', value: String(series.number) }]),
      ...(series.description ? [{ tag: 0x0008103e, vr: 'LO', value: series.description }] : []),
      ...imageElements({ rows: 2, columns: 2, pixels: [0, 100, 200, 300] }),
    ],
    { sopInstanceUid: sop },
  );
}

async function upload(bytes: Uint8Array, filename: string): Promise<string> {
  const response = await api.fetch('/dicom', { method: 'POST', body: uploadForm(bytes, filename) });
  expect(response.status).toBe(201);
  return api.track(((await response.json()) as { id: string }).id);
}

async function seriesOf(study: string): Promise<SeriesListing> {
  const response = await api.fetch(`/studies/${study}/series`);
  expect(response.status).toBe(200);
  return (await response.json()) as SeriesListing;
}

async function remove(id: string): Promise<void> {
  expect((await api.fetch(`/dicom/${id}`, { method: 'DELETE' })).status).toBe(200);
}

describe('GET /studies/{study_uid}/series', () => {
  it('lists the series in series-number order (unnumbered last), with counts that follow uploads and deletes', async () => {
    const study = `${root}.1`;
    // Uploaded out of order: the answer's order is the series numbers', not the uploads'.
    const t2: SeriesFixture = { uid: `${study}.3`, number: 10, modality: 'MR', description: 'AX T2' };
    const t1: SeriesFixture = { uid: `${study}.1`, number: 2, modality: 'MR', description: 'SAG T1' };
    const scout: SeriesFixture = { uid: `${study}.2`, number: 1, modality: 'MR', description: 'LOCALIZER' };
    const report: SeriesFixture = { uid: `${study}.4`, modality: 'SR' };
    const ids: Record<'t2' | 't1' | 'scout' | 'report', string[]> = { t2: [], t1: [], scout: [], report: [] };
    for (const [name, series, count] of [
      ['t2', t2, 3],
      ['report', report, 1],
      ['t1', t1, 2],
      ['scout', scout, 1],
    ] as const) {
      for (let i = 1; i <= count; i++) {
        ids[name].push(await upload(instance(study, series, `${series.uid}.${i}`), `${name}-${i}.dcm`));
      }
    }

    const listing = await seriesOf(study);
    expect(listing.count).toBe(4);
    expect(listing.series).toEqual([
      {
        series_instance_uid: scout.uid,
        series_number: 1,
        modality: 'MR',
        series_description: 'LOCALIZER',
        number_of_instances: 1,
        files: `/studies/${study}/files?series_uid=${scout.uid}`,
      },
      expect.objectContaining({ series_instance_uid: t1.uid, series_number: 2, number_of_instances: 2 }),
      expect.objectContaining({ series_instance_uid: t2.uid, series_number: 10, series_description: 'AX T2' }),
      expect.objectContaining({
        series_instance_uid: report.uid,
        series_number: null,
        modality: 'SR',
        series_description: null,
        number_of_instances: 1,
      }),
    ]);
    expect(listing.series[2]!.number_of_instances).toBe(3);
    // Each series' `files` lists exactly its files.
    for (const [name, series] of [
      ['t2', t2],
      ['t1', t1],
    ] as const) {
      const row = listing.series.find((s) => s.series_instance_uid === series.uid)!;
      const files = (await (await api.fetch(row.files)).json()) as { files: { id: string }[] };
      expect(files.files.map((f) => f.id).sort()).toEqual([...ids[name]].sort());
    }
    // The study's own count agrees with its series'.
    const studyRow = (await (await api.fetch(`/studies/${study}`)).json()) as { number_of_instances: number };
    expect(studyRow.number_of_instances).toBe(listing.series.reduce((sum, s) => sum + s.number_of_instances, 0));

    // One more instance, one fewer: the counts follow; a series' last file gone, the series is gone.
    ids.t1.push(await upload(instance(study, t1, `${t1.uid}.3`), 't1-3.dcm'));
    await remove(ids.t2[0]!);
    await remove(ids.scout[0]!);
    const after = await seriesOf(study);
    expect(after.series.map((s) => [s.series_number, s.number_of_instances])).toEqual([
      [2, 3],
      [10, 2],
      [null, 1],
    ]);
    expect(after.count).toBe(3);

    // Every file gone: the study is not found any more.
    for (const id of [...ids.t2.slice(1), ...ids.t1, ...ids.report]) await remove(id);
    const gone = await api.fetch(`/studies/${study}/series`);
    expect(gone.status).toBe(404);
    expect(((await gone.json()) as { code: string }).code).toBe('STUDY_NOT_FOUND');
  });

  it('a study whose files name no series answers none', async () => {
    const study = `${root}.2`;
    const bytes = buildDicom(
      [
        ...patientElements({ id: `SER-${root.slice(-8)}`, modality: 'OT' }),
        { tag: 0x0020000d, vr: 'UI', value: study },
      ],
      { sopInstanceUid: `${study}.9.1` },
    );
    const id = await upload(bytes, 'no-series.dcm');
    expect(await seriesOf(study)).toEqual({ count: 0, series: [] });
    await remove(id);
  });

  it('an unknown or malformed study UID -> 404 STUDY_NOT_FOUND', async () => {
    for (const uid of [`${root}.999`, 'not-a-uid', `1.${'2'.repeat(70)}`]) {
      const response = await api.fetch(`/studies/${uid}/series`);
      expect(response.status, uid).toBe(404);
      expect(((await response.json()) as { code: string }).code, uid).toBe('STUDY_NOT_FOUND');
    }
  });
});
