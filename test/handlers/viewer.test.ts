// The OHIF viewer served by the local runtime at /viewer/: the rewritten entry page, the generated app-config.js,
// content types and caching of the build, client-side routes, path traversal, and the answer when it is missing.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OHIF_VERSION, viewerAppConfig } from '../../lib/viewer-config.js';
import { PROJECT_ROOT } from '../../lib/constructs/function-defaults.js';
import type { TestRuntime } from '../support/runtime.js';
import { rawGet, startViewerRuntime, VIEWER_DIST, VIEWER_INSTALLED, VIEWER_SKIP_REASON } from '../support/viewer.js';

if (!VIEWER_INSTALLED) process.stderr.write(`test/handlers/viewer.test.ts skipped: ${VIEWER_SKIP_REASON}\n`);

describe('the viewer install script and the runtime agree', () => {
  it('pins the version the runtime serves from', () => {
    const script = readFileSync(path.join(PROJECT_ROOT, 'scripts', 'install-viewer.mjs'), 'utf8');
    expect(script).toContain(`OHIF_VERSION = '${OHIF_VERSION}'`);
    expect(script).toMatch(/OHIF_INTEGRITY =\s*'sha512-[A-Za-z0-9+/]+={0,2}'/);
  });

  it('never puts the API key into app-config.js', () => {
    const config = viewerAppConfig({
      dicomwebRoot: 'http://h/dicomweb',
      routerBasename: '/viewer',
      apiKeyRequired: true,
    });
    expect(config).toContain('const apiKeyRequired = true;');
    expect(config).toContain("'Bearer ' + apiKey");
  });
});

describe('/viewer/ without the build', () => {
  let runtime: TestRuntime;
  let emptyDir: string;
  beforeAll(async () => {
    emptyDir = mkdtempSync(path.join(tmpdir(), 'no-viewer-'));
    runtime = await startViewerRuntime({ viewerDir: emptyDir });
  });
  afterAll(async () => {
    await runtime?.destroy();
    rmSync(emptyDir, { recursive: true, force: true });
  });

  it('answers 503 VIEWER_NOT_INSTALLED with how to install it', async () => {
    for (const where of ['/viewer/', '/viewer/app-config.js', '/viewer/viewer?StudyInstanceUIDs=1.2.3']) {
      const res = await fetch(`${runtime.url}${where}`);
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({
        error: 'the OHIF viewer is not installed; run npm run viewer:install',
        code: 'VIEWER_NOT_INSTALLED',
      });
    }
  });

  it('leaves the API alone', async () => {
    const res = await fetch(`${runtime.url}/no-such-route`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { code: string }).code).toBe('ROUTE_NOT_FOUND');
  });
});

