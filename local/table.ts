// The local table, created from lambdas/config.ts TABLE as CDK creates it, and upgraded when an older runtime made it.
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  PutItemCommand,
  ResourceNotFoundException,
  ScanCommand,
  type AttributeValue,
  type CreateTableCommandInput,
} from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { TABLE, tableIndexes, tableKeyAttributes, type ListingIndexes } from '../lambdas/config.js';
import { indexedInfoFields } from '../lambdas/dicom/identifiers.js';
import { listingIndexesFromEnv } from '../lambdas/commons.js';
import { DynamoRecordStore } from '../lambdas/store/dynamo-record-store.js';
import { fromFileItem } from '../lambdas/store/index-keys.js';

type Item = Record<string, AttributeValue>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** `listing`: how the file listing indexes project the item (LISTING_INDEXES for `npm start`; default `all`). */
export function createTableInput(tableName: string, listing: ListingIndexes = 'all'): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: tableKeyAttributes().map((name) => ({ AttributeName: name, AttributeType: 'S' })),
    KeySchema: [{ AttributeName: TABLE.partitionKey, KeyType: 'HASH' }],
    GlobalSecondaryIndexes: tableIndexes(listing).map((index) => ({
      IndexName: index.name,
      KeySchema: [
        { AttributeName: index.partitionKey, KeyType: 'HASH' },
        { AttributeName: index.sortKey, KeyType: 'RANGE' },
      ],
      Projection: {
        ProjectionType: index.projection,
        ...(index.nonKeyAttributes ? { NonKeyAttributes: [...index.nonKeyAttributes] } : {}),
      },
    })),
  };
}

/**
 * What must match for an existing table to serve as is: each index's name, keys and projection (a projection that
 * changed is a different index: dynalite, like DynamoDB, cannot change it in place).
 */
function indexSignature(index: {
  IndexName?: string;
  KeySchema?: { AttributeName?: string; KeyType?: string }[];
  Projection?: { ProjectionType?: string; NonKeyAttributes?: string[] };
}): string {
  const keys = (index.KeySchema ?? []).map((k) => `${k.KeyType}=${k.AttributeName}`).join(',');
  const projection = [
    index.Projection?.ProjectionType ?? 'ALL',
    ...[...(index.Projection?.NonKeyAttributes ?? [])].sort(),
  ];
  return `${index.IndexName ?? ''}(${keys}) ${projection.join(',')}`;
}

/** The signatures of the indexes TABLE defines, sorted. */
export function wantedIndexSignatures(listing: ListingIndexes = 'all'): string[] {
  return (createTableInput('', listing).GlobalSecondaryIndexes ?? []).map(indexSignature).sort();
}

async function describe(client: DynamoDBClient, tableName: string): Promise<string[] | undefined> {
  return (await describeTable(client, tableName))?.indexes;
}

async function describeTable(
  client: DynamoDBClient,
  tableName: string,
): Promise<{ indexes: string[]; status: string } | undefined> {
  try {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    return {
      indexes: (Table?.GlobalSecondaryIndexes ?? []).map(indexSignature).sort(),
      status: Table?.TableStatus ?? '',
    };
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return undefined;
    throw error;
  }
}

/**
 * Creates the table and waits until it is ACTIVE: dynalite answers CreateTable with a CREATING table
 * that every item operation reports as missing until a timer flips it, so the first upload after a
 * fast start could fail with ResourceNotFoundException.
 */
async function createTable(client: DynamoDBClient, tableName: string, listing: ListingIndexes): Promise<void> {
  await client.send(new CreateTableCommand(createTableInput(tableName, listing)));
  if (!(await untilActive(client, tableName, 10_000))) throw new Error(`table ${tableName} did not become ACTIVE`);
}

