// Handler tests: the Lambda handlers on API Gateway / S3 event shapes, against the embedded emulators.
import { describe, expect, it } from 'vitest';
import { getStores, setStores } from '../../lambdas/commons.js';
import { KEYS } from '../../lambdas/config.js';
import { handler as attributes } from '../../lambdas/handlers/attributes.js';
import { handler as del } from '../../lambdas/handlers/delete.js';
import { handler as get } from '../../lambdas/handlers/get.js';
import { handler as png } from '../../lambdas/handlers/png.js';
import { handler as processor } from '../../lambdas/handlers/processor.js';
import { handler as upload } from '../../lambdas/handlers/upload.js';
import type { RecordStore } from '../../lambdas/store/records.js';
import { buildDicom, imageElements, patientElements, sampleCt } from '../fixtures/dicom-builder.js';
import { useEmulatedStorage } from '../support/emulated-storage.js';
import { apiEvent, idEvent, s3Event, uploadEvent } from '../support/events.js';

useEmulatedStorage('handlers');

async function uploaded(): Promise<string> {
  const response = await upload(await uploadEvent(sampleCt(), 'a b+c.dcm'));
  expect(response.statusCode).toBe(201);
  return (JSON.parse(response.body) as { id: string }).id;
}

describe('upload', () => {
  it('decodes the base64 multipart body API Gateway sends and records the file as PROCESSING', async () => {
    const id = await uploaded();
    const record = await getStores().records.get(id);
    expect(record).toMatchObject({ id, filename: 'a b+c.dcm', status: 'PROCESSING', size_bytes: sampleCt().length });
    expect(await getStores().objects.get(KEYS.upload(id))).toEqual(sampleCt());
  });

  it('a JSON body (sent as text, not base64) is a 400, not a 500', async () => {
    const response = await upload(
      apiEvent({
        method: 'POST',
        resource: '/dicom',
        path: '/dicom',
        headers: { 'content-type': 'application/json' },
        body: Buffer.from('{"a":1}'),
        base64: false,
      }),
    );
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body)).toMatchObject({ code: 'NOT_MULTIPART' });
  });
});

describe('storage faults during upload', () => {
  it('a failing object store leaves no record and no study count behind, and answers 503 with Retry-After', async () => {
    const real = getStores();
    const before = (await real.records.listFiles({}, { limit: 1000 })).items.length;
    const studyUid = '1.2.826.0.1.3680043.8.498.88.1';
    setStores({
      records: real.records,
      objects: { ...real.objects, put: () => Promise.reject(new Error('S3 is down')) },
    } as typeof real);
    const bytes = buildDicom([
      ...patientElements({ modality: 'CT' }),
      { tag: 0x0020000d, vr: 'UI', value: studyUid },
      ...imageElements({ rows: 2, columns: 2, pixels: [1, 2, 3, 4] }),
    ]);
    const response = await upload(await uploadEvent(bytes, 'fault.dcm'));
    expect(response.statusCode).toBe(503);
    expect(response.headers?.['Retry-After']).toBe('5');
    expect(JSON.parse(response.body)).toMatchObject({ code: 'STORAGE_FAILED' });
    setStores(real);
    expect((await real.records.listFiles({}, { limit: 1000 })).items.length).toBe(before);
    expect(await real.records.getStudy(studyUid)).toBeUndefined();
  });
});

describe('storage faults after the bytes are stored', () => {
  it('an upload whose bookkeeping fails after the processor ran answers 503 and leaves no object behind', async () => {
    const real = getStores();
    let id = '';
    setStores({
      objects: real.objects,
      records: {
        ...real.records,
        delete: (i, alongside) => real.records.delete(i, alongside),
        // Record and bytes are stored and the processor has run; then the study count fails.
        create: async (record, alongside) => {
          id = record.id;
          await real.records.create(record, alongside);
          await processor(s3Event(KEYS.upload(record.id)));
          throw new Error('DynamoDB throttled the study count');
        },
      },
    } as typeof real);
    const response = await upload(await uploadEvent(sampleCt(), 'late-fault.dcm'));
    setStores(real);
    expect(response.statusCode).toBe(503);
    expect(JSON.parse(response.body)).toMatchObject({ code: 'STORAGE_FAILED' });
    expect(await real.records.get(id)).toBeUndefined();
    for (const key of KEYS.allObjects(id)) expect(await real.objects.get(key), key).toBeUndefined();
  });

  it('a delete cut short by S3 answers 503; repeating it removes what was left, then says 404', async () => {
    const id = await uploaded();
    await processor(s3Event(KEYS.upload(id)));
    const real = getStores();
    setStores({
      records: real.records,
      objects: { ...real.objects, delete: () => Promise.reject(new Error('S3 is down')) },
    } as typeof real);
    const cut = await del(idEvent('/dicom/{id}', id, 'DELETE'));
    setStores(real);
    expect(cut.statusCode).toBe(503);
    expect(JSON.parse(cut.body)).toMatchObject({ code: 'STORAGE_FAILED' });
    expect(await real.objects.get(KEYS.upload(id))).toBeDefined(); // the record is gone, the bytes are not
    const repeat = await del(idEvent('/dicom/{id}', id, 'DELETE'));
    expect(repeat.statusCode).toBe(404);
    for (const key of KEYS.allObjects(id)) expect(await real.objects.get(key), key).toBeUndefined();
  });
});