describe.skipIf(!VIEWER_INSTALLED)('/viewer/ with the OHIF build', () => {
  let runtime: TestRuntime;
  const files = VIEWER_INSTALLED ? readdirSync(VIEWER_DIST) : [];
  const appBundle = files.find((name) => /^app\.bundle\.[0-9a-f]{16}\.js$/.test(name))!;
  const wasm = files.find((name) => name.endsWith('.wasm'))!;

  beforeAll(async () => {
    runtime = await startViewerRuntime();
  });
  afterAll(async () => {
    await runtime?.destroy();
  });

  it('redirects /viewer to /viewer/, keeping the query', async () => {
    const res = await fetch(`${runtime.url}/viewer?x=1`, { redirect: 'manual' });
    expect(res.status).toBe(301);
    expect(res.headers.get('location')).toBe('/viewer/?x=1');
  });

  it('serves index.html rewritten for /viewer/, never cached', async () => {
    const res = await fetch(`${runtime.url}/viewer/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    const html = await res.text();
    expect(html).toContain('window.PUBLIC_URL="/viewer/"');
    expect(html).not.toContain('window.PUBLIC_URL="/"');
    expect(html).toContain(`src="/viewer/${appBundle}"`);
    expect(html).toContain('src="/viewer/app-config.js"');
    expect(html).toContain('href="/viewer/app.bundle.css"');
    expect(html).not.toMatch(/(href|src)="\/(?!viewer\/)/);
  });

  it("serves the app's client-side routes as index.html", async () => {
    const res = await fetch(`${runtime.url}/viewer/viewer?StudyInstanceUIDs=1.2.840.113619.2.1`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('window.PUBLIC_URL="/viewer/"');
    // A missing file is a 404, not HTML a script tag would try to run.
    expect((await fetch(`${runtime.url}/viewer/no-such.bundle.0123456789abcdef.js`)).status).toBe(404);
  });

  it("generates app-config.js from the request's own origin", async () => {
    const res = await fetch(`${runtime.url}/viewer/app-config.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/javascript; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    const config = await res.text();
    expect(config).toContain(`"qidoRoot": "${runtime.url}/dicomweb"`);
    expect(config).toContain(`"wadoRoot": "${runtime.url}/dicomweb"`);
    expect(config).toContain(`"wadoUriRoot": "${runtime.url}/dicomweb"`);
    expect(config).toContain('"routerBasename": "/viewer"');
    expect(config).toContain('const apiKeyRequired = false;');
    // Another name for this server gets its own origin back.
    const other = await rawGet(runtime.url, '/viewer/app-config.js', { Host: `localhost:${runtime.port}` });
    expect(other.body.toString()).toContain(`"qidoRoot": "http://localhost:${runtime.port}/dicomweb"`);
    const hostile = await rawGet(runtime.url, '/viewer/app-config.js', { Host: 'evil"};alert(1);//' });
    expect(hostile.status).toBe(400);
  });

  it('serves hashed bundles as JavaScript cached for a year, loading chunks from /viewer/', async () => {
    const res = await fetch(`${runtime.url}/viewer/${appBundle}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/javascript; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const text = await res.text();
    expect(text).toContain('__webpack_require__.p = "/viewer/";');
    expect(text).not.toContain('__webpack_require__.p = "/";');
    const etag = res.headers.get('etag')!;
    const again = await fetch(`${runtime.url}/viewer/${appBundle}`, { headers: { 'If-None-Match': etag } });
    expect(again.status).toBe(304);
  });

  it('serves WASM as application/wasm, byte for byte', async () => {
    const res = await fetch(`${runtime.url}/viewer/${wasm}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/wasm');
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(Buffer.from(await res.arrayBuffer()).equals(readFileSync(path.join(VIEWER_DIST, wasm)))).toBe(true);
  });

  it('gives the stylesheet and the fonts it names their /viewer/ URLs and types', async () => {
    const css = await fetch(`${runtime.url}/viewer/app.bundle.css`);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    const font = /url\(\/viewer\/([0-9a-f]{16}\.woff2)\)/.exec(await css.text());
    expect(font).not.toBeNull();
    const res = await fetch(`${runtime.url}/viewer/${font![1]}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('font/woff2');
    await res.arrayBuffer();
  });

  it('never serves a file outside the build', async () => {
    for (const attempt of [
      '/viewer/..%2f..%2fpackage.json',
      '/viewer/../package.json',
      '/viewer/%2e%2e/%2e%2e/package.json',
      '/viewer/assets/..%2f..%2f..%2f..%2fpackage.json',
      '/viewer/..%5c..%5cpackage.json',
      '/viewer/%00index.html',
      '/viewer/%E0%A4%A',
    ]) {
      const res = await rawGet(runtime.url, attempt);
      expect([400, 404], attempt).toContain(res.status);
      expect(res.body.toString(), attempt).not.toContain('"dicom-api"');
    }
  });

  it('is read-only', async () => {
    const res = await fetch(`${runtime.url}/viewer/index.html`, { method: 'POST', body: 'x' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
  });
});

describe.skipIf(!VIEWER_INSTALLED)('/viewer/ when the API wants a key', () => {
  let runtime: TestRuntime;
  beforeAll(async () => {
    runtime = await startViewerRuntime({ apiKey: 'viewer-test-key-0123456789' });
  });
  afterAll(async () => {
    await runtime?.destroy();
  });

  it('is open (like the web page) and tells the app to send a key it never contains', async () => {
    const res = await fetch(`${runtime.url}/viewer/app-config.js`);
    expect(res.status).toBe(200);
    const config = await res.text();
    expect(config).toContain('const apiKeyRequired = true;');
    expect(config).not.toContain('viewer-test-key-0123456789');
    expect((await fetch(`${runtime.url}/viewer/`)).status).toBe(200);
  });
});
