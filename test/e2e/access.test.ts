// Access control on the local runtime, as deployed: the API key gate (403 JSON), public page routes, CORS preflight,
// CORS headers on answers, errors and binary bodies, the bucket's CORS, and the audit lines (local only).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY_HEADER, INVALID_API_KEY, auditLogger, localApiKeyId } from '../../lambdas/http/access.js';
import { CORS } from '../../lambdas/http/cors.js';
import { ROUTES } from '../../lambdas/routes.js';
import { buildDicom, imageElements, patientElements } from '../fixtures/dicom-builder.js';
import { startTestRuntime, uploadForm, type TestRuntime } from '../support/runtime.js';
import { isRemote } from '../support/target.js';

const KEY = 'k3y-for-tests-0123456789';
const ORIGIN = 'https://viewer.example';
const OTHER_ORIGIN = 'https://evil.example';

const RUN_UID = `2.25.${Math.floor(Math.random() * 1e12)}`;
/** A small CT whose patient values must never appear in a log line. */
const PATIENT = { name: 'AUDIT^SECRET^NAME', id: 'PID-AUDIT-777' };
const ct = () =>
  buildDicom([
    ...patientElements({ name: PATIENT.name, id: PATIENT.id, modality: 'CT' }),
    // UIDs of this run's own: DICOMweb finds the instance by them.
    { tag: 0x0020000d, vr: 'UI', value: `${RUN_UID}.1` },
    { tag: 0x0020000e, vr: 'UI', value: `${RUN_UID}.1.1` },
    { tag: 0x00080018, vr: 'UI', value: `${RUN_UID}.1.1.${Math.floor(Math.random() * 1e9)}` },
    ...imageElements({ rows: 8, columns: 8, pixels: Array.from({ length: 64 }, (_, i) => i * 16) }),
  ]);

async function errorOf(response: Response): Promise<{ error: string; code: string }> {
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  return (await response.json()) as { error: string; code: string };
}

