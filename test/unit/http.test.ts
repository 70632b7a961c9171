// The HTTP edge: multipart extraction and filename hygiene, route matching, S3 event keys.
import { describe, expect, it } from 'vitest';
import { readMultipartFile, sanitizeFilename } from '../../lambdas/http/multipart.js';
import { ROUTES } from '../../lambdas/routes.js';
import { RouteMatcher } from '../../local/api-gateway.js';
import { encodeEventKey, toProcessorEvent } from '../../local/s3-events.js';
import { uploadForm } from '../support/runtime.js';

async function formBody(form: FormData): Promise<{ contentType: string; body: Buffer }> {
  const request = new Request('http://x/', { method: 'POST', body: form });
  return { contentType: request.headers.get('content-type')!, body: Buffer.from(await request.arrayBuffer()) };
}

describe('readMultipartFile', () => {
  it('returns the bytes and UTF-8 filename of the field "file"', async () => {
    const bytes = new Uint8Array([1, 2, 3, 0, 255]);
    const { contentType, body } = await formBody(uploadForm(bytes, 'Müller 山田.dcm'));
    const file = await readMultipartFile(contentType, body, 1000);
    expect(file.filename).toBe('Müller 山田.dcm');
    expect([...file.bytes]).toEqual([1, 2, 3, 0, 255]);
  });

  it('rejects two files in "file", a missing boundary and a file over the limit', async () => {
    const two = new FormData();
    two.append('file', new Blob([new Uint8Array(4)]), 'a.dcm');
    two.append('file', new Blob([new Uint8Array(4)]), 'b.dcm');
    const twoBody = await formBody(two);
    await expect(readMultipartFile(twoBody.contentType, twoBody.body, 100)).rejects.toMatchObject({
      status: 400,
      code: 'TOO_MANY_FILES',
    });
    await expect(readMultipartFile('multipart/form-data', Buffer.from('x'), 100)).rejects.toMatchObject({
      status: 400,
    });
    const big = await formBody(uploadForm(new Uint8Array(200)));
    await expect(readMultipartFile(big.contentType, big.body, 100)).rejects.toMatchObject({ status: 413 });
  });

  it('keeps only a safe display name', () => {
    expect(sanitizeFilename('../../etc/passwd')).toBe('passwd');
    expect(sanitizeFilename('C:\\scans\\ct.dcm')).toBe('ct.dcm');
    expect(sanitizeFilename('a\u0000b\nc.dcm')).toBe('abc.dcm');
    expect(sanitizeFilename('x'.repeat(10_000))).toHaveLength(255);
    expect(sanitizeFilename(undefined)).toBe('upload.dcm');
  });
});

describe('RouteMatcher over the route table', () => {
  const matcher = new RouteMatcher(ROUTES);
  it('finds each route with its path parameters and nothing else', () => {
    const id = '5efb7e40-5880-4a82-88c3-b52644c4f703';
    expect(matcher.match('POST', '/dicom')?.route.name).toBe('upload');
    expect(matcher.match('GET', '/dicom')?.route.name).toBe('list');
    expect(matcher.match('GET', `/dicom/${id}`)).toMatchObject({ route: { name: 'get' }, pathParameters: { id } });
    expect(matcher.match('GET', `/dicom/${id}/attributes`)?.route.name).toBe('attributes');
    expect(matcher.match('GET', `/dicom/${id}/png`)?.route.name).toBe('png');
    expect(matcher.match('DELETE', `/dicom/${id}`)?.route.name).toBe('delete');
    expect(matcher.match('PUT', `/dicom/${id}`)).toBeUndefined();
    expect(matcher.match('GET', `/dicom/${id}/png/extra`)).toBeUndefined();
  });
});

describe('S3 events for the processor', () => {
  it('URL-encodes keys as AWS does and keeps only ObjectCreated under the prefix', () => {
    expect(encodeEventKey('uploads/a b+c.dcm')).toBe('uploads/a+b%2Bc.dcm');
    const raw = {
      Records: [
        { eventName: 'ObjectCreated:Put', s3: { object: { key: 'uploads/x y' } } },
        { eventName: 'ObjectCreated:Put', s3: { object: { key: 'derived/x/image.png' } } },
        { eventName: 'ObjectRemoved:Delete', s3: { object: { key: 'uploads/z' } } },
      ],
    };
    const event = toProcessorEvent(raw, 'uploads/');
    expect(event?.Records.map((r) => r.s3.object.key)).toEqual(['uploads/x+y']);
    expect(toProcessorEvent({ Records: [raw.Records[1]] }, 'uploads/')).toBeUndefined();
  });
});
