// Serves the OHIF viewer's prebuilt app at /viewer/ on the local runtime: static files, its generated app-config.js,
// and the few files whose root-relative URLs are rewritten so a build made for "/" works under /viewer/.
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { VIEWER_NOT_INSTALLED, viewerAppConfig, viewerDistDir, viewerInstalled } from '../lib/viewer-config.js';
import { writeGatewayError } from './api-gateway.js';

export const VIEWER_BASE = '/viewer/';
/** The app's client-side router base (no trailing slash, as OHIF writes it). */
const ROUTER_BASENAME = '/viewer';

export interface ViewerOptions {
  /** The API wants a key: the viewer asks for it and sends it (the generated config never holds it). */
  readonly apiKeyRequired: boolean;
  /** The build to serve; default OHIF_VIEWER_DIR or the install script's cache folder. */
  readonly distDir?: string;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'application/javascript; charset=utf-8',
  '.mjs': 'application/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json; charset=utf-8',
  '.jsonc': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.ttf': 'font/ttf',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.gif': 'image/gif',
  '.ico': 'image/x-icon',
  '.svg': 'image/svg+xml',
  '.xml': 'application/xml',
  '.txt': 'text/plain; charset=utf-8',
};

/** Content-hashed names (`app.bundle.0f6159c501addfe9.js`, `0ddf166f7a343eda.wasm`): they never change. */
const HASHED_NAME = /(^|\.)[0-9a-f]{16}\.(js|css|wasm|woff2)$/;
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** Everything else is revalidated (ETag): the entry points must name the current bundles. */
const REVALIDATE = 'no-cache';

