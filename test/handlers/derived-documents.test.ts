// Issue 24/21: the attributes document and the DICOM JSON share one derived object (one PUT); each reader takes its
// part with one ranged GET, answers byte for byte what the processor made, and files stored the old way (two
// objects, DERIVED_SCHEMA_VERSION 4) still answer the same until a reprocess moves them.
import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { getStores, setStores, type Stores } from '../../lambdas/commons.js';
import { ENV, KEYS } from '../../lambdas/config.js';
import { DERIVED_SCHEMA_VERSION, processDicom } from '../../lambdas/dicom/process.js';
import { handler as attributes } from '../../lambdas/handlers/attributes.js';
import { handler as del } from '../../lambdas/handlers/delete.js';
import { handler as metadata } from '../../lambdas/handlers/dicomwebMetadata.js';
import { handler as png } from '../../lambdas/handlers/png.js';
import { handler as processor } from '../../lambdas/handlers/processor.js';
import { handler as reprocess } from '../../lambdas/handlers/reprocess.js';
import { handler as upload } from '../../lambdas/handlers/upload.js';
import type { FileRecord } from '../../lambdas/store/records.js';
import { buildDicom, imageElements, patientElements } from '../fixtures/dicom-builder.js';
import { useEmulatedStorage } from '../support/emulated-storage.js';
import { apiEvent, idEvent, s3Event, uploadEvent } from '../support/events.js';

useEmulatedStorage('derived-documents');

const STUDY = '1.2.826.0.1.3680043.8.498.240.1';
const SERIES = `${STUDY}.1`;

/** A small CT slice of the test series, with a sequence (nested attributes) and pixel data (a BulkDataURI). */
function slice(n: number): Uint8Array {
  return buildDicom(
    [
      ...patientElements({ modality: 'CT', description: 'CHEST' }),
      { tag: 0x0020000d, vr: 'UI', value: STUDY },
      { tag: 0x0020000e, vr: 'UI', value: SERIES },
      { tag: 0x00200013, vr: 'IS', value: String(n) },
      { tag: 0x00081140, vr: 'SQ', value: { items: [[{ tag: 0x00081155, vr: 'UI', value: `${STUDY}.9.${n}` }]] } },
      ...imageElements({ rows: 4, columns: 4, pixels: new Array(16).fill(100 + n) }),
    ],
    { sopInstanceUid: `${SERIES}.${n}` },
  );
}

async function stored(bytes: Uint8Array): Promise<FileRecord> {
  const response = await upload(await uploadEvent(bytes, 'slice.dcm'));
  expect(response.statusCode, response.body).toBe(201);
  const { id } = JSON.parse(response.body) as { id: string };
  await processor(s3Event(KEYS.upload(id)));
  const record = (await getStores().records.get(id))!;
  expect(record.status).toBe('READY');
  return record;
}

function metadataEvent(record: FileRecord, level: 'instance' | 'series') {
  const instance = level === 'instance' ? `/instances/${record.sop_instance_uid}` : '';
  const resource = `/dicomweb/studies/{study}/series/{series}${level === 'instance' ? '/instances/{instance}' : ''}/metadata`;
  return apiEvent({
    method: 'GET',
    resource,
    path: `/dicomweb/studies/${STUDY}/series/${SERIES}${instance}/metadata`,
    pathParameters: {
      study: STUDY,
      series: SERIES,
      ...(level === 'instance' ? { instance: record.sop_instance_uid! } : {}),
    },
    headers: { Accept: 'application/dicom+json' },
  });
}

/** What a client sees: status, content type and body bytes. */
function seen(response: APIGatewayProxyResult): { status: number; type: unknown; body: string } {
  expect(response.isBase64Encoded ?? false).toBe(false);
  return { status: response.statusCode, type: response.headers?.['Content-Type'], body: response.body };
}

async function answers(record: FileRecord) {
  return {
    attributes: seen(await attributes(idEvent('/dicom/{id}/attributes', record.id))),
    tag: seen(await attributes(idEvent('/dicom/{id}/attributes', record.id, 'GET', { tag: '00081140' }))),
    instance: seen(await metadata(metadataEvent(record, 'instance'))),
  };
}

