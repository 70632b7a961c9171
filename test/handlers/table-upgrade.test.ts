// A data folder from before the listing indexes: the local runtime upgrades its table in place, losing nothing.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import dynalite from 'dynalite';
import { afterAll, expect, it } from 'vitest';
import { TABLE, tableIndexes } from '../../lambdas/config.js';
import { DynamoRecordStore } from '../../lambdas/store/dynamo-record-store.js';
import { startEmulators, type Emulators } from '../../local/emulators.js';
import { createTableInput } from '../../local/table.js';
import { syntheticRecords } from '../support/synthetic-records.js';

const dataDir = mkdtempSync(join(tmpdir(), 'dicom-api-upgrade-'));
let emulators: Emulators | undefined;
afterAll(async () => {
  await emulators?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

/** The table and items exactly as the runtime before issue 9 wrote them (one list index, list_pk). */
async function writeOldTable(): Promise<void> {
  mkdirSync(join(dataDir, 'dynamodb'), { recursive: true });
  const server = dynalite({ path: join(dataDir, 'dynamodb'), createTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials });
  await client.send(
    new CreateTableCommand({
      TableName: 'old-table',
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'id', AttributeType: 'S' },
        { AttributeName: 'list_pk', AttributeType: 'S' },
        { AttributeName: 'created_at', AttributeType: 'S' },
      ],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      GlobalSecondaryIndexes: [
        {
          IndexName: 'by-created',
          KeySchema: [
            { AttributeName: 'list_pk', KeyType: 'HASH' },
            { AttributeName: 'created_at', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    }),
  );
  for (let i = 1; i <= 3; i++) {
    const created = `2025-01-0${i}T10:00:00.000Z`;
    await client.send(
      new PutItemCommand({
        TableName: 'old-table',
        Item: marshall({
          id: `00000000-0000-4000-8000-00000000000${i}`,
          list_pk: 'FILE',
          filename: `old-${i}.dcm`,
          size_bytes: 100,
          created_at: created,
          modified_at: created,
          status: 'READY',
          dicom_info: {
            PatientName: 'OLD^PATIENT',
            PatientID: 'OLD-1',
            StudyDate: '2019.03.04',
            StudyDescription: 'OLD STUDY',
            Modality: i === 3 ? 'mr' : 'CT',
            ImageDimensions: null,
          },
          sop_instance_uid: i === 2 ? '1.2.3.1' : `1.2.3.${i}`,
          sop_class_uid: null,
          study_instance_uid: '1.2.3',
          series_instance_uid: null,
          transfer_syntax_uid: null,
          number_of_frames: null,
        }),
      }),
    );
  }
  client.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

it('recreates the table with every index and writes the old records back, indexed, counted and linked', async () => {
  await writeOldTable();
  emulators = await startEmulators(dataDir, 'upgrade-bucket', 'old-table');
  const client = new DynamoDBClient({ endpoint: emulators.dynamoEndpoint, region: 'us-east-1', credentials });
  const { Table } = await client.send(new DescribeTableCommand({ TableName: 'old-table' }));
  expect(Table?.GlobalSecondaryIndexes?.map((i) => i.IndexName).sort()).toEqual(
    tableIndexes()
      .map((i) => i.name)
      .sort(),
  );
  expect(existsSync(join(dataDir, 'old-table.upgrade.json'))).toBe(false);

  const store = new DynamoRecordStore(client, 'old-table');
  const all = await store.listFiles({}, { limit: 10 });
  expect(all.items.map((r) => r.filename)).toEqual(['old-3.dcm', 'old-2.dcm', 'old-1.dcm']);
  // The indexed fields come from dicom_info (normalised: upper-case modality, YYYY.MM.DD read as a date).
  const mr = await store.listFiles(
    { patient_id: 'OLD-1', modality: 'MR', study_date: { from: '20190304', to: null } },
    { limit: 10 },
  );
  expect(mr.items.map((r) => r.filename)).toEqual(['old-3.dcm']);
  expect(await store.getStudy('1.2.3')).toMatchObject({ number_of_instances: 3, modalities_in_study: ['CT', 'MR'] });
  expect((await store.get('00000000-0000-4000-8000-000000000001'))?.duplicate_of).toEqual([
    '00000000-0000-4000-8000-000000000002',
  ]);
  client.destroy();
});

it('recreates a table whose index has another projection (same names), and every record survives', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dicom-api-projection-'));
  try {
    // The table as this runtime makes it, except files-by-series keeps only keys: a projection an older (or newer)
    // runtime chose. dynalite, like DynamoDB, cannot change a projection in place.
    mkdirSync(join(dir, 'dynamodb'), { recursive: true });
    const server = dynalite({ path: join(dir, 'dynamodb'), createTableMs: 0 });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const before = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials });
    const input = createTableInput('projection-table');
    const series = TABLE.indexes.filesBySeries.name;
    input.GlobalSecondaryIndexes = input.GlobalSecondaryIndexes!.map((index) =>
      index.IndexName === series ? { ...index, Projection: { ProjectionType: 'KEYS_ONLY' } } : index,
    );
    await before.send(new CreateTableCommand(input));
    const records = syntheticRecords(3, new Date('2025-02-01T00:00:00Z'), 7).map((r) => ({
      ...r,
      status: 'READY' as const,
    }));
    const oldStore = new DynamoRecordStore(before, 'projection-table');
    for (const record of records) await oldStore.create(record);
    const seriesUid = records[0]!.series_instance_uid!;
    // Keys only: the listing reads the items by key, so it shows them whole even before the upgrade.
    const keysOnly = await oldStore.listFiles({ series_uid: seriesUid }, { limit: 10 });
    const inSeries = records.filter((r) => r.series_instance_uid === seriesUid).map((r) => r.filename);
    expect(keysOnly.items.map((r) => r.filename).sort()).toEqual(inSeries.sort());
    before.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));

    const upgraded = await startEmulators(dir, 'projection-bucket', 'projection-table');
    const client = new DynamoDBClient({ endpoint: upgraded.dynamoEndpoint, region: 'us-east-1', credentials });
    try {
      const { Table } = await client.send(new DescribeTableCommand({ TableName: 'projection-table' }));
      const projection = Table?.GlobalSecondaryIndexes?.find((i) => i.IndexName === series)?.Projection;
      expect(projection?.ProjectionType).toBe(TABLE.indexes.filesBySeries.projection);
      expect(existsSync(join(dir, 'projection-table.upgrade.json'))).toBe(false);
      const store = new DynamoRecordStore(client, 'projection-table');
      const listed = await store.listFiles({ series_uid: seriesUid }, { limit: 10 });
      const expected = records.filter((r) => r.series_instance_uid === seriesUid).map((r) => r.filename);
      expect(listed.items.map((r) => r.filename).sort()).toEqual(expected.sort());
      expect((await store.list()).map((r) => r.id).sort()).toEqual(records.map((r) => r.id).sort());
    } finally {
      client.destroy();
      await upgraded.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