/** Root-relative URLs of the build for "/", prefixed for /viewer/ (`"/app.bundle..."` -> `"/viewer/app.bundle..."`). */
function rewriteIndexHtml(html: string): string {
  return html
    .replaceAll('window.PUBLIC_URL="/"', `window.PUBLIC_URL="${VIEWER_BASE}"`)
    .replace(/\b(href|src)="\/(?!\/)/g, `$1="${VIEWER_BASE}`);
}

/** webpack's public path is compiled into the entry bundle and each worker: chunks and WASM load from it. */
const PUBLIC_PATH = '__webpack_require__.p = "/";';

function rewriteAsset(relativePath: string, text: string): string | undefined {
  const extension = path.extname(relativePath);
  if (extension === '.js' && text.includes(PUBLIC_PATH)) {
    return text.replaceAll(PUBLIC_PATH, `__webpack_require__.p = "${VIEWER_BASE}";`);
  }
  if (extension === '.css' && text.includes('url(/')) return text.replace(/url\(\/(?!\/)/g, `url(${VIEWER_BASE}`);
  if (relativePath === 'manifest.json') return text.replace(/("src":\s*")\/(?!\/)/g, `$1${VIEWER_BASE}`);
  return undefined;
}

/** Rewritten files by absolute path: computed once per runtime (the entry bundle is 17 MB to scan). */
const rewritten = new Map<string, Promise<Buffer | null>>();

function rewrittenContent(file: string, relativePath: string): Promise<Buffer | null> {
  let pending = rewritten.get(file);
  if (!pending) {
    pending = readFile(file, 'utf8').then((text) => {
      const changed = rewriteAsset(relativePath, text);
      return changed === undefined ? null : Buffer.from(changed, 'utf8');
    });
    pending.catch(() => rewritten.delete(file));
    rewritten.set(file, pending);
  }
  return pending;
}

/** Only files of the few rewritable kinds are read into memory; the rest (WASM, 130 MB of ONNX) are streamed. */
function mayNeedRewrite(relativePath: string): boolean {
  return /\.(js|css)$/.test(relativePath) || relativePath === 'manifest.json';
}

/** The request's own origin (Host header), so the app calls back to whatever host and port it was loaded from. */
function requestOrigin(req: IncomingMessage): string | undefined {
  const host = req.headers.host;
  if (!host || !/^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/.test(host)) return undefined;
  const forwarded = req.headers['x-forwarded-proto'];
  const protocol = (Array.isArray(forwarded) ? forwarded[0] : forwarded) === 'https' ? 'https' : 'http';
  return `${protocol}://${host}`;
}

type Body = { kind: 'buffer'; data: Buffer } | { kind: 'file'; file: string; size: number };

function send(
  req: IncomingMessage,
  res: ServerResponse,
  body: Body,
  headers: Record<string, string>,
  etag?: string,
): void {
  const common = { 'X-Content-Type-Options': 'nosniff', ...headers, ...(etag ? { ETag: etag } : {}) };
  if (etag && req.headers['if-none-match'] === etag) {
    res.writeHead(304, common);
    res.end();
    return;
  }
  const length = body.kind === 'buffer' ? body.data.length : body.size;
  res.writeHead(200, { ...common, 'Content-Length': String(length) });
  if (req.method === 'HEAD') {
    res.end();
  } else if (body.kind === 'buffer') {
    res.end(body.data);
  } else {
    createReadStream(body.file)
      .on('error', () => res.destroy())
      .pipe(res);
  }
}

/** The file under `root` a /viewer/ path names, or 'invalid' for a path that tries to leave it. */
function resolveInside(root: string, rest: string): string | 'invalid' {
  let decoded: string;
  try {
    decoded = decodeURIComponent(rest);
  } catch {
    return 'invalid';
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return 'invalid';
  const segments = decoded.split('/');
  if (segments.some((segment) => segment === '..' || segment === '.')) return 'invalid';
  const file = path.resolve(root, ...segments.filter((segment) => segment.length > 0));
  if (file !== root && !file.startsWith(root + path.sep)) return 'invalid';
  return file;
}

async function fileStats(file: string): Promise<{ size: number; mtimeMs: number } | undefined> {
  try {
    const stats = await stat(file);
    return stats.isFile() ? stats : undefined;
  } catch {
    return undefined;
  }
}

async function serveIndex(req: IncomingMessage, res: ServerResponse, root: string): Promise<void> {
  const html = rewriteIndexHtml(await readFile(path.join(root, 'index.html'), 'utf8'));
  send(
    req,
    res,
    { kind: 'buffer', data: Buffer.from(html, 'utf8') },
    {
      'Content-Type': CONTENT_TYPES['.html']!,
      'Cache-Control': REVALIDATE,
    },
  );
}

/**
 * Answers /viewer and everything under /viewer/ (true), or leaves the request to the API (false). Unknown paths
 * without a file extension are the app's own routes (`/viewer/viewer?StudyInstanceUIDs=...`): they get index.html.
 */
export async function serveViewer(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  options: ViewerOptions,
): Promise<boolean> {
  const pathname = url.pathname;
  if (pathname !== ROUTER_BASENAME && !pathname.startsWith(VIEWER_BASE)) return false;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    writeGatewayError(res, 405, 'METHOD_NOT_ALLOWED', `the viewer is read-only: ${req.method} is not allowed`, {
      Allow: 'GET, HEAD',
    });
    return true;
  }
  if (pathname === ROUTER_BASENAME) {
    res.writeHead(301, { Location: `${VIEWER_BASE}${url.search}` });
    res.end();
    return true;
  }
  const root = path.resolve(options.distDir ?? viewerDistDir());
  if (!viewerInstalled(root)) {
    writeGatewayError(res, VIEWER_NOT_INSTALLED.status, VIEWER_NOT_INSTALLED.code, VIEWER_NOT_INSTALLED.error);
    return true;
  }
  const rest = pathname.slice(VIEWER_BASE.length);
  if (rest === 'app-config.js') {
    const origin = requestOrigin(req);
    if (!origin) {
      writeGatewayError(res, 400, 'BAD_HOST', 'the Host header is not a host name or address with an optional port');
      return true;
    }
    const config = viewerAppConfig({
      dicomwebRoot: `${origin}/dicomweb`,
      routerBasename: ROUTER_BASENAME,
      apiKeyRequired: options.apiKeyRequired,
    });
    send(
      req,
      res,
      { kind: 'buffer', data: Buffer.from(config, 'utf8') },
      {
        'Content-Type': CONTENT_TYPES['.js']!,
        'Cache-Control': REVALIDATE,
        Vary: 'Host',
      },
    );
    return true;
  }
  if (rest === '' || rest === 'index.html') {
    await serveIndex(req, res, root);
    return true;
  }
  const file = resolveInside(root, rest);
  if (file === 'invalid') {
    writeGatewayError(res, 400, 'BAD_PATH', 'the path leaves the viewer folder or is not valid');
    return true;
  }
  const stats = await fileStats(file);
  const extension = path.extname(file).toLowerCase();
  if (!stats) {
    // A missing script or image must fail as one, not parse index.html; a route has no extension.
    if (CONTENT_TYPES[extension]) {
      writeGatewayError(res, 404, 'NOT_FOUND', `no file ${pathname} in the viewer`);
    } else {
      await serveIndex(req, res, root);
    }
    return true;
  }
  const relativePath = path.relative(root, file).split(path.sep).join('/');
  const headers = {
    'Content-Type': CONTENT_TYPES[extension] ?? 'application/octet-stream',
    'Cache-Control': HASHED_NAME.test(path.basename(file)) ? IMMUTABLE : REVALIDATE,
  };
  const etag = `"${stats.size.toString(16)}-${Math.trunc(stats.mtimeMs).toString(16)}"`;
  const changed = mayNeedRewrite(relativePath) ? await rewrittenContent(file, relativePath) : null;
  send(req, res, changed ? { kind: 'buffer', data: changed } : { kind: 'file', file, size: stats.size }, headers, etag);
  return true;
}
