// Listing handlers and the processor's bookkeeping: search bodies, study counts under repeated events, duplicates, log hygiene.
import type { APIGatewayProxyResult } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { getStores, logger } from '../../lambdas/commons.js';
import { ENV, KEYS } from '../../lambdas/config.js';
import { handler as del } from '../../lambdas/handlers/delete.js';
import { handler as list } from '../../lambdas/handlers/list.js';
import { handler as processor } from '../../lambdas/handlers/processor.js';
import { handler as search } from '../../lambdas/handlers/search.js';
import { handler as studies } from '../../lambdas/handlers/studies.js';
import { handler as study } from '../../lambdas/handlers/study.js';
import { handler as upload } from '../../lambdas/handlers/upload.js';
import { pendingRecord, planUpload } from '../../lambdas/ingest/direct-upload.js';
import type { ProcessedResult } from '../../lambdas/store/records.js';
import { buildDicom, imageElements, patientElements } from '../fixtures/dicom-builder.js';
import { useEmulatedStorage } from '../support/emulated-storage.js';
import { apiEvent, idEvent, s3Event, uploadEvent } from '../support/events.js';

useEmulatedStorage('listing', { [ENV.cursorSecret]: 'handler-test-cursor-secret-0123456789' });

let serial = 0;
function file(study: string, options: { patient?: string; modality?: string; sop?: string } = {}): Uint8Array {
  serial++;
  return buildDicom(
    [
      ...patientElements({ id: options.patient ?? 'HANDLER-P1', modality: options.modality ?? 'CT' }),
      { tag: 0x0020000d, vr: 'UI', value: study },
      { tag: 0x0020000e, vr: 'UI', value: `${study}.1` },
      ...imageElements({ rows: 2, columns: 2, pixels: [serial, 1, 2, 3] }),
    ],
    { sopInstanceUid: options.sop ?? `${study}.1.${serial}` },
  );
}

async function uploaded(bytes: Uint8Array): Promise<string> {
  const response = await upload(await uploadEvent(bytes));
  expect(response.statusCode).toBe(201);
  return (JSON.parse(response.body) as { id: string }).id;
}

function body(response: APIGatewayProxyResult): Record<string, unknown> {
  return JSON.parse(response.body) as Record<string, unknown>;
}

async function instances(studyUid: string): Promise<number | undefined> {
  return (await getStores().records.getStudy(studyUid))?.number_of_instances;
}

const searchEvent = (payload: string, base64 = true) =>
  apiEvent({
    method: 'POST',
    resource: '/dicom/search',
    path: '/dicom/search',
    headers: { 'Content-Type': 'application/json' },
    body: Buffer.from(payload),
    base64,
  });

describe('POST /dicom/search', () => {
  it('reads the JSON body whether API Gateway sends it base64-encoded (binaryMediaTypes */*) or as text', async () => {
    const id = await uploaded(file('1.2.840.99.1', { patient: 'SEARCH-ME' }));
    for (const base64 of [true, false]) {
      const response = await search(searchEvent('{"patient_id": "SEARCH-ME", "limit": 10}', base64));
      expect(response.statusCode).toBe(200);
      expect(body(response)).toMatchObject({ count: 1, files: [{ id }], next_cursor: null });
    }
  });

  it.each([
    ['not JSON', 'patient_id=1', 'BAD_JSON'],
    ['an array', '[]', 'BAD_JSON'],
    ['a number as a filter', '{"patient_id": 12}', 'INVALID_PARAMETER'],
    ['limit as text that is no number', '{"limit": "many"}', 'INVALID_PARAMETER'],
    ['an unknown field', '{"PatientID": "1"}', 'BAD_QUERY'],
  ])('%s -> 400 %s', async (_name, payload, code) => {
    const response = await search(searchEvent(payload));
    expect(response.statusCode).toBe(400);
    expect(body(response).code).toBe(code);
  });
});

