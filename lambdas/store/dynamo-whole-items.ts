// What a Query of a KEYS_ONLY index (`-c listingIndexes=keysOnly`) returns is the keys of each item: the whole items
// are read by key (BatchGetItem) so that every reader goes on exactly as with an ALL index.
import { BatchGetItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { TABLE, type IndexDefinition } from '../config.js';
import { StorageBusy } from './errors.js';

type Item = Record<string, AttributeValue>;

/** BatchGetItem reads at most 100 keys a request. */
const KEYS_PER_REQUEST = 100;
/** Rounds of retrying keys DynamoDB left unprocessed (throttling), with back-off, before the page fails. */
const UNPROCESSED_RETRIES = 8;

/** Whether an index item is the keys alone (table key plus the index's own keys): a KEYS_ONLY copy. */
export function isKeysOnly(item: Item, index: IndexDefinition): boolean {
  return Object.keys(item).every(
    (name) => name === TABLE.partitionKey || name === index.partitionKey || name === index.sortKey,
  );
}

/**
 * The whole items of a page of index items, in the index's order. Items that came whole (an ALL index) are kept as
 * they are; keys-only ones are read by key, up to 100 a request and the requests side by side, unprocessed keys
 * retried. An item deleted since the index was read is dropped. Each fetched item keeps the index keys it was found
 * under, so its place in the merge and the page's cursor are positions in the index even if the item changed since.
 */
export async function withWholeItems(
  client: DynamoDBClient,
  tableName: string,
  index: IndexDefinition,
  items: readonly Item[],
): Promise<{ items: Item[]; readUnits: number }> {
  const missing = items.filter((item) => isKeysOnly(item, index));
  if (missing.length === 0) return { items: [...items], readUnits: 0 };
  const ids = [...new Set(missing.map((item) => item[TABLE.partitionKey]?.S ?? ''))];
  const found = new Map<string, Item>();
  let readUnits = 0;

  async function read(keys: Item[]): Promise<void> {
    for (let attempt = 0; keys.length > 0; attempt++) {
      if (attempt > UNPROCESSED_RETRIES) throw new StorageBusy(`BatchGetItem left ${keys.length} keys unprocessed`);
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 10 * 2 ** (attempt - 1)));
      const response = await client.send(
        new BatchGetItemCommand({
          RequestItems: { [tableName]: { Keys: keys } },
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      for (const consumed of response.ConsumedCapacity ?? []) readUnits += consumed.CapacityUnits ?? 0;
      for (const item of response.Responses?.[tableName] ?? []) {
        const id = item[TABLE.partitionKey]?.S;
        if (id !== undefined) found.set(id, item);
      }
      keys = response.UnprocessedKeys?.[tableName]?.Keys ?? [];
    }
  }

  const requests: Promise<void>[] = [];
  for (let start = 0; start < ids.length; start += KEYS_PER_REQUEST) {
    const chunk = ids.slice(start, start + KEYS_PER_REQUEST);
    requests.push(read(chunk.map((id) => ({ [TABLE.partitionKey]: { S: id } }))));
  }
  await Promise.all(requests);

  const whole: Item[] = [];
  for (const item of items) {
    if (!isKeysOnly(item, index)) {
      whole.push(item);
      continue;
    }
    const full = found.get(item[TABLE.partitionKey]?.S ?? '');
    if (!full) continue;
    const keys: Item = {};
    for (const name of [index.partitionKey, index.sortKey]) if (item[name]) keys[name] = item[name];
    whole.push({ ...full, ...keys });
  }
  return { items: whole, readUnits };
}
