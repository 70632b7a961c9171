// Listing, filters, search and studies over HTTP on the local runtime, against 2,000 records and a brute-force answer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getStores } from '../../lambdas/commons.js';
import { withDeadlineApplied, type FileRecord } from '../../lambdas/store/records.js';
import { buildDicom, imageElements, patientElements } from '../fixtures/dicom-builder.js';
import { startTestRuntime, uploadForm, type TestRuntime } from '../support/runtime.js';
import { isRemote } from '../support/target.js';
import { insertAll, syntheticRecords } from '../support/synthetic-records.js';

let api: TestRuntime;
/** Every record the runtime holds: the brute-force universe. */
const universe: FileRecord[] = [];

interface Listing {
  count: number;
  files: { id: string; created_at: string }[];
  next_cursor: string | null;
}
type Filters = Record<string, string>;

async function errorOf(response: Response): Promise<{ error: string; code: string; parameter?: string }> {
  return (await response.json()) as { error: string; code: string; parameter?: string };
}

function getPage(path: string, params: Record<string, string | number | undefined>): Promise<Response> {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined) query.set(name, String(value));
  return fetch(`${api.url}${path}${query.size ? `?${query}` : ''}`);
}

function searchPage(body: unknown): Promise<Response> {
  return fetch(`${api.url}/dicom/search`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
}

/** Follows next_cursor to the end; every page must hold `count` files and at most `limit`. */
async function allPages(
  filters: Filters,
  limit: number,
  via: 'get' | 'post' | 'alternate' = 'get',
  path = '/dicom',
): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const usePost = via === 'post' || (via === 'alternate' && pages % 2 === 1);
    const response = usePost
      ? await searchPage({ ...filters, limit, ...(cursor ? { cursor } : {}) })
      : await getPage(path, { ...filters, limit, cursor });
    expect(response.status, JSON.stringify(filters)).toBe(200);
    const page = (await response.json()) as Listing;
    expect(page.count).toBe(page.files.length);
    expect(page.count).toBeLessThanOrEqual(limit);
    ids.push(...page.files.map((f) => f.id));
    cursor = page.next_cursor ?? undefined;
    pages++;
    expect(pages, 'pages never end').toBeLessThan(200);
  } while (cursor);
  return { ids, pages };
}

const createdKey = (r: FileRecord): string => `${r.created_at}#${r.id}`;

/** The brute-force answer: every record matching all filters, in the order the API promises. */
function expected(filters: Filters): string[] {
  let from: string | null = null;
  let to: string | null = null;
  if (filters.study_date) {
    const [a, b] = filters.study_date.split('-');
    from = a || null;
    to = filters.study_date.includes('-') ? b || null : from;
  }
  const matching = universe.filter((r) => {
    if (filters.patient_id && r.patient_id !== filters.patient_id) return false;
    if (filters.modality && r.modality !== filters.modality.toUpperCase()) return false;
    if (filters.study_uid && r.study_instance_uid !== filters.study_uid) return false;
    if (filters.series_uid && r.series_instance_uid !== filters.series_uid) return false;
    if (filters.status && withDeadlineApplied(r).status !== filters.status.toUpperCase()) return false;
    if (filters.study_date) {
      if (!r.study_date) return false;
      if (from && r.study_date < from) return false;
      if (to && r.study_date > to) return false;
    }
    return true;
  });
  // Newest upload first; with study_date (and neither a study nor a series), newest study date first.
  const byDate = Boolean(filters.study_date && !filters.study_uid && !filters.series_uid);
  const key = (r: FileRecord): string => (byDate ? `${r.study_date}#${createdKey(r)}` : createdKey(r));
  return matching.sort((a, b) => (key(a) < key(b) ? 1 : -1)).map((r) => r.id);
}