/** The storage requests `step` makes, by store and method. */
async function storageCalls(step: () => Promise<unknown>): Promise<string[]> {
  const real = getStores();
  const calls: string[] = [];
  const counted = <T extends object>(target: T, name: string): T =>
    new Proxy(target, {
      get(object, method, receiver) {
        const value = Reflect.get(object, method, receiver) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          calls.push(`${name}.${String(method)}${name === 'objects' ? ` ${String(args[0])}` : ''}`);
          return (value as (...a: unknown[]) => unknown).apply(object, args);
        };
      },
    });
  setStores({ objects: counted(real.objects, 'objects'), records: counted(real.records, 'records') } as Stores);
  try {
    await step();
  } finally {
    setStores(real);
  }
  return calls;
}

/** Turns a processed file into what DERIVED_SCHEMA_VERSION 4 left: two JSON objects, no documents object. */
async function asStoredBySchema4(record: FileRecord, bytes: Uint8Array): Promise<void> {
  const made = await processDicom(bytes);
  const { objects } = getStores();
  await objects.put(KEYS.attributes(record.id), made.attributesJson, 'application/json', { 'schema-version': '4' });
  await objects.put(KEYS.metadata(record.id), made.metadataJson, 'application/dicom+json', { 'schema-version': '4' });
  await objects.delete([KEYS.documents(record.id)]);
  const client = new DynamoDBClient({});
  try {
    await client.send(
      new UpdateItemCommand({
        TableName: process.env[ENV.tableName],
        Key: { id: { S: record.id } },
        UpdateExpression: 'SET schema_version = :v',
        ExpressionAttributeValues: { ':v': { N: '4' } },
      }),
    );
  } finally {
    client.destroy();
  }
}

