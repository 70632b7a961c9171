// STOW-RS and DICOMweb DELETE over HTTP: the local runtime, or API_URL's stage. What STOW stores is what POST /dicom
// stores: visible at once in our API, QIDO and WADO; DELETE at each level removes every copy and the counts follow.
import { api as dicomwebClient } from 'dicomweb-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getStores } from '../../lambdas/commons.js';
import { MAX_UPLOAD_BODY_BYTES } from '../../lambdas/config.js';
import { buildDicom, imageElements, patientElements } from '../fixtures/dicom-builder.js';
import { parseMultipartRelated, uniqueUidRoot } from '../support/dicomweb.js';
import { installXmlHttpRequest } from '../support/dicomweb-xhr.js';
import { uploadForm } from '../support/runtime.js';
import { eventually, startTarget, type ApiTarget } from '../support/target.js';

type Attribute = { vr: string; Value?: unknown[] };
type Dataset = Record<string, Attribute>;

const CT_IMAGE = '1.2.840.10008.5.1.4.1.1.2';
const REFERENCED = '00081199';
const FAILED = '00081198';

let api: ApiTarget;
let root: string;
let uninstall: () => void;
/** Studies this suite stored (deleted at the end, so a shared stage keeps nothing). */
const studies = new Set<string>();

beforeAll(async () => {
  uninstall = installXmlHttpRequest();
  api = await startTarget();
  root = uniqueUidRoot();
});
afterAll(async () => {
  if (api) await Promise.all([...studies].map((uid) => api.fetch(`/dicomweb/studies/${uid}`, { method: 'DELETE' })));
  await api?.close();
  uninstall?.();
});

interface Uids {
  study: string;
  series: string;
  sop: string;
}

/** A small CT slice with these UIDs; `seed` changes its pixels (so its bytes) without changing its UIDs. */
function instance(uids: Uids, seed = 0): Uint8Array {
  studies.add(uids.study);
  const pixels = Array.from({ length: 16 }, (_, i) => (i * 37 + seed * 11) % 4096);
  return buildDicom(
    [
      ...patientElements({ modality: 'CT', id: `STOW-${root.slice(-8)}` }),
      { tag: 0x0020000d, vr: 'UI', value: uids.study },
      { tag: 0x0020000e, vr: 'UI', value: uids.series },
      { tag: 0x00200013, vr: 'IS', value: String(seed + 1) },
      ...imageElements({ rows: 4, columns: 4, pixels }),
    ],
    { sopInstanceUid: uids.sop, sopClassUid: CT_IMAGE },
  );
}

/** `count` instances of one series of one study. */
function series(study: string, seriesUid: string, count: number): { uids: Uids; bytes: Uint8Array }[] {
  return Array.from({ length: count }, (_, i) => {
    const uids = { study, series: seriesUid, sop: `${seriesUid}.${i + 1}` };
    return { uids, bytes: instance(uids, i) };
  });
}