/** Whether the table is ACTIVE within `waitMs`. */
async function untilActive(client: DynamoDBClient, tableName: string, waitMs: number): Promise<boolean> {
  const deadline = Date.now() + waitMs;
  while ((await describeTable(client, tableName))?.status !== 'ACTIVE') {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return true;
}

async function scanAll(client: DynamoDBClient, tableName: string): Promise<Item[]> {
  const items: Item[] = [];
  let startKey: Item | undefined;
  do {
    const page = await client.send(
      new ScanCommand({ TableName: tableName, ...(startKey ? { ExclusiveStartKey: startKey } : {}) }),
    );
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}

async function recreate(client: DynamoDBClient, tableName: string, listing: ListingIndexes): Promise<void> {
  if (await describe(client, tableName)) {
    await client.send(new DeleteTableCommand({ TableName: tableName }));
    const deadline = Date.now() + 10_000;
    while (await describe(client, tableName)) {
      if (Date.now() > deadline) throw new Error(`table ${tableName} was not deleted`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  await createTable(client, tableName, listing);
}

/**
 * Writes the saved items into the new table. File records go through the RecordStore, which
 * derives their index keys (and, for records older than the indexes, the indexed fields from
 * dicom_info) and rebuilds study counts and duplicate links; study items are rebuilt, not copied.
 */
async function restore(
  client: DynamoDBClient,
  tableName: string,
  items: Item[],
  listing: ListingIndexes,
): Promise<void> {
  const store = new DynamoRecordStore(client, tableName, listing);
  for (const item of items) {
    const id = item[TABLE.partitionKey]?.S ?? '';
    if (id.startsWith('STUDY#')) continue;
    if (!UUID.test(id)) {
      await client.send(new PutItemCommand({ TableName: tableName, Item: item }));
      continue;
    }
    const { duplicate_of: _duplicates, ...record } = fromFileItem(unmarshall(item));
    const fromInfo = indexedInfoFields(record.dicom_info);
    record.patient_id ??= fromInfo.patient_id;
    record.modality ??= fromInfo.modality;
    record.study_date ??= fromInfo.study_date;
    try {
      await store.create(record);
    } catch (error) {
      // A restore cut short and resumed finds some records already written.
      if ((error as { name?: string }).name !== 'ConditionalCheckFailedException') throw error;
    }
    await store.linkToCopies(record);
  }
}

/**
 * Creates the table when it is missing. A table whose indexes differ from TABLE in name, keys or projection (made by
 * an older runtime: dynalite cannot add or change an index of a table) is upgraded: its items are saved to
 * `<dataDir>/<table>.upgrade.json`, the table is recreated and the items written back; a start cut
 * short in between finds the file and finishes the job. Switching `listing` (LISTING_INDEXES) is such an upgrade.
 */
export async function ensureTable(
  endpoint: string,
  tableName: string,
  dataDir: string,
  listing: ListingIndexes = listingIndexesFromEnv(),
): Promise<void> {
  const client = new DynamoDBClient({
    endpoint,
    region: process.env.AWS_REGION ?? 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const saved = join(dataDir, `${tableName}.upgrade.json`);
  try {
    const wanted = wantedIndexSignatures(listing);
    const existing = await describe(client, tableName);
    if (existsSync(saved)) {
      if (existing?.join() !== wanted.join()) await recreate(client, tableName, listing);
    } else if (!existing) {
      await createTable(client, tableName, listing);
      return;
    } else if (existing.join() === wanted.join()) {
      // A start stopped inside dynalite's creation timer leaves the table CREATING for good, and
      // dynalite refuses to delete a CREATING table. It never held an item: say how to start over.
      if (!(await untilActive(client, tableName, 2_000))) {
        throw new Error(
          `table ${tableName} is stuck CREATING (an earlier first start was interrupted); it holds no data: ` +
            `remove ${join(dataDir, 'dynamodb')} and start again`,
        );
      }
      return;
    } else {
      const items = await scanAll(client, tableName);
      writeFileSync(`${saved}.tmp`, JSON.stringify(items));
      renameSync(`${saved}.tmp`, saved);
      await recreate(client, tableName, listing);
    }
    await restore(client, tableName, JSON.parse(readFileSync(saved, 'utf8')) as Item[], listing);
    rmSync(saved);
  } finally {
    client.destroy();
  }
}
