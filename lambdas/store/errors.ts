// The store's own errors: a request the store cannot serve, in storage words. lambdas/http/domain-errors.ts maps
// them to HTTP answers with the domain's, at the edge.

/** A page position (`PageRequest.after`) that does not belong to the query it was given to. */
export class InvalidPagePosition extends Error {
  readonly code = 'INVALID_CURSOR';

  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/**
 * The storage would not serve the request now (DynamoDB left keys of a batch read unprocessed through every retry:
 * throttling): nothing is wrong with the request, and the same request shortly should work.
 */
export class StorageBusy extends Error {
  readonly code = 'STORAGE_BUSY';

  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** SDK errors that say the storage throttled the call after the SDK's own retries (DynamoDB, S3). */
const THROTTLING = new Set([
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'SlowDown',
]);

/** Whether `error` is the storage being busy (ours, or the SDK's throttling), not a bug or a bad request. */
export function isStorageBusy(error: unknown): boolean {
  if (error instanceof StorageBusy) return true;
  const sdk = error as { name?: unknown; $retryable?: { throttling?: boolean } } | null;
  return typeof sdk?.name === 'string' && (THROTTLING.has(sdk.name) || sdk.$retryable?.throttling === true);
}
