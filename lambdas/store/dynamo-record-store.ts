// RecordStore on DynamoDB: one item per file, listed newest first through a GSI Query (never a Scan).
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { TABLE } from '../config.js';
import type { FileRecord, ProcessedResult, RecordStore } from './records.js';

const MARSHALL = { removeUndefinedValues: true, convertClassInstanceToMap: false } as const;

function isConditionFailure(error: unknown): boolean {
  return (
    error instanceof ConditionalCheckFailedException ||
    (error as { name?: string }).name === 'ConditionalCheckFailedException'
  );
}

function toRecord(item: Record<string, AttributeValue>): FileRecord {
  const { list_pk: _listPk, ...record } = unmarshall(item);
  return record as FileRecord;
}

export class DynamoRecordStore implements RecordStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async create(record: FileRecord): Promise<void> {
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: marshall({ ...record, [TABLE.listIndex.partitionKey]: TABLE.listPartition }, MARSHALL),
        ConditionExpression: 'attribute_not_exists(#id)',
        ExpressionAttributeNames: { '#id': TABLE.partitionKey },
      }),
    );
  }

  async get(id: string): Promise<FileRecord | undefined> {
    const response = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: marshall({ [TABLE.partitionKey]: id }),
        ConsistentRead: true,
      }),
    );
    return response.Item ? toRecord(response.Item) : undefined;
  }

  async list(): Promise<FileRecord[]> {
    const records: FileRecord[] = [];
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: TABLE.listIndex.name,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': TABLE.listIndex.partitionKey },
          ExpressionAttributeValues: marshall({ ':pk': TABLE.listPartition }),
          ScanIndexForward: false,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) records.push(toRecord(item));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return records;
  }

  /** Sets fields on an existing record only: a record deleted meanwhile must not come back. */
  private async updateExisting(id: string, fields: Record<string, unknown>, remove: string[] = []): Promise<boolean> {
    const names: Record<string, string> = { '#id': TABLE.partitionKey };
    const values: Record<string, unknown> = {};
    const sets = Object.entries(fields).map(([field, value], i) => {
      names[`#f${i}`] = field;
      values[`:v${i}`] = value;
      return `#f${i} = :v${i}`;
    });
    const removes = remove.map((field, i) => {
      names[`#r${i}`] = field;
      return `#r${i}`;
    });
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: marshall({ [TABLE.partitionKey]: id }),
          UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
          ConditionExpression: 'attribute_exists(#id)',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: marshall(values, MARSHALL),
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  markReady(id: string, result: ProcessedResult): Promise<boolean> {
    const { attribute_count: _count, ...fields } = result;
    return this.updateExisting(id, { ...fields, status: 'READY', modified_at: new Date().toISOString() }, ['error']);
  }

  markFailed(id: string, reason: string): Promise<boolean> {
    return this.updateExisting(id, { status: 'FAILED', error: reason, modified_at: new Date().toISOString() });
  }

  async delete(id: string): Promise<boolean> {
    try {
      await this.client.send(
        new DeleteItemCommand({
          TableName: this.tableName,
          Key: marshall({ [TABLE.partitionKey]: id }),
          ConditionExpression: 'attribute_exists(#id)',
          ExpressionAttributeNames: { '#id': TABLE.partitionKey },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }
}
