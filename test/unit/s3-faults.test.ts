// S3 faults against the real adapter and SDK: only a 404 means "no such object"; a 403 (a missing grant, a KMS key
// the role may not use) is an error, so the processor fails and retries instead of leaving a file PROCESSING.
import { Readable } from 'node:stream';
import { S3Client } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import { KEYS } from '../../lambdas/config.js';
import { processUpload } from '../../lambdas/ingest/process-upload.js';
import type { FileRecord, RecordStore } from '../../lambdas/store/records.js';
import { S3ObjectStore } from '../../lambdas/store/s3-object-store.js';

interface Answer {
  status: number;
  /** S3's XML error body; HEAD answers have none. */
  code?: string;
  message?: string;
}

const clients: S3Client[] = [];
afterEach(() => clients.splice(0).forEach((client) => client.destroy()));

/** An S3 client whose every request S3 answers with `answer` (no network), and the requests it saw. */
function answering(answer: Answer): { store: S3ObjectStore; seen: string[] } {
  const seen: string[] = [];
  const client = new S3Client({
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' },
    maxAttempts: 1,
    requestHandler: {
      handle: async (request: { method: string; path: string }) => {
        seen.push(`${request.method} ${request.path}`);
        const xml =
          request.method === 'HEAD' || !answer.code
            ? ''
            : `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${answer.code}</Code><Message>${answer.message ?? ''}</Message><RequestId>R</RequestId></Error>`;
        return {
          response: {
            statusCode: answer.status,
            reason: '',
            headers: { 'content-type': 'application/xml', 'x-amz-request-id': 'R' },
            body: Readable.from([Buffer.from(xml)]),
          },
        };
      },
    } as never,
  });
  clients.push(client);
  return { store: new S3ObjectStore(client, 'bucket-1'), seen };
}

const ACCESS_DENIED: Answer = { status: 403, code: 'AccessDenied', message: 'Access Denied' };
const KMS_DENIED: Answer = {
  status: 403,
  code: 'AccessDenied',
  message: 'User: arn:aws:sts::123456789012:assumed-role/x is not authorized to perform: kms:Decrypt',
};
const ID = '5efb7e40-5880-4a82-88c3-b52644c4f703';

describe('S3ObjectStore: 403 is a fault, 404 is missing', () => {
  it.each([
    ['AccessDenied', ACCESS_DENIED],
    ['a KMS denial', KMS_DENIED],
  ])('get, getRange and head throw on %s (they used to answer "no such object")', async (_, answer) => {
    const { store, seen } = answering(answer);
    await expect(store.get(KEYS.upload(ID))).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } });
    await expect(store.get(KEYS.upload(ID), 'v1')).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } });
    await expect(store.getRange(KEYS.upload(ID), 0, 128)).rejects.toMatchObject({
      $metadata: { httpStatusCode: 403 },
    });
    await expect(store.head(KEYS.upload(ID))).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } });
    expect(seen).toHaveLength(4);
  });

  it('a 404 (NoSuchKey; HEAD answers NotFound without a body) is still "no such object"', async () => {
    const { store } = answering({ status: 404, code: 'NoSuchKey', message: 'The specified key does not exist.' });
    expect(await store.get(KEYS.upload(ID))).toBeUndefined();
    expect(await store.getRange(KEYS.upload(ID), 0, 128)).toBeUndefined();
    expect(await store.head(KEYS.upload(ID))).toBeUndefined();
  });

  it('the processor fails on a 403 (Lambda retries, then the dead letter marks it FAILED) rather than returning', async () => {
    const { store } = answering(KMS_DENIED);
    const record = { id: ID, status: 'PROCESSING', size_bytes: 10 } as FileRecord;
    const settled: string[] = [];
    const records = {
      get: async () => record,
      markReceived: async () => settled.push('received'),
      markFailed: async () => settled.push('failed'),
      markReady: async () => settled.push('ready'),
    } as unknown as RecordStore;
    // Small files are read alongside the record; large ones after it: both paths.
    await expect(processUpload({ objects: store, records }, ID, 10, 'v1')).rejects.toMatchObject({
      $metadata: { httpStatusCode: 403 },
    });
    await expect(processUpload({ objects: store, records }, ID, 1 << 30)).rejects.toMatchObject({
      $metadata: { httpStatusCode: 403 },
    });
    expect(settled).toEqual([]);
  });
});