describe('processor', () => {
  it('processes the object named by a URL-encoded S3 key and marks the record READY', async () => {
    const id = await uploaded();
    await processor(s3Event(KEYS.upload(id)));
    const record = await getStores().records.get(id);
    expect(record?.status).toBe('READY');
    expect(record?.image).toMatchObject({ state: 'RENDERED', width: 16, height: 16 });
    expect(await getStores().objects.get(KEYS.png(id))).toBeDefined();
  });

  it('a repeated event is harmless: same record, same outputs', async () => {
    const id = await uploaded();
    await processor(s3Event(KEYS.upload(id)));
    const first = await getStores().objects.get(KEYS.documents(id));
    expect(first).toBeDefined();
    const before = await getStores().records.get(id);
    await processor(s3Event(KEYS.upload(id)));
    expect(await getStores().objects.get(KEYS.documents(id))).toEqual(first);
    expect(await getStores().records.get(id)).toEqual(before);
  });

  it('a repeated event for a large file does not download it again; for a small one the read overlaps', async () => {
    const id = await uploaded();
    await processor(s3Event(KEYS.upload(id)));
    const real = getStores();
    const reads: string[] = [];
    setStores({
      records: real.records,
      objects: { ...real.objects, get: (key) => (reads.push(key), real.objects.get(key)) },
    } as typeof real);
    await processor(s3Event(KEYS.upload(id), 'ObjectCreated:Put', 700 * 1024 * 1024));
    expect(reads).toEqual([]); // the READY record answered first
    await processor(s3Event(KEYS.upload(id), 'ObjectCreated:Put', 2_000));
    expect(reads).toEqual([KEYS.upload(id)]); // read beside the record, then not needed
    setStores(real);
  });

  it('two processors racing on the same event: one READY record, counted once in its study, all outputs', async () => {
    const studyUid = '1.2.826.0.1.3680043.8.498.77.1';
    const bytes = buildDicom(
      [
        ...patientElements({ modality: 'CT' }),
        { tag: 0x0020000d, vr: 'UI', value: studyUid },
        ...imageElements({ rows: 4, columns: 4, pixels: new Array(16).fill(100) }),
      ],
      { sopInstanceUid: '1.2.826.0.1.3680043.8.498.77.2' },
    );
    const response = await upload(await uploadEvent(bytes, 'race.dcm'));
    const { id } = JSON.parse(response.body) as { id: string };
    await Promise.all([processor(s3Event(KEYS.upload(id))), processor(s3Event(KEYS.upload(id)))]);
    const { objects, records } = getStores();
    expect((await records.get(id))?.status).toBe('READY');
    expect((await records.getStudy(studyUid))?.number_of_instances).toBe(1);
    for (const key of [KEYS.png(id), KEYS.documents(id)]) expect(await objects.get(key), key).toBeDefined();
  });

  it('ignores events outside the upload prefix (its own PNG writes must not loop)', async () => {
    const id = await uploaded();
    await processor(s3Event(KEYS.png(id)));
    expect((await getStores().records.get(id))?.status).toBe('PROCESSING');
  });

  it('a file deleted while it was processed leaves no derived objects and no record behind', async () => {
    const id = await uploaded();
    const real = getStores();
    // The record vanishes between the processor's read and its final conditional update.
    const racing: RecordStore = {
      ...real.records,
      get: (i) => real.records.get(i),
      getMany: (ids) => real.records.getMany(ids),
      markReady: async (i, result) => {
        await real.records.delete(i);
        return real.records.markReady(i, result);
      },
      markFailed: (i, r) => real.records.markFailed(i, r),
      markReceived: (i, r, d) => real.records.markReceived(i, r, d),
      failProcessing: (i, r) => real.records.failProcessing(i, r),
      markReprocessing: (i, d) => real.records.markReprocessing(i, d),
      create: (r) => real.records.create(r),
      list: () => real.records.list(),
      delete: (i) => real.records.delete(i),
    };
    setStores({ objects: real.objects, records: racing });
    await processor(s3Event(KEYS.upload(id)));
    expect(await real.records.get(id)).toBeUndefined();
    for (const key of KEYS.derivedObjects(id)) expect(await real.objects.get(key), key).toBeUndefined();
  });
});

describe('reads while processing', () => {
  it('png and attributes answer 202 with Retry-After and {id, status} once the wait runs out', async () => {
    const id = await uploaded();
    for (const [read, resource] of [
      [png, '/dicom/{id}/png'],
      [attributes, '/dicom/{id}/attributes'],
    ] as const) {
      const response = await read(idEvent(resource, id));
      expect(response.statusCode).toBe(202);
      expect(response.headers?.['Retry-After']).toMatch(/^\d+$/);
      expect(JSON.parse(response.body)).toEqual({ id, status: 'PROCESSING' });
    }
  });

  it('a record whose processing failed answers 422 with the reason', async () => {
    const id = await uploaded();
    await getStores().records.markFailed(id, 'pixel data truncated');
    const response = await png(idEvent('/dicom/{id}/png', id));
    expect(response.statusCode).toBe(422);
    expect(JSON.parse(response.body).error).toMatch(/pixel data truncated/);
  });
});

describe('get and delete', () => {
  it('an id in upper case is the same file; delete then makes it 404', async () => {
    const id = await uploaded();
    expect((await get(idEvent('/dicom/{id}', id.toUpperCase()))).statusCode).toBe(200);
    expect((await del(idEvent('/dicom/{id}', id, 'DELETE'))).statusCode).toBe(200);
    expect((await get(idEvent('/dicom/{id}', id))).statusCode).toBe(404);
    expect(await getStores().objects.get(KEYS.upload(id))).toBeUndefined();
  });
});
