// A body larger than POST /dicom takes gets the 413 JSON that names the large-file route, however it is sent:
// refused before it is sent (Expect: 100-continue, as curl does), or read to its end and refused (local runtime).
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRuntime, type TestRuntime } from '../support/runtime.js';
import { isRemote } from '../support/target.js';

interface Answer {
  status: number;
  body: { error?: string; code?: string };
  /** Body bytes the client managed to send before the answer. */
  sent: number;
}

/** POSTs `size` bytes to /dicom in 1 MB chunks; with `expectContinue`, waits for 100 before sending any. */
function post(url: string, size: number, expectContinue: boolean): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const chunk = Buffer.alloc(1024 * 1024, 0x41);
    let sent = 0;
    const req = request(`${url}/dicom`, {
      method: 'POST',
      headers: {
        'Content-Type': 'multipart/form-data; boundary=x',
        'Content-Length': String(size),
        ...(expectContinue ? { Expect: '100-continue' } : {}),
      },
    });
    const send = () => {
      while (sent < size) {
        const part = chunk.subarray(0, Math.min(chunk.length, size - sent));
        sent += part.length;
        if (!req.write(part)) {
          req.once('drain', send);
          return;
        }
      }
      req.end();
    };
    req.on('continue', send);
    req.on('response', (res) => {
      const parts: Buffer[] = [];
      res.on('data', (data: Buffer) => parts.push(data));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(parts).toString('utf8')), sent }),
      );
    });
    req.on('error', reject);
    if (!expectContinue) send();
  });
}

describe.skipIf(isRemote)('oversized request bodies on the local runtime', () => {
  let api: TestRuntime;
  beforeAll(async () => {
    api = await startTestRuntime();
  });
  afterAll(async () => {
    await api?.destroy();
  });

  it('Expect: 100-continue with 120 MB declared: 413 JSON before any byte is sent', async () => {
    const answer = await post(api.url, 120 * 1024 * 1024, true);
    expect(answer.status).toBe(413);
    expect(answer.body.code).toBe('PAYLOAD_TOO_LARGE');
    expect(answer.body.error).toContain('POST /dicom/uploads');
    expect(answer.sent).toBe(0);
  });

  it('20 MB sent without Expect: read to the end, then the same 413 (no reset connection)', async () => {
    const answer = await post(api.url, 20 * 1024 * 1024, false);
    expect(answer.status).toBe(413);
    expect(answer.body.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('a body within the limit still goes through the 100-continue path to the handler', async () => {
    const answer = await post(api.url, 1024, true);
    // Not DICOM (and not even a well-formed multipart body): the handler's own 400, not the gateway's 413.
    expect(answer.status).toBe(400);
  });
});
