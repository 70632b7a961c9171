// A storage that throttles through every retry is answered 503 STORAGE_BUSY with Retry-After (the client retries),
// not 500 (a bug), and the processor retries such a fault instead of failing the file.
import { BatchGetItemCommand, DynamoDBClient, ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { describe, expect, it, vi } from 'vitest';
import { clientError } from '../../lambdas/http/domain-errors.js';
import { DynamoRecordStore } from '../../lambdas/store/dynamo-record-store.js';
import { StorageBusy } from '../../lambdas/store/errors.js';

const IDS = ['6f1c2d4e-8a9b-4c0d-9e1f-2a3b4c5d6e7f', '0e1c2d4e-8a9b-4c0d-9e1f-2a3b4c5d6e7f'];

/** A DynamoDB client whose every BatchGetItem leaves all its keys unprocessed (what throttling looks like). */
function throttledClient(): { client: DynamoDBClient; batches: () => number } {
  let batches = 0;
  const client = {
    send: vi.fn(async (command: unknown) => {
      if (!(command instanceof BatchGetItemCommand)) throw new Error('unexpected command');
      batches++;
      const requested = command.input.RequestItems!;
      return { Responses: {}, UnprocessedKeys: requested };
    }),
  } as unknown as DynamoDBClient;
  return { client, batches: () => batches };
}

describe('a throttled storage', () => {
  it('a batch read left unprocessed through every retry is StorageBusy, answered 503 STORAGE_BUSY', async () => {
    const { client, batches } = throttledClient();
    const store = new DynamoRecordStore(client, 'table');
    const failure = await store.getMany(IDS).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(StorageBusy);
    expect(batches(), 'retried before giving up').toBeGreaterThan(1);
    const answer = clientError(failure);
    expect(answer?.status).toBe(503);
    expect(answer?.code).toBe('STORAGE_BUSY');
    expect(answer?.extra.headers?.['Retry-After']).toBeDefined();
    expect(answer?.message, 'no id in the message').not.toMatch(/[0-9a-f]{8}-/);
  });

  it("the SDK's throttling errors (after its own retries) are 503 STORAGE_BUSY; other SDK errors stay bugs (500)", () => {
    const throttled = new ProvisionedThroughputExceededException({ message: 'rate exceeded', $metadata: {} });
    expect(clientError(throttled)?.code).toBe('STORAGE_BUSY');
    expect(clientError(Object.assign(new Error('slow down'), { name: 'SlowDown' }))?.status).toBe(503);
    expect(clientError(Object.assign(new Error('x'), { name: 'ValidationException' }))).toBeUndefined();
    expect(clientError(new Error('plain'))).toBeUndefined();
  });
});