async function record(id: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${api.url}/dicom/${id}`);
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, unknown>;
}

/** A small real DICOM file with the given identity. */
function dicomFile(p: {
  patient: string;
  modality: string;
  studyDate: string;
  study: string;
  series: string;
  sop: string;
}): Uint8Array {
  return buildDicom(
    [
      ...patientElements({ id: p.patient, modality: p.modality, studyDate: p.studyDate, description: 'E2E STUDY' }),
      { tag: 0x0020000d, vr: 'UI', value: p.study },
      { tag: 0x0020000e, vr: 'UI', value: p.series },
      ...imageElements({ rows: 2, columns: 2, pixels: [0, 100, 200, 300] }),
    ],
    { sopInstanceUid: p.sop },
  );
}

async function upload(bytes: Uint8Array, filename: string): Promise<string> {
  const response = await fetch(`${api.url}/dicom`, { method: 'POST', body: uploadForm(bytes, filename) });
  expect(response.status).toBe(201);
  return ((await response.json()) as { id: string }).id;
}

beforeAll(async () => {
  // 2,000 records are written through the RecordStore itself: only the local runtime allows that.
  if (isRemote) return;
  api = await startTestRuntime();
  const records = syntheticRecords(2000, new Date('2024-01-01T00:00:00Z'), 9);
  await insertAll((r) => getStores().records.create(r), records);
  universe.push(...records);
}, 120_000);
afterAll(async () => {
  await api?.destroy();
});

describe.skipIf(isRemote)('GET /dicom pages through 2,000 records', () => {
  it('newest first, without gaps or repeats, while other records are inserted', async () => {
    const before = new Set(universe.map((r) => r.id));
    const newestFirst = expected({});
    // Inserts newer records while the client pages: they sort above page one, so never show up later.
    const later = syntheticRecords(150, new Date(), 10);
    const inserting = insertAll((r) => getStores().records.create(r), later, 4);
    const { ids, pages } = await allPages({}, 137);
    await inserting;
    universe.push(...later);

    expect(new Set(ids).size, 'no repeats').toBe(ids.length);
    const old = ids.filter((id) => before.has(id));
    expect(old, 'every record that existed, in order, none skipped').toEqual(newestFirst);
    expect(ids.length - old.length).toBeLessThanOrEqual(later.length);
    expect(pages).toBeGreaterThanOrEqual(Math.ceil(before.size / 137));
  });

  it('defaults to 100 per page and accepts up to 1,000', async () => {
    const first = (await (await getPage('/dicom', {})).json()) as Listing;
    expect(first.count).toBe(100);
    expect(first.next_cursor).toEqual(expect.any(String));
    expect(first.files.map((f) => f.id)).toEqual(expected({}).slice(0, 100));
    const big = (await (await getPage('/dicom', { limit: 1000 })).json()) as Listing;
    expect(big.count).toBe(1000);
  });

  it.each([['0'], ['1001'], ['-5'], ['2.5'], ['ten'], ['']])('limit=%s -> 400 naming limit', async (limit) => {
    const response = await getPage('/dicom', { limit });
    expect(response.status).toBe(400);
    expect(await errorOf(response)).toMatchObject({ code: 'INVALID_PARAMETER', parameter: 'limit' });
  });
});

describe.skipIf(isRemote)('filters, each served by an index, equal the brute-force answer', () => {
  const pick = (): FileRecord => universe[137]!;
  const cases: [string, () => Filters, number][] = [
    ['patient_id', () => ({ patient_id: pick().patient_id! }), 7],
    ['modality (any case)', () => ({ modality: 'ct' }), 97],
    ['study_date, one day', () => ({ study_date: pick().study_date! }), 5],
    ['study_date, a range', () => ({ study_date: '20230101-20230630' }), 101],
    ['study_date, open end', () => ({ study_date: '20240601-' }), 250],
    ['study_date, open start', () => ({ study_date: '-20220301' }), 250],
    ['study_uid', () => ({ study_uid: pick().study_instance_uid! }), 3],
    ['series_uid', () => ({ series_uid: pick().series_instance_uid! }), 2],
    ['status READY', () => ({ status: 'READY' }), 500],
    ['status PROCESSING (before its deadline)', () => ({ status: 'PROCESSING' }), 11],
    ['status FAILED (and PROCESSING past its deadline)', () => ({ status: 'failed' }), 13],
    ['patient_id + modality', () => ({ patient_id: pick().patient_id!, modality: pick().modality! }), 3],
    ['patient_id + study_date range', () => ({ patient_id: pick().patient_id!, study_date: '20220101-20231231' }), 4],
    ['modality + study_date range', () => ({ modality: 'MR', study_date: '20220601-20230601' }), 33],
    ['modality + status FAILED', () => ({ modality: 'US', status: 'FAILED' }), 3],
    ['status PROCESSING + study_date range', () => ({ status: 'PROCESSING', study_date: '20220101-20231231' }), 4],
    ['study_uid + modality', () => ({ study_uid: pick().study_instance_uid!, modality: pick().modality! }), 2],
    ['series_uid + status READY', () => ({ series_uid: pick().series_instance_uid!, status: 'READY' }), 2],
    [
      'patient_id + modality + study_date + status',
      () => ({
        patient_id: pick().patient_id!,
        modality: pick().modality!,
        study_date: '20220101-20241231',
        status: 'READY',
      }),
      2,
    ],
    ['modality + status READY + study_date', () => ({ modality: 'CR', status: 'READY', study_date: '20230101-' }), 41],
  ];

  it.each(cases)('%s', async (_name, filters, limit) => {
    const want = expected(filters());
    expect(want.length, 'the case selects something').toBeGreaterThan(0);
    const { ids } = await allPages(filters(), limit);
    expect(ids).toEqual(want);
  });

  it('POST /dicom/search answers the same, and cursors pass between GET and POST', async () => {
    const filters = { modality: 'MR', study_date: '20220101-20241231' };
    const want = expected(filters);
    expect((await allPages(filters, 60, 'post')).ids).toEqual(want);
    expect((await allPages(filters, 60, 'alternate')).ids).toEqual(want);
  });

  it('GET /studies/{uid}/files lists the study like ?study_uid=, other filters allowed', async () => {
    const study = universe[42]!.study_instance_uid!;
    expect((await allPages({}, 2, 'get', `/studies/${study}/files`)).ids).toEqual(expected({ study_uid: study }));
    expect((await allPages({ status: 'READY' }, 2, 'get', `/studies/${study}/files`)).ids).toEqual(
      expected({ study_uid: study, status: 'READY' }),
    );
  });

  it.each([
    ['patient_id', 'a\\b'],
    ['patient_id', 'x'.repeat(65)],
    ['modality', 'C-T'],
    ['study_date', '2023-01-01'],
    ['study_date', '20231301'],
    ['study_date', '20230231'],
    ['study_date', '20240101-20230101'],
    ['study_date', '-'],
    ['study_uid', '1.2.abc'],
    ['series_uid', '1..2'],
    ['status', 'DONE'],
  ])('%s=%s -> 400 naming the parameter', async (parameter, value) => {
    const response = await getPage('/dicom', { [parameter]: value });
    expect(response.status).toBe(400);
    const body = await errorOf(response);
    expect(body).toMatchObject({ code: 'INVALID_PARAMETER', parameter });
    expect(body.error).toContain(parameter);
    const searched = await searchPage({ [parameter]: value });
    expect(searched.status).toBe(400);
    expect(await errorOf(searched)).toMatchObject({ parameter });
  });

  it('an unknown parameter, a repeated one, or an unknown search field -> 400', async () => {
    expect((await getPage('/dicom', { colour: 'blue' })).status).toBe(400);
    expect((await fetch(`${api.url}/dicom?modality=CT&modality=MR`)).status).toBe(400);
    const search = await searchPage({ PatientID: '12345' });
    expect(search.status).toBe(400);
    expect((await errorOf(search)).error).toMatch(/PatientID/);
    const notJson = await fetch(`${api.url}/dicom/search`, { method: 'POST', body: 'patient_id=1' });
    expect(notJson.status).toBe(400);
  });
});

describe.skipIf(isRemote)('cursors', () => {
  async function firstCursor(filters: Filters): Promise<string> {
    const page = (await (await getPage('/dicom', { ...filters, limit: 5 })).json()) as Listing;
    return page.next_cursor!;
  }

  it('an altered, truncated or invented cursor -> 400 INVALID_CURSOR', async () => {
    const cursor = await firstCursor({});
    const middle = Math.floor(cursor.length / 2);
    const altered = `${cursor.slice(0, middle)}${cursor[middle] === 'A' ? 'B' : 'A'}${cursor.slice(middle + 1)}`;
    for (const bad of [altered, cursor.slice(0, -4), 'not-a-cursor', Buffer.from('{"a":"x"}').toString('base64url')]) {
      const response = await getPage('/dicom', { limit: 5, cursor: bad });
      expect(response.status, bad).toBe(400);
      expect((await errorOf(response)).code).toBe('INVALID_CURSOR');
    }
  });

  it('a cursor used with other filters -> 400 CURSOR_MISMATCH', async () => {
    const cursor = await firstCursor({ modality: 'CT' });
    const response = await getPage('/dicom', { modality: 'MR', limit: 5, cursor });
    expect(response.status).toBe(400);
    expect((await errorOf(response)).code).toBe('CURSOR_MISMATCH');
    const studies = await getPage('/studies', { cursor });
    expect(studies.status).toBe(400);
  });

  it('never carries a filter value or a position in the clear', async () => {
    const patient = universe[3]!.patient_id!;
    const cursor = await firstCursor({ patient_id: patient });
    const decoded = Buffer.from(cursor, 'base64url').toString('latin1');
    expect(decoded).not.toContain(patient);
    expect(decoded).not.toMatch(/20\d\d-\d\d-\d\dT/);
  });
});

describe.skipIf(isRemote)('studies', () => {
  it('GET /studies: one row per study, counts and modalities from its files, newest study first, paged', async () => {
    const rows: Record<string, unknown>[] = [];
    let cursor: string | undefined;
    do {
      const page = (await (await getPage('/studies', { limit: 37, cursor })).json()) as {
        count: number;
        studies: Record<string, unknown>[];
        next_cursor: string | null;
      };
      expect(page.count).toBe(page.studies.length);
      rows.push(...page.studies);
      cursor = page.next_cursor ?? undefined;
    } while (cursor);

    const byStudy = new Map<string, FileRecord[]>();
    for (const r of universe) byStudy.set(r.study_instance_uid!, [...(byStudy.get(r.study_instance_uid!) ?? []), r]);
    expect(rows.map((r) => r.study_instance_uid).sort()).toEqual([...byStudy.keys()].sort());
    for (const row of rows) {
      const files = byStudy.get(row.study_instance_uid as string)!;
      expect(row.number_of_instances).toBe(files.length);
      expect(row.modalities_in_study).toEqual(
        [...new Set(files.flatMap((f) => (f.modality ? [f.modality] : [])))].sort(),
      );
      expect(row.files).toBe(`/studies/${row.study_instance_uid}/files`);
    }
    const order = rows.map((r) => `${r.study_date ?? '00000000'}#${r.study_instance_uid}`);
    expect(order).toEqual([...order].sort().reverse());
  });

  it('GET /studies/{uid}: the row; unknown or malformed uid -> 404', async () => {
    const uid = universe[0]!.study_instance_uid!;
    const response = await fetch(`${api.url}/studies/${uid}`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ study_instance_uid: uid, patient_id: expect.any(String) });
    for (const path of ['/studies/1.2.3.999999', '/studies/not-a-uid', '/studies/1.2.3.999999/files?limit=0']) {
      const missing = await fetch(`${api.url}${path}`);
      expect(missing.status, path).toBe(path.endsWith('limit=0') ? 400 : 404);
    }
  });
});