describe('study rows follow the files, once per file', () => {
  it('repeated S3 events for a file count it once; delete counts it out; the last file takes the row with it', async () => {
    const studyUid = '1.2.840.99.2';
    const first = await uploaded(file(studyUid));
    expect(await instances(studyUid)).toBe(1); // counted at upload
    await processor(s3Event(KEYS.upload(first)));
    await processor(s3Event(KEYS.upload(first)));
    const second = await uploaded(file(studyUid, { modality: 'MR' }));
    await processor(s3Event(KEYS.upload(second)));
    expect(await instances(studyUid)).toBe(2);
    expect((await getStores().records.getStudy(studyUid))?.modalities_in_study).toEqual(['CT', 'MR']);

    expect((await del(idEvent('/dicom/{id}', second, 'DELETE'))).statusCode).toBe(200);
    expect(await getStores().records.getStudy(studyUid)).toMatchObject({
      number_of_instances: 1,
      modalities_in_study: ['CT'],
    });
    expect((await del(idEvent('/dicom/{id}', second, 'DELETE'))).statusCode).toBe(404); // a second delete changes nothing
    expect(await instances(studyUid)).toBe(1);
    await del(idEvent('/dicom/{id}', first, 'DELETE'));
    expect(await getStores().records.getStudy(studyUid)).toBeUndefined();
    const gone = await study(
      apiEvent({
        method: 'GET',
        resource: '/studies/{study_uid}',
        path: `/studies/${studyUid}`,
        pathParameters: { study_uid: studyUid },
      }),
    );
    expect(gone.statusCode).toBe(404);
  });

  it('a reprocess that finds another study moves the count; running it twice moves it once', async () => {
    const id = await uploaded(file('1.2.840.99.3'));
    const { records } = getStores();
    const current = (await records.get(id))!;
    const result: ProcessedResult = {
      dicom_info: current.dicom_info,
      patient_id: current.patient_id,
      modality: 'MR',
      study_date: '20200202',
      sop_instance_uid: current.sop_instance_uid,
      sop_class_uid: current.sop_class_uid,
      study_instance_uid: '1.2.840.99.4',
      series_instance_uid: '1.2.840.99.4.1',
      transfer_syntax_uid: current.transfer_syntax_uid,
      number_of_frames: null,
      image: { state: 'NO_IMAGE' },
      attribute_count: 1,
      schema_version: 1,
    };
    expect(await records.markReady(id, result)).toBe(true);
    expect(await records.markReady(id, result)).toBe(true);
    expect(await instances('1.2.840.99.3')).toBeUndefined();
    expect(await records.getStudy('1.2.840.99.4')).toMatchObject({
      number_of_instances: 1,
      modalities_in_study: ['MR'],
    });
    // The record's index keys followed: found by its new study date and study, not by the old.
    const byDate = await records.listFiles({ study_date: { from: '20200202', to: '20200202' } }, { limit: 10 });
    expect(byDate.items.map((r) => r.id)).toEqual([id]);
    expect((await records.listFiles({ study_uid: '1.2.840.99.3' }, { limit: 10 })).items).toEqual([]);
  });
});

describe('GET /studies?study_date=', () => {
  const dated = async (uid: string, studyDate: string) =>
    uploaded(
      buildDicom(
        [
          ...patientElements({ id: 'HANDLER-DATES', studyDate, modality: 'CT' }),
          { tag: 0x0020000d, vr: 'UI', value: uid },
          ...imageElements({ rows: 2, columns: 2, pixels: [1, 2, 3, 4] }),
        ],
        { sopInstanceUid: `${uid}.1` },
      ),
    );
  const listStudies = async (query: Record<string, string>) =>
    studies(apiEvent({ method: 'GET', resource: '/studies', path: '/studies', query }));
  const uids = async (query: Record<string, string>) => {
    const response = await listStudies(query);
    expect(response.statusCode, JSON.stringify(query)).toBe(200);
    const page = body(response) as { studies: { study_instance_uid: string }[]; next_cursor: string | null };
    return { uids: page.studies.map((row) => row.study_instance_uid), next: page.next_cursor };
  };

  it('keeps the studies dated in a day or a range (either end open), newest first, paged; undated ones in none', async () => {
    await dated('1.2.840.99.7.1', '19910305');
    await dated('1.2.840.99.7.2', '19920710');
    await dated('1.2.840.99.7.3', '19921120');
    await dated('1.2.840.99.7.4', '');
    expect((await uids({ study_date: '19920101-19921231' })).uids).toEqual(['1.2.840.99.7.3', '1.2.840.99.7.2']);
    expect((await uids({ study_date: '19910305' })).uids).toEqual(['1.2.840.99.7.1']);
    expect((await uids({ study_date: '-19911231' })).uids).toEqual(['1.2.840.99.7.1']);
    const all = await uids({ study_date: '19900101-' });
    expect(all.uids.slice(-3)).toEqual(['1.2.840.99.7.3', '1.2.840.99.7.2', '1.2.840.99.7.1']);
    expect(all.uids).not.toContain('1.2.840.99.7.4');
    const first = await uids({ study_date: '19900101-19921231', limit: '2' });
    expect(first.uids).toEqual(['1.2.840.99.7.3', '1.2.840.99.7.2']);
    const second = await uids({ study_date: '19900101-19921231', limit: '2', cursor: first.next! });
    expect(second).toEqual({ uids: ['1.2.840.99.7.1'], next: null });
    // A cursor belongs to its filter; other filters and bad dates are refused with the parameter named.
    const moved = await listStudies({ study_date: '19920101-19921231', cursor: first.next! });
    expect([moved.statusCode, body(moved).code]).toEqual([400, 'CURSOR_MISMATCH']);
    const bad = await listStudies({ study_date: '1992' });
    expect([bad.statusCode, body(bad).code, body(bad).parameter]).toEqual([400, 'INVALID_PARAMETER', 'study_date']);
    const other = await listStudies({ patient_id: 'HANDLER-DATES' });
    expect([other.statusCode, body(other).code]).toEqual([400, 'BAD_QUERY']);
  });
});

