// The web page's handlers (GET /, GET /web/{file}) on API Gateway events, and the rules its files keep.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { handler as web } from '../../lambdas/handlers/web.js';
import { handler as webAsset } from '../../lambdas/handlers/webAsset.js';
import { ROUTES } from '../../lambdas/routes.js';
import { ASSET_NAMES, storageOrigins } from '../../lambdas/web/assets.js';
import { PROJECT_ROOT } from '../../lib/constructs/function-defaults.js';
import { apiEvent } from '../support/events.js';

const WEB_DIR = path.join(PROJECT_ROOT, 'web');
const saved = { ...process.env };

afterEach(() => {
  process.env = { ...saved };
});

function page(stagePath = '/', query?: Record<string, string>, headers?: Record<string, string>) {
  const event = apiEvent({ method: 'GET', resource: '/', path: '/', query, headers });
  // The stage part of the path the client asked for (`/prod`, `/prod/`); the test helper says `/prod/`.
  event.requestContext.path = stagePath;
  return web(event);
}

function asset(file: string, headers?: Record<string, string>) {
  return webAsset(
    apiEvent({ method: 'GET', resource: '/web/{file}', path: `/web/${file}`, pathParameters: { file }, headers }),
  );
}

function text(response: APIGatewayProxyResult): string {
  return response.isBase64Encoded ? Buffer.from(response.body, 'base64').toString('utf8') : response.body;
}

function header(response: APIGatewayProxyResult, name: string): string {
  const value = Object.entries(response.headers ?? {}).find(([key]) => key.toLowerCase() === name.toLowerCase())?.[1];
  return String(value ?? '');
}

describe('GET /', () => {
  it('is a public route of the route table, as is GET /web/{file} (and the API description)', () => {
    expect(ROUTES.filter((route) => route.public).map((route) => `${route.method} ${route.path}`)).toEqual([
      'GET /',
      'GET /web/{file}',
      'GET /openapi.json',
    ]);
  });

  it('answers 200 with the page as UTF-8 HTML and a Content-Security-Policy without inline code', async () => {
    const response = await page('/v1/');
    expect(response.statusCode).toBe(200);
    expect(header(response, 'content-type')).toBe('text/html; charset=utf-8');
    const csp = header(response, 'content-security-policy');
    expect(csp).toMatch(/(^|; )default-src 'self'(;|$)/);
    expect(csp).toMatch(/(^|; )script-src 'self'(;|$)/);
    expect(csp).toMatch(/(^|; )img-src 'self' blob: data:/);
    expect(csp).toMatch(/(^|; )frame-ancestors 'none'(;|$)/);
    expect(csp).not.toContain('unsafe');
    expect(header(response, 'x-content-type-options')).toBe('nosniff');
    const html = text(response);
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<meta charset="utf-8" />');
    expect(html).toContain('<script type="module" src="web/app.js"></script>');
  });

  it('sets <base href> to the stage root whether the URL ends in a slash or not', async () => {
    expect(text(await page('/v1/'))).toContain('<base href="/v1/" />');
    expect(text(await page('/v1'))).toContain('<base href="/v1/" />');
    expect(text(await page('/'))).toContain('<base href="/" />');
  });

  it('never lets the request path make the base another origin', async () => {
    for (const hostile of ['//evil.example/', '/a//b/', '/"><script>/', '/v1/\\evil']) {
      const html = text(await page(hostile));
      expect(html, hostile).toContain('<base href="./" />');
      expect(html, hostile).not.toContain('evil');
    }
  });

  it('answers 304 to a revalidation with the current ETag', async () => {
    const first = await page('/v1/');
    const etag = header(first, 'etag');
    expect(etag).toMatch(/^".+"$/);
    expect(header(first, 'cache-control')).toBe('no-cache');
    const again = await page('/v1/', undefined, { 'If-None-Match': etag });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
    // Another stage is another page (another base): another ETag.
    expect(header(await page('/v2/'), 'etag')).not.toBe(etag);
  });

  it('refuses an unknown query parameter with 400, like the other routes', async () => {
    const response = await page('/', { x: '1' });
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body)).toMatchObject({ code: 'BAD_QUERY' });
  });

  it('allows images and uploads from storage in the CSP: the emulator locally, the bucket deployed', async () => {
    process.env.AWS_ENDPOINT_URL_S3 = 'http://127.0.0.1:4569';
    expect(header(await page('/'), 'content-security-policy')).toContain(
      "img-src 'self' blob: data: http://127.0.0.1:4569;",
    );
    delete process.env.AWS_ENDPOINT_URL_S3;
    delete process.env.AWS_ENDPOINT_URL;
    expect(storageOrigins({ BUCKET_NAME: 'dicom-bucket-1', AWS_REGION: 'eu-west-1' })).toEqual([
      'https://dicom-bucket-1.s3.eu-west-1.amazonaws.com',
      'https://dicom-bucket-1.s3.amazonaws.com',
    ]);
    expect(storageOrigins({ BUCKET_NAME: 'bad bucket;', AWS_REGION: 'eu-west-1' })).toEqual([]);
  });
});

describe('GET /web/{file}', () => {
  it('serves each script module and the stylesheet with its content type and the CSP', async () => {
    const script = await asset('app.js');
    expect(script.statusCode).toBe(200);
    expect(header(script, 'content-type')).toBe('text/javascript; charset=utf-8');
    expect(text(script)).toBe(readFileSync(path.join(WEB_DIR, 'app.js'), 'utf8'));
    expect(header(script, 'content-security-policy')).toMatch(/default-src 'self'/);
    expect(header(await asset('style.css'), 'content-type')).toBe('text/css; charset=utf-8');
  });

  it('is 404 for anything else, index.html included (it is served at / with its base)', async () => {
    for (const file of ['index.html', 'nope.js', '../package.json', '..%2Fpackage.json', '']) {
      const response = await asset(file);
      expect(response.statusCode, file).toBe(404);
      expect(JSON.parse(response.body), file).toMatchObject({ code: 'ASSET_NOT_FOUND' });
    }
  });
});

describe('the files of web/', () => {
  const files = readdirSync(WEB_DIR).sort();
  const read = (file: string) => readFileSync(path.join(WEB_DIR, file), 'utf8');

  it('are exactly the assets the handlers embed and serve', () => {
    expect(files).toEqual([...ASSET_NAMES].sort());
  });

  it('import only each other, by relative path', () => {
    for (const file of files.filter((f) => f.endsWith('.js'))) {
      for (const [, specifier] of read(file).matchAll(/^import [^;]*? from '([^']+)';$/gm)) {
        expect(specifier, file).toMatch(/^\.\/[a-z-]+\.js$/);
        expect(files, `${file} imports ${specifier}`).toContain(specifier!.slice(2));
      }
    }
  });

  it('carry no inline scripts, inline styles or inline event handlers (the CSP would block them)', () => {
    const html = read('index.html');
    expect([...html.matchAll(/<script\b[^>]*>/g)].map((m) => m[0])).toEqual([
      '<script type="module" src="web/app.js">',
    ]);
    expect(html).not.toMatch(/<style\b/);
    expect(html).not.toMatch(/\sstyle=/);
    expect(html).not.toMatch(/\son[a-z]+=/);
  });

  it('never parse data as HTML and load nothing from another site (no CDN)', () => {
    for (const file of files) {
      const source = read(file);
      expect(source, file).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function/);
      expect(source, file).not.toMatch(/https?:\/\//);
    }
  });
});