describe.skipIf(isRemote)('local runtime with API_KEY and CORS_ORIGINS set', () => {
  let api: TestRuntime;
  const lines: string[] = [];
  const originalWrite = process.stdout.write.bind(process.stdout);

  beforeAll(async () => {
    api = await startTestRuntime(undefined, { apiKey: KEY, corsOrigins: [ORIGIN] });
    // Audit lines are on even where other logs are lowered; the test config sets SILENT, so switch them on here.
    auditLogger.setLogLevel('INFO');
    process.stdout.write = ((chunk: string | Uint8Array) => {
      lines.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return true;
    }) as typeof process.stdout.write;
  });
  afterAll(async () => {
    process.stdout.write = originalWrite;
    auditLogger.setLogLevel('SILENT');
    await api?.destroy();
  });

  /** fetch with the key; `null` sends none. */
  const call = (path: string, init: RequestInit = {}, key: string | null = KEY) => {
    const headers = new Headers(init.headers);
    if (key !== null) headers.set(API_KEY_HEADER, key);
    return fetch(`${api.url}${path}`, { ...init, headers });
  };

  it('takes the key as Authorization: Bearer too (DICOMweb viewers send it so); a wrong bearer is 403', async () => {
    const bearer = (token: string) =>
      fetch(`${api.url}/dicomweb/studies`, { headers: { Authorization: `Bearer ${token}`, Origin: ORIGIN } });
    const ok = await bearer(KEY);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toMatch(/^application\/dicom\+json/);
    expect(ok.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(ok.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    for (const wrong of ['wrong', `${KEY}x`]) {
      const refused = await bearer(wrong);
      expect(refused.status).toBe(403);
      expect((await errorOf(refused)).code).toBe(INVALID_API_KEY.code);
    }
    // A Basic credential is no key.
    const basic = await fetch(`${api.url}/dicomweb/studies`, { headers: { Authorization: `Basic ${KEY}` } });
    expect(basic.status).toBe(403);
  });

  it('answers a DICOMweb preflight for Authorization and a multipart Accept', async () => {
    const response = await fetch(`${api.url}/dicomweb/studies/1.2.3/series/1.2.4/instances/1.2.5/frames/1`, {
      method: 'OPTIONS',
      headers: {
        Origin: ORIGIN,
        'Access-Control-Request-Method': 'GET',
        'Access-Control-Request-Headers': 'authorization,accept',
      },
    });
    expect(response.status).toBe(204);
    const allowed = (response.headers.get('access-control-allow-headers') ?? '').toLowerCase().split(',');
    expect(allowed).toEqual(expect.arrayContaining(['authorization', 'accept']));
  });

  it('refuses every non-public route without the key or with a wrong one: 403 JSON like API Gateway', async () => {
    for (const route of ROUTES.filter((r) => !r.public)) {
      const path = route.path.replace('{id}', '5efb7e40-5880-4a82-88c3-b52644c4f703').replace('{study_uid}', '1.2.3');
      for (const key of [null, 'wrong', `${KEY}x`, '']) {
        const response = await call(path, { method: route.method }, key);
        expect(response.status, `${route.method} ${path} with ${key}`).toBe(403);
        expect(await errorOf(response)).toEqual({ error: INVALID_API_KEY.error, code: 'INVALID_API_KEY' });
      }
    }
  });

  it('answers with the key; the page routes need none', async () => {
    expect((await call('/dicom')).status).toBe(200);
    expect((await call('/', {}, null)).status).toBe(200);
    expect((await call('/web/app.js', {}, null)).status).toBe(200);
    expect((await call('/openapi.json', {}, null)).status).toBe(200);
    // An unknown route is 404 whatever the key, as API Gateway answers it before checking keys.
    expect((await errorOf(await call('/nope', {}, null))).code).toBe('ROUTE_NOT_FOUND');
  });

  it('answers a preflight from an allowed origin without a key, and gives a refused origin no allow header', async () => {
    const preflight = await fetch(`${api.url}/dicom/5efb7e40-5880-4a82-88c3-b52644c4f703/png`, {
      method: 'OPTIONS',
      headers: {
        Origin: ORIGIN,
        'Access-Control-Request-Method': 'GET',
        'Access-Control-Request-Headers': 'x-api-key',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('x-api-key');
    expect(preflight.headers.get('access-control-allow-methods')).toContain('DELETE');
    const refused = await fetch(`${api.url}/dicom`, {
      method: 'OPTIONS',
      headers: { Origin: OTHER_ORIGIN, 'Access-Control-Request-Method': 'GET' },
    });
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('puts the allow-origin header on JSON, binary and error answers for an allowed origin only', async () => {
    const upload = await call('/dicom', {
      method: 'POST',
      body: uploadForm(ct(), 'cors.dcm'),
      headers: { Origin: ORIGIN },
    });
    expect(upload.status).toBe(201);
    expect(upload.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    const { id } = (await upload.json()) as { id: string };
    const png = await call(`/dicom/${id}/png`, { headers: { Origin: ORIGIN } });
    expect(png.status).toBe(200);
    expect(png.headers.get('content-type')).toBe('image/png');
    expect(png.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(png.headers.get('access-control-expose-headers')).toContain('ETag');
    // The key gate's own 403 carries it too, or a page could not read why it was refused.
    const refused = await call('/dicom', { headers: { Origin: ORIGIN } }, null);
    expect(refused.status).toBe(403);
    expect(refused.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    const other = await call(`/dicom/${id}`, { headers: { Origin: OTHER_ORIGIN } });
    expect(other.status).toBe(200);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    expect(other.headers.get('vary')).toContain('Origin');
  });

  it("the bucket's CORS admits the page's own origin and the configured one, no other", async () => {
    const start = await call('/dicom/uploads', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ filename: 'big.dcm', size_bytes: 5_000_000, multipart: false }),
    });
    expect(start.status).toBe(201);
    const { upload_url: url } = (await start.json()) as { upload_url: string };
    const preflight = (origin: string) =>
      fetch(url, { method: 'OPTIONS', headers: { Origin: origin, 'Access-Control-Request-Method': 'PUT' } });
    expect((await preflight(api.url)).status).toBe(200);
    expect((await preflight(ORIGIN)).status).toBe(200);
    expect((await preflight(OTHER_ORIGIN)).status).toBe(403);
  });

  it('writes an audit line per read, download and delete: action, id, principal (key id), status; no patient value', async () => {
    const upload = await call('/dicom', { method: 'POST', body: uploadForm(ct(), 'audit.dcm') });
    const { id } = (await upload.json()) as { id: string };
    await call(`/dicom/${id}`);
    await call(`/dicom/${id}/attributes?tag=PatientName`);
    await call(`/dicom/${id}/png`);
    await call(`/dicom/${id}/file`);
    // DICOMweb names instances by UIDs: the audit line still names the file it read.
    const found = await call(`/dicomweb/instances?PatientID=${PATIENT.id}`);
    const [instance] = (await found.json()) as Record<string, { Value?: string[] }>[];
    const uid = (tag: string) => instance![tag]!.Value![0]!;
    const instancePath = `/dicomweb/studies/${uid('0020000D')}/series/${uid('0020000E')}/instances/${uid('00080018')}`;
    const frames = await call(`${instancePath}/frames/1`, {
      headers: { Accept: 'multipart/related; type="application/octet-stream"; transfer-syntax=*' },
    });
    expect(frames.status).toBe(200);
    expect(frames.headers.get('x-audit-file-ids'), 'the audit header stays inside').toBeNull();
    await call(`${instancePath}/rendered`);
    await call(`/dicom?limit=5`);
    await call(`/dicom/search`, { method: 'POST', body: JSON.stringify({ patient_id: PATIENT.id }) });
    await call(`/dicom/${id}`, { method: 'DELETE' });
    await call(`/dicom/${id}`);

    const audit = lines
      .join('')
      .split('\n')
      .filter((line) => line.includes('"audit":true'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const ofId = audit.filter((line) => line.file_id === id);
    const expectedKeyId = localApiKeyId(KEY);
    expect(ofId.map((line) => `${line.action} ${line.route} ${line.status}`)).toEqual([
      'upload upload 201',
      'read get 200',
      'read attributes 200',
      'read png 200',
      'download file 200',
      'read dicomwebFrames 200',
      'read dicomwebRendered 200',
      'delete delete 200',
      'read get 404',
    ]);
    for (const line of ofId) {
      expect(line).toMatchObject({ principal_type: 'api-key', principal: expectedKeyId, service: 'dicom-api' });
      expect(typeof line.timestamp).toBe('string');
      expect(typeof line.requestId).toBe('string');
    }
    const listings = audit.filter((line) => line.action === 'list').slice(-2);
    expect(listings.map((line) => line.route)).toEqual(['list', 'search']);
    for (const listing of listings) expect(listing.file_ids).toContain(id);

    const all = lines.join('');
    expect(all).not.toContain(KEY);
    for (const value of [PATIENT.name, PATIENT.id, 'AUDIT', 'SECRET']) expect(all).not.toContain(value);
  });
});

describe.skipIf(isRemote)('local runtime without API_KEY or CORS_ORIGINS (the default)', () => {
  let api: TestRuntime;
  beforeAll(async () => {
    api = await startTestRuntime();
  });
  afterAll(async () => {
    await api?.destroy();
  });

  it('is open: no key needed, no CORS headers, and OPTIONS is an unknown route', async () => {
    const response = await fetch(`${api.url}/dicom`, { headers: { Origin: ORIGIN } });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await fetch(`${api.url}/dicom`, {
      method: 'OPTIONS',
      headers: { Origin: ORIGIN, 'Access-Control-Request-Method': 'GET' },
    });
    expect(preflight.status).toBe(404);
    expect(CORS.allowHeaders).toContain('X-Api-Key');
  });
});
