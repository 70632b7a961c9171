// Unit tests of the ingest rules: upload plans, completed-part checks, dead-letter records, deadlines, download names.
import { describe, expect, it } from 'vitest';
import { MULTIPART_PART_BYTES, MULTIPART_THRESHOLD_BYTES } from '../../lambdas/config.js';
import { attachmentDisposition } from '../../lambdas/http/content-disposition.js';
import { asyncInvocationFailure, parseProcessorFailure } from '../../lambdas/ingest/dead-letters.js';
import { parseCompletedParts, planUpload } from '../../lambdas/ingest/direct-upload.js';
import { withDeadlineApplied, type FileRecord } from '../../lambdas/store/records.js';
import { s3Event } from '../support/events.js';

const ID = '5efb7e40-5880-4a82-88c3-b52644c4f703';

describe('planUpload', () => {
  it('one PUT below the threshold, parts from it on; the parts add up to the file', () => {
    expect(planUpload(MULTIPART_THRESHOLD_BYTES - 1)).toEqual({ method: 'PUT' });
    const plan = planUpload(MULTIPART_THRESHOLD_BYTES + 5);
    expect(plan.method).toBe('MULTIPART');
    if (plan.method !== 'MULTIPART') return;
    expect(plan.partSizeBytes).toBe(MULTIPART_PART_BYTES);
    expect(plan.parts.reduce((sum, p) => sum + p.sizeBytes, 0)).toBe(MULTIPART_THRESHOLD_BYTES + 5);
    expect(plan.parts.at(-1)?.sizeBytes).toBe((MULTIPART_THRESHOLD_BYTES + 5) % MULTIPART_PART_BYTES);
  });

  it('never more than 10,000 parts: a 1 TB file gets larger parts', () => {
    const plan = planUpload(10 ** 12, true);
    if (plan.method !== 'MULTIPART') throw new Error('expected multipart');
    expect(plan.parts.length).toBeLessThanOrEqual(10_000);
    expect(plan.partSizeBytes % (1024 * 1024)).toBe(0);
  });

  it('the client may force either method', () => {
    expect(planUpload(10, true)).toMatchObject({ method: 'MULTIPART', parts: [{ partNumber: 1, sizeBytes: 10 }] });
    expect(planUpload(MULTIPART_THRESHOLD_BYTES * 2, false)).toEqual({ method: 'PUT' });
  });
});

describe('parseCompletedParts', () => {
  it('sorts the parts, quotes bare ETags and keeps quoted ones', () => {
    const parts = parseCompletedParts(
      {
        parts: [
          { part_number: 2, etag: 'b' },
          { part_number: 1, etag: '"a"' },
        ],
      },
      2,
    );
    expect(parts).toEqual([
      { partNumber: 1, etag: '"a"' },
      { partNumber: 2, etag: '"b"' },
    ]);
  });

  it('names the missing parts', () => {
    expect(() => parseCompletedParts({ parts: [{ part_number: 2, etag: 'x' }] }, 3)).toThrow(/missing: 1, 3/);
  });
});

describe('dead-letter records', () => {
  it('reads the file id and a short reason from the record Lambda sends after the last retry', () => {
    const record = asyncInvocationFailure(
      s3Event(`uploads/${ID}`),
      { errorType: 'Runtime.OutOfMemory', errorMessage: 'Runtime exited with error: signal: killed\nmore' },
      3,
      'processor',
    );
    const failure = parseProcessorFailure(JSON.stringify(record))!;
    expect(failure.ids).toEqual([ID]);
    expect(failure.reason(ID)).toBe(
      `processing failed after 3 attempts (Runtime.OutOfMemory: Runtime exited with error: signal: killed); retry with POST /dicom/${ID}/reprocess`,
    );
  });

  it('an event that expired before it ran says so; anything that is not a failure record is undefined', () => {
    const record = asyncInvocationFailure(s3Event(`uploads/${ID}`), { errorType: 'x', errorMessage: 'y' }, 0, 'p');
    record.requestContext.condition = 'EventAgeExceeded';
    delete record.responsePayload;
    expect(parseProcessorFailure(JSON.stringify(record))?.reason(ID)).toMatch(/did not start before the event expired/);
    expect(parseProcessorFailure('not json')).toBeUndefined();
    expect(parseProcessorFailure('{"Records": []}')).toBeUndefined();
  });
});

describe('withDeadlineApplied', () => {
  const base = { id: ID, status: 'PROCESSING', processing_deadline: '2025-01-01T00:00:00.000Z' } as FileRecord;

  it('PROCESSING past the deadline reads FAILED; before it, or settled, the record is unchanged', () => {
    expect(withDeadlineApplied(base, Date.parse('2024-12-31T23:59:59Z'))).toBe(base);
    expect(withDeadlineApplied(base, Date.parse('2025-01-01T00:00:01Z'))).toMatchObject({
      status: 'FAILED',
      error: expect.stringMatching(/did not finish by 2025-01-01T00:00:00.000Z/),
    });
    const ready = { ...base, status: 'READY' } as FileRecord;
    expect(withDeadlineApplied(ready, Date.parse('2026-01-01T00:00:00Z'))).toBe(ready);
  });
});

describe('attachmentDisposition', () => {
  it('gives an ASCII fallback and the exact UTF-8 name', () => {
    expect(attachmentDisposition('Müller 100%.dcm')).toBe(
      `attachment; filename="M_ller 100_.dcm"; filename*=UTF-8''M%C3%BCller%20100%25.dcm`,
    );
  });
});
