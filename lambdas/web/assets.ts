// The browser page's files (web/), embedded in the page Lambdas' bundles, and the headers they are served with.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { ENV } from '../config.js';

export interface PageAsset {
  readonly name: string;
  readonly contentType: string;
  readonly bytes: Buffer;
}

/** Every file of web/: `GET /` serves index.html, `GET /web/{file}` the others (index.html names them `web/<file>`). */
export const ASSET_NAMES = [
  'index.html',
  'style.css',
  'app.js',
  'api.js',
  'dom.js',
  'format.js',
  'upload.js',
  'list.js',
  'studies.js',
  'detail.js',
  'attributes.js',
] as const;

export const INDEX_ASSET = 'index.html';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
};

/**
 * True when this module runs from its TypeScript source (tsx, vitest), false inside the esbuild bundle: from source
 * the files are read from web/, in a bundle esbuild has embedded them as text (the glob import below).
 */
const FROM_SOURCE = import.meta.url.endsWith('.ts');

async function assetText(name: string): Promise<string> {
  if (FROM_SOURCE) return readFile(new URL(`../../web/${name}`, import.meta.url), 'utf8');
  // A template literal makes esbuild embed every file of web/ with the text loader the attribute asks for
  // (Vite, which never runs this branch, is told not to resolve it).
  const embedded = (await import(/* @vite-ignore */ `../../web/${name}`, { with: { type: 'text' } })) as {
    default: string;
  };
  return embedded.default;
}

/** Reads every asset once (at cold start): a missing file fails the Lambda's init, not a user's request. */
export async function loadAssets(): Promise<ReadonlyMap<string, PageAsset>> {
  const assets = new Map<string, PageAsset>();
  for (const name of ASSET_NAMES) {
    const extension = name.slice(name.lastIndexOf('.'));
    const contentType = CONTENT_TYPES[extension];
    if (!contentType) throw new Error(`web/${name}: no content type for ${extension}`);
    assets.set(name, { name, contentType, bytes: Buffer.from(await assetText(name), 'utf8') });
  }
  return assets;
}

/** Where the page's relative URLs resolve: the stage root (`/v1/` deployed, `/` locally), or undefined if unsure. */
export function baseHref(requestPath: string | undefined): string | undefined {
  if (requestPath === undefined) return undefined;
  const withSlash = requestPath.endsWith('/') ? requestPath : `${requestPath}/`;
  // Only plain segments: an empty one (`//host/`) would make the base another origin.
  return /^\/(?:[A-Za-z0-9._~-]+\/)*$/.test(withSlash) ? withSlash : undefined;
}

/** The page with its `<base href>` set, so `web/app.js` and API paths resolve under the stage from `/v1` and `/v1/`. */
export function renderIndex(template: Buffer, base: string | undefined): Buffer {
  const html = template.toString('utf8');
  const marker = '<base href="./" />';
  if (!html.includes(marker)) throw new Error(`web/${INDEX_ASSET} lacks ${marker}`);
  // baseHref admits only [A-Za-z0-9._~/-], so it needs no escaping in the attribute.
  return Buffer.from(base ? html.replace(marker, `<base href="${base}" />`) : html, 'utf8');
}

/**
 * The Content-Security-Policy of the page: its own scripts and styles only, images also from blob: (PNGs fetched
 * with the API key) and data:; `storageOrigins` are where presigned URLs point (large PNGs, large-file PUTs).
 */
export function contentSecurityPolicy(storageOrigins: readonly string[]): string {
  const storage = storageOrigins.map((origin) => ` ${origin}`).join('');
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src 'self' blob: data:${storage}`,
    `connect-src 'self'${storage}`,
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** The origin presigned S3 URLs use: the emulator's endpoint locally, the bucket's regional host deployed. */
export function storageOrigins(env: NodeJS.ProcessEnv): string[] {
  const endpoint = env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
  if (endpoint) {
    try {
      return [new URL(endpoint).origin];
    } catch {
      return [];
    }
  }
  const bucket = env[ENV.bucketName];
  const region = env.AWS_REGION;
  if (!bucket || !region || !/^[a-z0-9.-]+$/.test(bucket) || !/^[a-z0-9-]+$/.test(region)) return [];
  // The regional host, and the global one the SDK may still use in us-east-1.
  return [`https://${bucket}.s3.${region}.amazonaws.com`, `https://${bucket}.s3.amazonaws.com`];
}

/** Headers of every page response: the CSP, and a revalidation on each load (a 304 is cheap) so a deploy shows at once. */
export function pageHeaders(bytes: Buffer, env: NodeJS.ProcessEnv): Record<string, string> {
  return {
    ETag: `"${createHash('sha256').update(bytes).digest('base64url').slice(0, 27)}"`,
    'Cache-Control': 'no-cache',
    'Content-Security-Policy': contentSecurityPolicy(storageOrigins(env)),
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
  };
}

/** The response to a request whose If-None-Match names the current ETag: 304, else undefined. */
export function notModified(
  ifNoneMatch: string | undefined,
  headers: Record<string, string>,
): APIGatewayProxyResult | undefined {
  const etag = headers.ETag;
  if (!etag || !ifNoneMatch?.split(/\s*,\s*/).includes(etag)) return undefined;
  return { statusCode: 304, headers, body: '' };
}