/** A multipart/related body written out by hand (so each test picks its quoting), CRLF-delimited per RFC 2046. */
function related(parts: readonly Uint8Array[], boundary: string): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`), Buffer.from(part));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

const BOUNDARY = 'stow-test-boundary-7f3a';
const CONTENT_TYPE = `multipart/related; type="application/dicom"; boundary=${BOUNDARY}`;

async function stow(
  parts: readonly Uint8Array[],
  study?: string,
  contentType = CONTENT_TYPE,
): Promise<{ status: number; body: Dataset; contentType: string | null }> {
  const response = await api.fetch(`/dicomweb/studies${study ? `/${study}` : ''}`, {
    method: 'POST',
    headers: { 'Content-Type': contentType, Accept: 'application/dicom+json' },
    body: related(parts, BOUNDARY),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: JSON.parse(text) as Dataset,
    contentType: response.headers.get('content-type'),
  };
}

const items = (dataset: Dataset, tag: string): Dataset[] => (dataset[tag]?.Value ?? []) as Dataset[];
const first = (dataset: Dataset | undefined, tag: string): unknown => dataset?.[tag]?.Value?.[0];

async function getJson<T>(path: string, accept = 'application/dicom+json'): Promise<{ status: number; body: T }> {
  const response = await api.fetch(path, { headers: { Accept: accept } });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}

/** The SOP Instance UIDs QIDO finds in a study. */
async function qidoInstances(study: string): Promise<string[]> {
  const { status, body } = await getJson<Dataset[]>(`/dicomweb/studies/${study}/instances?limit=1000`);
  expect(status).toBe(200);
  return body.map((d) => String(first(d, '00080018'))).sort();
}

/** Our API's records of a study (every copy, any status). */
async function recordsOf(study: string): Promise<{ id: string; sop_instance_uid: string; status: string }[]> {
  const { status, body } = await getJson<{ files: { id: string; sop_instance_uid: string; status: string }[] }>(
    `/dicom?study_uid=${study}&limit=1000`,
    'application/json',
  );
  expect(status).toBe(200);
  return body.files;
}

/** Locally: every original in the bucket belongs to a record (nothing half-stored). */
async function expectNoOrphanOriginals(): Promise<void> {
  if (!api.local) return;
  const { objects, records } = getStores();
  const keys = await objects.listKeys('uploads/');
  const missing = [];
  for (const key of keys) if (!(await records.get(key.slice('uploads/'.length)))) missing.push(key);
  expect(missing).toEqual([]);
}

describe('STOW-RS POST /dicomweb/studies', () => {
  it('stores 50 small instances in one request, each referenced with its WADO RetrieveURL', async () => {
    const study = `${root}.1`;
    const parts = series(study, `${study}.1`, 50);
    const started = performance.now();
    const answer = await stow(parts.map((p) => p.bytes));
    const ms = Math.round(performance.now() - started);
    console.log(`STOW-RS: 50 instances (${parts[0]!.bytes.length} bytes each) stored in one request in ${ms} ms`);
    expect(answer.status).toBe(200);
    expect(answer.contentType).toMatch(/^application\/dicom\+json/);
    const referenced = items(answer.body, REFERENCED);
    expect(referenced).toHaveLength(50);
    expect(answer.body[FAILED]).toBeUndefined();
    expect(first(answer.body, '00081190')).toBe(`${api.url}/dicomweb/studies/${study}`);
    const p = parts[7]!.uids;
    expect(referenced[7]).toEqual({
      '00081150': { vr: 'UI', Value: [CT_IMAGE] },
      '00081155': { vr: 'UI', Value: [p.sop] },
      '00081190': { vr: 'UR', Value: [`${api.url}/dicomweb/studies/${study}/series/${p.series}/instances/${p.sop}`] },
    });
    expect(await qidoInstances(study)).toEqual(parts.map((part) => part.uids.sop).sort());
    const { body: found } = await getJson<Dataset[]>(`/dicomweb/studies?StudyInstanceUID=${study}`);
    expect(first(found[0], '00201208')).toBe(50);
  });

  it('of 20 instances with 3 broken, stores 17 and names the 3; nothing of the 3 is left (202)', async () => {
    const study = `${root}.2`;
    const good = series(study, `${study}.1`, 17);
    const valid = instance({ study, series: `${study}.1`, sop: `${study}.1.99` }, 99);
    const notDicom = Buffer.from('this is not a DICOM file, only text that a sender put in a part by mistake');
    const truncated = valid.subarray(0, 170);
    const otherStudy = { study: `${root}.2.9`, series: `${root}.2.9.1`, sop: `${root}.2.9.1.1` };
    const wrongStudy = instance(otherStudy, 3);
    const parts = [...good.map((g) => g.bytes)];
    parts.splice(3, 0, notDicom);
    parts.splice(9, 0, truncated);
    parts.splice(15, 0, wrongStudy);
    const answer = await stow(parts, study);
    expect(answer.status).toBe(202);
    expect(items(answer.body, REFERENCED)).toHaveLength(17);
    expect(items(answer.body, FAILED)).toEqual([
      { '00081197': { vr: 'US', Value: [0xc000] } },
      { '00081197': { vr: 'US', Value: [0xc000] } },
      {
        '00081150': { vr: 'UI', Value: [CT_IMAGE] },
        '00081155': { vr: 'UI', Value: [otherStudy.sop] },
        '00081197': { vr: 'US', Value: [0xa901] },
      },
    ]);
    expect(first(answer.body, '00081190')).toBe(`${api.url}/dicomweb/studies/${study}`);
    const records = await recordsOf(study);
    expect(records.map((r) => r.sop_instance_uid).sort()).toEqual(good.map((g) => g.uids.sop).sort());
    expect(await recordsOf(otherStudy.study)).toEqual([]);
    expect((await api.fetch(`/dicomweb/studies/${otherStudy.study}/metadata`)).status).toBe(404);
    await expectNoOrphanOriginals();
  });

  it('refuses a request where every instance fails (409) and stores nothing', async () => {
    const study = `${root}.3`;
    const elsewhere = instance({ study: `${root}.3.9`, series: `${root}.3.9.1`, sop: `${root}.3.9.1.1` });
    const answer = await stow([elsewhere, Buffer.from('junk')], study);
    expect(answer.status).toBe(409);
    expect(items(answer.body, REFERENCED)).toEqual([]);
    expect(items(answer.body, FAILED).map((i) => first(i, '00081197'))).toEqual([0xa901, 0xc000]);
    expect(answer.body['00081190']).toEqual({ vr: 'UR' });
    expect(await recordsOf(`${root}.3.9`)).toEqual([]);
  });

  it('takes type and boundary quoted or bare, in any case and order', async () => {
    const study = `${root}.4`;
    const variants = [
      `multipart/related; type=application/dicom; boundary=${BOUNDARY}`,
      `multipart/related; type="application/dicom"; boundary="${BOUNDARY}"`,
      `Multipart/Related;boundary="${BOUNDARY}";Type="application/dicom"`,
      `multipart/related; boundary=${BOUNDARY}`,
    ];
    for (const [i, contentType] of variants.entries()) {
      const uids = { study, series: `${study}.1`, sop: `${study}.1.${i + 1}` };
      const answer = await stow([instance(uids, i)], study, contentType);
      expect(answer.status, contentType).toBe(200);
      expect(first(items(answer.body, REFERENCED)[0], '00081155')).toBe(uids.sop);
    }
  });

  it('refuses other media types with 415 and a malformed body with 400, storing nothing', async () => {
    const bytes = instance({ study: `${root}.5`, series: `${root}.5.1`, sop: `${root}.5.1.1` });
    for (const contentType of [
      'application/dicom',
      'multipart/form-data; boundary=x',
      `multipart/related; type="application/dicom+json"; boundary=${BOUNDARY}`,
    ]) {
      const response = await api.fetch('/dicomweb/studies', {
        method: 'POST',
        headers: { 'Content-Type': contentType },
        body: related([bytes], BOUNDARY),
      });
      expect(response.status, contentType).toBe(415);
      expect(await response.json()).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
    }
    for (const body of [Buffer.from('no multipart here'), related([bytes], BOUNDARY).subarray(0, 400)]) {
      const response = await api.fetch('/dicomweb/studies', {
        method: 'POST',
        headers: { 'Content-Type': CONTENT_TYPE },
        body,
      });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ code: 'BAD_MULTIPART' });
    }
    expect(await recordsOf(`${root}.5`)).toEqual([]);
  });

  it('a request over the body limit is a 413 JSON error that names POST /dicom/uploads', async () => {
    const big = new Uint8Array(MAX_UPLOAD_BODY_BYTES + 1024);
    const response = await api.fetch('/dicomweb/studies', {
      method: 'POST',
      headers: { 'Content-Type': CONTENT_TYPE },
      body: related([big], BOUNDARY),
    });
    expect(response.status).toBe(413);
    const body = (await response.json()) as { error: string };
    expect(body.error).toContain('POST /dicom/uploads');
  });

  it('an instance stored by STOW is visible in GET /dicom, QIDO, WADO metadata and frames', async () => {
    const study = `${root}.6`;
    const uids = { study, series: `${study}.1`, sop: `${study}.1.1` };
    const bytes = instance(uids, 5);
    expect((await stow([bytes])).status).toBe(200);
    const [record] = await recordsOf(study);
    expect(record).toMatchObject({ sop_instance_uid: uids.sop });
    const { body: own } = await getJson<{ id: string; size_bytes: number }>(`/dicom/${record!.id}`, 'application/json');
    expect(own).toMatchObject({ id: record!.id, size_bytes: bytes.length });
    expect(await qidoInstances(study)).toEqual([uids.sop]);
    const base = `/dicomweb/studies/${study}/series/${uids.series}/instances/${uids.sop}`;
    const { status, body: metadata } = await getJson<Dataset[]>(`${base}/metadata`);
    expect(status).toBe(200);
    expect(first(metadata[0], '00080018')).toBe(uids.sop);
    const frames = await api.fetch(`${base}/frames/1`, {
      headers: { Accept: 'multipart/related; type="application/octet-stream"; transfer-syntax=*' },
    });
    expect(frames.status).toBe(200);
    const [frame] = parseMultipartRelated(
      frames.headers.get('content-type'),
      new Uint8Array(await frames.arrayBuffer()),
    );
    expect(frame!.bytes.length).toBe(4 * 4 * 2);
    const ready = await eventually(async () => {
      const { body } = await getJson<{ status: string }>(`/dicom/${record!.id}`, 'application/json');
      return body.status === 'READY' ? body : undefined;
    });
    expect(ready.status).toBe('READY');
  });

  it('the same SOP Instance UID twice: the same bytes count as stored once, other bytes are refused (0x0111)', async () => {
    const study = `${root}.7`;
    const uids = { study, series: `${study}.1`, sop: `${study}.1.1` };
    const bytes = instance(uids, 1);
    // Twice in one request, then again (a retry after a lost answer): one stored file.
    const once = await stow([bytes, bytes]);
    expect(once.status).toBe(200);
    expect(items(once.body, REFERENCED).map((i) => first(i, '00081155'))).toEqual([uids.sop, uids.sop]);
    const again = await stow([bytes]);
    expect(again.status).toBe(200);
    expect(first(items(again.body, REFERENCED)[0], '00081155')).toBe(uids.sop);
    // Different bytes under the same UID: refused, the stored one stays.
    const changed = await stow([instance(uids, 2)], study);
    expect(changed.status).toBe(409);
    expect(items(changed.body, FAILED)).toEqual([
      {
        '00081150': { vr: 'UI', Value: [CT_IMAGE] },
        '00081155': { vr: 'UI', Value: [uids.sop] },
        '00081197': { vr: 'US', Value: [0x0111] },
      },
    ]);
    const mixed = await stow([instance(uids, 3), instance({ ...uids, sop: `${study}.1.2` }, 3)]);
    expect(mixed.status).toBe(202);
    expect(await recordsOf(study)).toHaveLength(2);
    expect(await qidoInstances(study)).toEqual([uids.sop, `${study}.1.2`].sort());
    await expectNoOrphanOriginals();
  });
});

describe('DELETE /dicomweb/studies/{study}[/series/{series}[/instances/{instance}]]', () => {
  it('removes every copy at each level, the counts follow, and a repeat is a 404', async () => {
    const study = `${root}.8`;
    const a = series(study, `${study}.1`, 3);
    const b = series(study, `${study}.2`, 2);
    expect((await stow([...a, ...b].map((p) => p.bytes))).status).toBe(200);
    // A second copy of one instance through our own API (POST /dicom keeps copies): DELETE takes both.
    const copy = await api.fetch('/dicom', { method: 'POST', body: uploadForm(a[0]!.bytes) });
    expect(copy.status).toBe(201);
    const copyId = ((await copy.json()) as { id: string }).id;
    expect(await recordsOf(study)).toHaveLength(6);

    const instancePath = `/dicomweb/studies/${study}/series/${a[0]!.uids.series}/instances/${a[0]!.uids.sop}`;
    const one = await api.fetch(instancePath, { method: 'DELETE' });
    expect(one.status).toBe(200);
    expect(await one.json()).toEqual({ message: 'deleted', deleted_files: 2 });
    expect((await api.fetch(`/dicom/${copyId}`)).status).toBe(404);
    expect(await qidoInstances(study)).toHaveLength(4);
    const { body: seriesRows } = await getJson<Dataset[]>(`/dicomweb/studies/${study}/series`);
    const countOf = (uid: string) =>
      first(
        seriesRows.find((s) => first(s, '0020000E') === uid),
        '00201209',
      );
    expect(countOf(`${study}.1`)).toBe(2);
    expect((await api.fetch(instancePath, { method: 'DELETE' })).status).toBe(404);

    const seriesPath = `/dicomweb/studies/${study}/series/${study}.1`;
    const two = await api.fetch(seriesPath, { method: 'DELETE' });
    expect(two.status).toBe(200);
    expect(await two.json()).toEqual({ message: 'deleted', deleted_files: 2 });
    expect(await qidoInstances(study)).toEqual(b.map((p) => p.uids.sop).sort());
    const { body: studyRow } = await getJson<Dataset[]>(`/dicomweb/studies?StudyInstanceUID=${study}`);
    expect(first(studyRow[0], '00201208')).toBe(2);
    expect(first(studyRow[0], '00201206')).toBe(1);

    const three = await api.fetch(`/dicomweb/studies/${study}`, { method: 'DELETE' });
    expect(three.status).toBe(200);
    expect(await three.json()).toEqual({ message: 'deleted', deleted_files: 2 });
    expect(await recordsOf(study)).toEqual([]);
    expect((await getJson<Dataset[]>(`/dicomweb/studies?StudyInstanceUID=${study}`)).body).toEqual([]);
    expect((await api.fetch(`/studies/${study}`)).status).toBe(404);
    expect((await api.fetch(`/dicomweb/studies/${study}`, { method: 'DELETE' })).status).toBe(404);
    await expectNoOrphanOriginals();
  });
});

describe('dicomweb-client storeInstances', () => {
  it('stores through the client library and reads back through both APIs', async () => {
    const study = `${root}.9`;
    const parts = series(study, `${study}.1`, 3);
    const apiKey = process.env.API_KEY;
    const client = new dicomwebClient.DICOMwebClient({
      url: `${api.url}/dicomweb`,
      headers: apiKey ? { 'x-api-key': apiKey } : {},
      singlepart: false,
      verbose: false,
    }) as unknown as {
      storeInstances(options: { datasets: ArrayBuffer[]; studyInstanceUID?: string }): Promise<unknown>;
      searchForInstances(options: { studyInstanceUID: string }): Promise<Dataset[]>;
      retrieveInstanceMetadata(options: {
        studyInstanceUID: string;
        seriesInstanceUID: string;
        sopInstanceUID: string;
      }): Promise<Dataset[]>;
    };
    const datasets = parts.map((p) => p.bytes.slice().buffer as ArrayBuffer);
    // The library hands back the response text as it came (no responseType for STOW).
    const text = await client.storeInstances({ datasets, studyInstanceUID: study });
    const answer = JSON.parse(String(text)) as Dataset;
    expect(items(answer, REFERENCED)).toHaveLength(3);
    const found = await client.searchForInstances({ studyInstanceUID: study });
    expect(found.map((d) => String(first(d, '00080018'))).sort()).toEqual(parts.map((p) => p.uids.sop).sort());
    const p = parts[1]!.uids;
    const [metadata] = await client.retrieveInstanceMetadata({
      studyInstanceUID: study,
      seriesInstanceUID: p.series,
      sopInstanceUID: p.sop,
    });
    expect(first(metadata, '0020000E')).toBe(p.series);
    const records = await recordsOf(study);
    expect(records.map((r) => r.sop_instance_uid).sort()).toEqual(parts.map((q) => q.uids.sop).sort());
  });
});
