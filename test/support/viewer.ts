// The OHIF viewer in tests: is it installed, a local runtime that serves it, raw HTTP requests (no URL clean-up),
// and headless Chromium with the flags the browser tests share.
import { existsSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { chromium, type Browser, type Page, type Request } from 'playwright-core';
import { viewerDistDir, viewerInstalled } from '../../lib/viewer-config.js';
import { startLocalRuntime, type LocalRuntime, type LocalRuntimeOptions } from '../../local/runtime.js';
import { tempDataDir, type TestRuntime } from './runtime.js';

export const VIEWER_DIST = viewerDistDir();
export const VIEWER_INSTALLED = viewerInstalled(VIEWER_DIST);
export const VIEWER_SKIP_REASON = `OHIF viewer not installed in ${VIEWER_DIST} (run npm run viewer:install)`;

/** Debian's chromium (a test tool's own browser download cannot work offline). */
export const CHROMIUM = '/usr/bin/chromium';
export const HAS_CHROMIUM = existsSync(CHROMIUM);
/** The flags that keep Chromium quiet on a closed network; Playwright adds headless and a fresh profile. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/** A runtime on a free port and a fresh data folder, serving the viewer from `viewerDir` (default: the install). */
export async function startViewerRuntime(
  options: Pick<LocalRuntimeOptions, 'apiKey' | 'viewerDir'> = {},
): Promise<TestRuntime> {
  const dataDir = tempDataDir();
  const runtime: LocalRuntime = await startLocalRuntime({ port: 0, dataDir, processorWorkers: 1, ...options });
  return {
    ...runtime,
    async destroy() {
      await runtime.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A GET of `path` exactly as written (fetch would resolve `..` before sending). */
export function rawGet(baseUrl: string, path: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, method: 'GET', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** DICOMweb requests the page makes (QIDO-RS, WADO-RS), in order, with the headers they carried. */
export function recordDicomwebRequests(page: Page, dicomwebRoot: string): Request[] {
  const seen: Request[] = [];
  page.on('request', (req) => {
    if (req.url().startsWith(`${dicomwebRoot}/`)) seen.push(req);
  });
  return seen;
}

/** Polls `check` until it returns a value (not undefined) or the deadline passes. */
export async function waitFor<T>(check: () => T | undefined, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
