// The OHIF viewer in tests: is it installed, a local runtime that serves it, raw HTTP requests (no URL clean-up),
// headless Chromium with the flags the browser tests share, and reading the pixels OHIF draws.
import { existsSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { decode } from 'fast-png';
import { chromium, type Browser, type Page, type Request } from 'playwright-core';
import { viewerDistDir, viewerInstalled } from '../../lib/viewer-config.js';
import { startLocalRuntime, type LocalRuntime, type LocalRuntimeOptions } from '../../local/runtime.js';
import { tempDataDir, uploadForm, type TestRuntime } from './runtime.js';

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

/** Stores each file through POST /dicom (multipart field `file`) and waits until the processor has indexed them. */
export async function storeFiles(runtime: TestRuntime, files: { name: string; bytes: Uint8Array }[]): Promise<void> {
  for (const file of files) {
    const response = await fetch(`${runtime.url}/dicom`, { method: 'POST', body: uploadForm(file.bytes, file.name) });
    if (response.status !== 201) {
      throw new Error(`POST /dicom ${file.name}: ${response.status} ${(await response.text()).slice(0, 300)}`);
    }
  }
  await runtime.processorIdle();
}

/** What the page heard back from /dicomweb (every response), and what went wrong: 4xx/5xx and network failures. */
export interface DicomwebTraffic {
  responses: { url: string; status: number }[];
  failures: string[];
}

export function recordDicomwebTraffic(page: Page, dicomwebRoot: string): DicomwebTraffic {
  const traffic: DicomwebTraffic = { responses: [], failures: [] };
  page.on('response', (res) => {
    if (!res.url().startsWith(`${dicomwebRoot}/`)) return;
    traffic.responses.push({ url: res.url(), status: res.status() });
    if (res.status() >= 400) traffic.failures.push(`${res.request().method()} ${res.url()} -> ${res.status()}`);
  });
  page.on('requestfailed', (req) => {
    if (req.url().startsWith(`${dicomwebRoot}/`)) traffic.failures.push(`${req.url()} -> ${req.failure()?.errorText}`);
  });
  return traffic;
}

/** Console errors and uncaught exceptions of the page, for the report (OHIF logs its own troubles there). */
export function recordConsoleErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  return errors;
}

/**
 * OHIF's first-visit notices cover the viewport: the investigational-use banner (hidden for the session once
 * confirmed) and the basic viewer's onboarding tour (remembered in `shownTours`). Mark both as seen.
 */
export async function skipOhifNotices(page: Page): Promise<void> {
  await page.addInitScript({
    content: `localStorage.setItem('shownTours', JSON.stringify(['basicViewerTour']));
sessionStorage.setItem('investigationalUseDialog', 'hidden');`,
  });
}

/** The canvas cornerstone3D draws the active viewport's image on (the thumbnails have their own). */
export const VIEWPORT_CANVAS = '.viewport-element canvas.cornerstone-canvas';

/** What the viewport canvas shows, as grey levels (the mean of R, G and B) row by row. */
export interface GreyImage {
  width: number;
  height: number;
  grey: Uint8Array;
}

/** Reads the viewport's pixels: the canvas as PNG (toDataURL), decoded here; null while there is no canvas. */
export async function viewportImage(page: Page): Promise<GreyImage | null> {
  const dataUrl = await page.evaluate<string | null>(
    `(() => { const c = document.querySelector(${JSON.stringify(VIEWPORT_CANVAS)}); return c && c.width ? c.toDataURL('image/png') : null; })()`,
  );
  if (!dataUrl) return null;
  const png = decode(Buffer.from(dataUrl.slice(dataUrl.indexOf(',') + 1), 'base64'));
  const { width, height, channels, data } = png;
  const grey = new Uint8Array(width * height);
  const colours = Math.min(3, channels);
  for (let p = 0; p < grey.length; p++) {
    let sum = 0;
    for (let c = 0; c < colours; c++) sum += Number(data[p * channels + c]);
    grey[p] = Math.round(sum / colours);
  }
  return { width, height, grey };
}

export interface GreyStats {
  /** Fraction of pixels above 10 (not the black background). */
  nonBlack: number;
  /** Fraction of pixels above 200. */
  bright: number;
  mean: number;
  standardDeviation: number;
}

export function greyStats(image: GreyImage): GreyStats {
  let nonBlack = 0;
  let bright = 0;
  let sum = 0;
  let squares = 0;
  for (const value of image.grey) {
    if (value > 10) nonBlack++;
    if (value > 200) bright++;
    sum += value;
    squares += value * value;
  }
  const n = image.grey.length;
  const mean = sum / n;
  return {
    nonBlack: nonBlack / n,
    bright: bright / n,
    mean,
    standardDeviation: Math.sqrt(Math.max(0, squares / n - mean * mean)),
  };
}

/** Fraction of pixels whose grey level differs by more than 16 between two pictures of the same size. */
export function fractionChanged(a: GreyImage, b: GreyImage): number {
  if (a.width !== b.width || a.height !== b.height) return 1;
  let changed = 0;
  for (let p = 0; p < a.grey.length; p++) if (Math.abs(a.grey[p]! - b.grey[p]!) > 16) changed++;
  return changed / a.grey.length;
}

/**
 * The tissue classes met along row `y` from left to right, runs shorter than `minRun` pixels (edges) left out and
 * repeats merged: black (< 10), dark (< 50), grey (< 200), white.
 */
export function rowClasses(image: GreyImage, y: number, minRun = 4): string[] {
  const classOf = (value: number): string =>
    value < 10 ? 'black' : value < 50 ? 'dark' : value < 200 ? 'grey' : 'white';
  const runs: { cls: string; length: number }[] = [];
  for (let x = 0; x < image.width; x++) {
    const cls = classOf(image.grey[y * image.width + x]!);
    const last = runs[runs.length - 1];
    if (last?.cls === cls) last.length++;
    else runs.push({ cls, length: 1 });
  }
  const classes: string[] = [];
  for (const run of runs) {
    if (run.length < minRun || classes[classes.length - 1] === run.cls) continue;
    classes.push(run.cls);
  }
  return classes;
}

/** Polls `check` (async) until it returns a value (not undefined) or the deadline passes. */
export async function waitForAsync<T>(
  check: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