describe('duplicates', () => {
  it('the same SOP Instance UID in different bytes: both records say so after processing', async () => {
    const sop = '1.2.840.99.5.1.1';
    const a = await uploaded(file('1.2.840.99.5', { sop }));
    const b = await uploaded(file('1.2.840.99.5', { sop, modality: 'MR' }));
    for (const id of [a, b]) await processor(s3Event(KEYS.upload(id)));
    expect((await getStores().records.get(a))?.duplicate_of).toEqual([b]);
    expect((await getStores().records.get(b))?.duplicate_of).toEqual([a]);
  });

  it('two direct uploads of the same file that finish together still name each other (5 trials)', async () => {
    const { records } = getStores();
    const request = { filename: 'big.dcm', sizeBytes: 200 * 1024 * 1024 };
    for (let trial = 0; trial < 5; trial++) {
      const ids = ['a', 'b'].map((end) => `00000000-0000-4000-8000-00000000${trial}00${end}`);
      for (const id of ids)
        await records.create(pendingRecord(id, request, planUpload(request.sizeBytes, false), undefined));
      // Direct uploads learn hash and SOP Instance UID only from their bytes, in the processor.
      const received = { size_bytes: 10, sha256: `${'cd'.repeat(31)}0${trial}` };
      for (const id of ids) await records.markReceived(id, received, new Date(Date.now() + 60_000).toISOString());
      const result: ProcessedResult = {
        dicom_info: {
          PatientName: null,
          PatientID: 'P',
          StudyDate: null,
          StudyDescription: null,
          Modality: 'CT',
          ImageDimensions: null,
        },
        patient_id: 'P',
        modality: 'CT',
        study_date: null,
        sop_instance_uid: `1.2.840.99.6.${trial}`,
        sop_class_uid: null,
        study_instance_uid: `1.2.840.99.6.${trial}.1`,
        series_instance_uid: null,
        transfer_syntax_uid: null,
        number_of_frames: null,
        image: { state: 'NO_IMAGE' },
        attribute_count: 1,
        schema_version: 1,
      };
      await Promise.all(ids.map((id) => records.markReady(id, result)));
      expect((await records.get(ids[0]!))?.duplicate_of, `trial ${trial}`).toEqual([ids[1]]);
      expect((await records.get(ids[1]!))?.duplicate_of, `trial ${trial}`).toEqual([ids[0]]);
    }
  });

  it('the same bytes without a SOP Instance UID: found by their hash; a different file is not a copy', async () => {
    const noSop = (pixel: number) =>
      buildDicom(
        [
          ...patientElements({ id: 'HANDLER-NOSOP', modality: 'OT' }),
          { tag: 0x00080018, vr: 'UI', value: '' },
          ...imageElements({ rows: 2, columns: 2, pixels: [pixel, 1, 2, 3] }),
        ],
        { noMeta: true },
      );
    const a = await uploaded(noSop(7));
    const b = await uploaded(noSop(7));
    const other = await uploaded(noSop(8));
    for (const id of [a, b, other]) await processor(s3Event(KEYS.upload(id)));
    const { records } = getStores();
    expect((await records.get(a))?.sop_instance_uid ?? null).toBeNull();
    expect((await records.get(a))?.duplicate_of).toEqual([b]);
    expect((await records.get(b))?.duplicate_of).toEqual([a]);
    expect((await records.get(other))?.duplicate_of ?? []).toEqual([]);
  });
});

describe('logs', () => {
  it('a search or listing logs index, counts and timings, never the patient identifier or the cursor', async () => {
    const marker = 'PHI-MARKER-424242';
    const written: string[] = [];
    const capture =
      (original: typeof process.stdout.write) =>
      (chunk: unknown, ...rest: unknown[]): boolean => {
        written.push(String(chunk));
        return (original as (...args: unknown[]) => boolean)(chunk, ...rest);
      };
    const out = process.stdout.write;
    const err = process.stderr.write;
    logger.setLogLevel('DEBUG');
    process.stdout.write = capture(out) as typeof process.stdout.write;
    process.stderr.write = capture(err) as typeof process.stderr.write;
    try {
      const listed = await list(
        apiEvent({ method: 'GET', resource: '/dicom', path: '/dicom', query: { patient_id: marker, limit: '1' } }),
      );
      expect(listed.statusCode).toBe(200);
      await search(searchEvent(JSON.stringify({ patient_id: marker, modality: 'CT' })));
      await search(searchEvent(JSON.stringify({ patient_id: `${marker}\\` })));
      await list(
        apiEvent({
          method: 'GET',
          resource: '/dicom',
          path: '/dicom',
          query: { cursor: `${marker}xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx` },
        }),
      );
    } finally {
      process.stdout.write = out;
      process.stderr.write = err;
      logger.setLogLevel('SILENT');
    }
    const log = written.join('');
    expect(log).toContain('"listed"');
    expect(log).toContain('files-by-patient');
    expect(log).not.toContain(marker);
  });
});
