// Every request the emulators serve, counted by caller and operation: the round trips each API operation costs,
// measured from the code that makes them (npm run bench:vs-orthanc prints them; npm run cost prices them).
import type { IncomingMessage } from 'node:http';

/** Requests per storage operation, e.g. `{ 'DynamoDB UpdateItem': 3, 'S3 PutObject': 4 }`. */
export type CallCounts = Record<string, number>;

/** The SDK's user-agent app id (AWS_SDK_UA_APP_ID) names the caller; the local runtime gives the processor its own. */
export const PROCESSOR_APP_ID = 'processor';

/** The S3 REST operation of a path-style request (bucket first), as S3's API reference names it. */
export function s3Operation(method: string, url: string): string {
  const { pathname, searchParams } = new URL(url, 'http://s3.local');
  const hasKey = /^\/*[^/]+\/./.test(pathname);
  const has = (name: string) => searchParams.has(name);
  if (!hasKey) {
    if (method === 'GET' && has('list-type')) return 'ListObjectsV2';
    if (method === 'GET') return has('cors') ? 'GetBucketCors' : 'ListObjects';
    if (method === 'POST' && has('delete')) return 'DeleteObjects';
    if (method === 'PUT') return has('cors') ? 'PutBucketCors' : 'CreateBucket';
    if (method === 'HEAD') return 'HeadBucket';
    return `${method} bucket`;
  }
  if (method === 'POST' && has('uploads')) return 'CreateMultipartUpload';
  if (method === 'POST' && has('uploadId')) return 'CompleteMultipartUpload';
  if (method === 'PUT' && has('uploadId')) return 'UploadPart';
  if (method === 'DELETE' && has('uploadId')) return 'AbortMultipartUpload';
  if (method === 'PUT') return 'PutObject';
  if (method === 'GET') return 'GetObject';
  if (method === 'HEAD') return 'HeadObject';
  if (method === 'DELETE') return 'DeleteObject';
  return `${method} object`;
}

/** Counts each request by caller (`processor` or `api`) and `S3 <operation>` / `DynamoDB <operation>`. */
export class StorageCallCounter {
  private readonly counts = new Map<string, CallCounts>();

  record(service: 'S3' | 'DynamoDB', req: IncomingMessage): void {
    if (req.method === 'OPTIONS') return;
    const agent = String(req.headers['user-agent'] ?? '');
    const caller = agent.includes(`app/${PROCESSOR_APP_ID}`) ? PROCESSOR_APP_ID : 'api';
    const operation =
      service === 'S3'
        ? s3Operation(req.method ?? 'GET', req.url ?? '/')
        : String(req.headers['x-amz-target'] ?? 'unknown').split('.')[1];
    const byCaller = this.counts.get(caller) ?? {};
    const name = `${service} ${operation}`;
    byCaller[name] = (byCaller[name] ?? 0) + 1;
    this.counts.set(caller, byCaller);
  }

  /** What was counted since the last take, by caller; the counters restart from zero. */
  take(): Record<string, CallCounts> {
    const taken = Object.fromEntries(this.counts);
    this.counts.clear();
    return taken;
  }
}

/** The number of requests in a set of counts. */
export function totalCalls(counts: CallCounts | undefined): number {
  return Object.values(counts ?? {}).reduce((sum, n) => sum + n, 0);
}