describe.skipIf(isRemote)('real uploads', () => {
  const identity = {
    patient: 'E2E-PATIENT-9',
    modality: 'MG',
    studyDate: '20250102',
    study: '1.2.826.0.1.3680043.12.1',
    series: '1.2.826.0.1.3680043.12.1.1',
    sop: '1.2.826.0.1.3680043.12.1.1.1',
  };

  it('the upload sets the indexed fields: the file is found by every filter at once', async () => {
    const id = await upload(dicomFile(identity), 'mammo.dcm');
    expect(await record(id)).toMatchObject({
      patient_id: identity.patient,
      modality: identity.modality,
      study_date: identity.studyDate,
      study_instance_uid: identity.study,
      series_instance_uid: identity.series,
    });
    for (const filters of [
      { patient_id: identity.patient },
      { modality: 'mg' },
      { study_date: identity.studyDate },
      { study_uid: identity.study },
      { series_uid: identity.series },
      { patient_id: identity.patient, modality: 'MG', study_date: '20250101-20250103', series_uid: identity.series },
    ]) {
      const page = (await (await getPage('/dicom', filters)).json()) as Listing;
      expect(
        page.files.map((f) => f.id),
        JSON.stringify(filters),
      ).toEqual([id]);
    }
    const study = (await (await fetch(`${api.url}/studies/${identity.study}`)).json()) as Record<string, unknown>;
    expect(study).toMatchObject({
      patient_id: identity.patient,
      patient_name: 'DOE^JOHN',
      study_date: identity.studyDate,
      study_description: 'E2E STUDY',
      modalities_in_study: ['MG'],
      number_of_instances: 1,
    });
    await fetch(`${api.url}/dicom/${id}`, { method: 'DELETE' });
    expect((await fetch(`${api.url}/studies/${identity.study}`)).status).toBe(404);
  });

  it('the same file twice: two records, each names the other in duplicate_of; deleting one updates the other', async () => {
    const bytes = dicomFile({ ...identity, sop: '1.2.826.0.1.3680043.12.1.1.2' });
    const first = await upload(bytes, 'copy-1.dcm');
    const second = await upload(bytes, 'copy-2.dcm');
    expect(first).not.toBe(second);
    await api.processorIdle();
    expect((await record(first)).duplicate_of).toEqual([second]);
    expect((await record(second)).duplicate_of).toEqual([first]);
    // Two files, one instance (one SOP Instance UID): the study counts instances, as DICOMweb's counts do.
    const studyNow = async () =>
      (await (await fetch(`${api.url}/studies/${identity.study}`)).json()) as Record<string, unknown>;
    const before = (await studyNow()).number_of_instances as number;

    expect((await fetch(`${api.url}/dicom/${first}`, { method: 'DELETE' })).status).toBe(200);
    expect((await record(second)).duplicate_of).toEqual([]);
    expect((await studyNow()).number_of_instances).toBe(before);
    await fetch(`${api.url}/dicom/${second}`, { method: 'DELETE' });
    // The last copy gone: one instance fewer.
    const last = await fetch(`${api.url}/studies/${identity.study}`);
    if (last.status === 200)
      expect(((await last.json()) as { number_of_instances: number }).number_of_instances).toBe(before - 1);
    else expect(last.status).toBe(404);
  });

  it('/dicom/search is its own resource: GET on it is an unknown route, not a file id', async () => {
    const response = await fetch(`${api.url}/dicom/search`);
    expect(response.status).toBe(404);
    expect((await errorOf(response)).code).toBe('ROUTE_NOT_FOUND');
  });
});