describe('one derived object for both JSON documents', () => {
  it('the processor stores the PNG and one documents object, nothing else', async () => {
    const bytes = slice(1);
    const response = await upload(await uploadEvent(bytes, 'slice.dcm'));
    const { id } = JSON.parse(response.body) as { id: string };
    const calls = await storageCalls(() => processor(s3Event(KEYS.upload(id))));
    expect(calls.filter((call) => call.startsWith('objects.put')).sort()).toEqual(
      [`objects.put ${KEYS.documents(id)}`, `objects.put ${KEYS.png(id)}`].sort(),
    );
    expect((await getStores().objects.listKeys(KEYS.derivedFolder(id))).sort()).toEqual(
      [KEYS.documents(id), KEYS.png(id)].sort(),
    );
  });

  it('attributes and WADO-RS metadata answer the documents the processor made, byte for byte, one S3 GET each', async () => {
    const bytes = slice(2);
    const record = await stored(bytes);
    const made = await processDicom(bytes);
    const got = await answers(record);
    expect(got.attributes).toEqual({
      status: 200,
      type: 'application/json; charset=utf-8',
      body: Buffer.from(made.attributesJson).toString('utf8'),
    });
    expect(JSON.parse(got.tag.body)).toMatchObject({ tag: '0008,1140', vr: 'SQ' });
    // The stored DICOM JSON with its BulkDataURIs made absolute under the instance's URL.
    const uri = /"BulkDataURI":"([^"]*)bulkdata\/7FE00010"/.exec(got.instance.body)?.[1];
    expect(uri).toMatch(new RegExp(`/dicomweb/studies/${STUDY}/series/${SERIES}/instances/${SERIES}\\.2/$`));
    const dicomJson = Buffer.from(made.metadataJson).toString('utf8');
    expect(got.instance.status).toBe(200);
    expect(got.instance.body).toBe(
      `[${dicomJson.replaceAll('"BulkDataURI":"bulkdata/', `"BulkDataURI":"${uri}bulkdata/`)}]`,
    );

    // A processed file's attributes: one ranged GET, no record read.
    const reads = await storageCalls(() => attributes(idEvent('/dicom/{id}/attributes', record.id)));
    expect(reads).toEqual([`objects.getRange ${KEYS.documents(record.id)}`]);
    const instanceReads = await storageCalls(() => metadata(metadataEvent(record, 'instance')));
    expect(instanceReads.filter((call) => call.startsWith('objects.'))).toEqual([
      `objects.getRange ${KEYS.documents(record.id)}`,
    ]);
  });

  it('a file processed before schema 5 (attributes.json, metadata.json) answers exactly as before; a reprocess moves it', async () => {
    const bytes = [slice(3), slice(4)];
    const records = [await stored(bytes[0]!), await stored(bytes[1]!)];
    const before = await Promise.all(records.map(answers));
    const seriesBefore = seen(await metadata(metadataEvent(records[0]!, 'series')));
    expect(seriesBefore.status).toBe(200);

    await asStoredBySchema4(records[1]!, bytes[1]!);
    expect((await getStores().records.get(records[1]!.id))?.schema_version).toBe(4);
    expect(await Promise.all(records.map(answers))).toEqual(before);
    // The series answer is assembled again (its cached copy removed) from one file of each layout.
    const { objects } = getStores();
    const cached = (await objects.listKeys(KEYS.answerPrefix)).filter((key) => key.includes('metadata-'));
    await objects.delete(cached);
    expect(seen(await metadata(metadataEvent(records[0]!, 'series')))).toEqual(seriesBefore);
    // The old layout is read the old way: no documents object looked for once the record says schema 4.
    const reads = await storageCalls(() => metadata(metadataEvent(records[1]!, 'instance')));
    expect(reads.filter((call) => call.startsWith('objects.'))).toEqual([
      `objects.get ${KEYS.metadata(records[1]!.id)}`,
    ]);

    const requested = await reprocess(idEvent('/dicom/{id}/reprocess', records[1]!.id, 'POST'));
    expect(requested.statusCode).toBe(202);
    await processor(s3Event(KEYS.upload(records[1]!.id), 'ObjectCreated:Copy'));
    const moved = (await getStores().records.get(records[1]!.id))!;
    expect(moved).toMatchObject({ status: 'READY', schema_version: DERIVED_SCHEMA_VERSION });
    expect((await objects.listKeys(KEYS.derivedFolder(moved.id))).sort()).toEqual(
      [KEYS.documents(moved.id), KEYS.png(moved.id)].sort(),
    );
    expect(await answers(moved)).toEqual(before[1]);
  });

  it('a READY file whose record predates schema versions, stored the old way, still answers', async () => {
    const bytes = slice(5);
    const record = await stored(bytes);
    const before = await answers(record);
    await asStoredBySchema4(record, bytes);
    const client = new DynamoDBClient({});
    await client.send(
      new UpdateItemCommand({
        TableName: process.env[ENV.tableName],
        Key: { id: { S: record.id } },
        UpdateExpression: 'REMOVE schema_version',
      }),
    );
    client.destroy();
    expect((await getStores().records.get(record.id))?.schema_version).toBeUndefined();
    expect(await answers(record)).toEqual(before);
  });

  it('DELETE leaves no object of either layout, cached renderings included', async () => {
    const fresh = await stored(slice(6));
    const bytes = slice(7);
    const old = await stored(bytes);
    await asStoredBySchema4(old, bytes);
    for (const record of [fresh, old]) {
      const rendering = await png(idEvent('/dicom/{id}/png', record.id, 'GET', { max: '2' }));
      expect(rendering.statusCode).toBe(200);
      expect((await getStores().objects.listKeys(KEYS.derivedFolder(record.id))).length).toBeGreaterThanOrEqual(3);
      expect((await del(idEvent('/dicom/{id}', record.id, 'DELETE'))).statusCode).toBe(200);
      expect(await getStores().objects.listKeys(KEYS.derivedFolder(record.id))).toEqual([]);
      expect(await getStores().objects.head(KEYS.upload(record.id))).toBeUndefined();
      expect((await attributes(idEvent('/dicom/{id}/attributes', record.id))).statusCode).toBe(404);
    }
  });
});

describe('the processing path', () => {
  it('a file without pixel data: one PUT (its documents), no delete of a PNG it never had', async () => {
    const bytes = buildDicom([...patientElements({ modality: 'SR' })], { sopInstanceUid: `${SERIES}.99` });
    const response = await upload(await uploadEvent(bytes, 'report.dcm'));
    const { id } = JSON.parse(response.body) as { id: string };
    const calls = await storageCalls(() => processor(s3Event(KEYS.upload(id))));
    expect((await getStores().records.get(id))?.image).toEqual({ state: 'NO_IMAGE' });
    expect(calls.filter((call) => /^objects\.(put|delete)/.test(call))).toEqual([`objects.put ${KEYS.documents(id)}`]);
  });
});
