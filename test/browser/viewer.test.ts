// The OHIF viewer in headless Chromium against the local runtime: the app boots under /viewer/ and asks this
// server's DICOMweb root for studies (QIDO-RS), with the API key when the API wants one.
// Once /dicomweb answers, the test that OHIF shows pixels belongs here too (helpers in test/support/viewer.ts).
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page, Request } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../lib/constructs/function-defaults.js';
import { API_KEY_STORAGE } from '../../lib/viewer-config.js';
import type { TestRuntime } from '../support/runtime.js';
import {
  CHROMIUM,
  HAS_CHROMIUM,
  launchChromium,
  recordDicomwebRequests,
  startViewerRuntime,
  VIEWER_INSTALLED,
  VIEWER_SKIP_REASON,
  waitFor,
} from '../support/viewer.js';

/** `UPDATE_SCREENSHOTS=1 npm test` rewrites the README's screenshots; normal runs leave the tree clean. */
const SCREENSHOT =
  process.env.UPDATE_SCREENSHOTS === '1' ? path.join(PROJECT_ROOT, 'docs', 'screenshots', 'ohif-study-list.png') : null;
const LAPTOP = { width: 1280, height: 860 };
const API_KEY = 'viewer-browser-key-0123456789';

if (!HAS_CHROMIUM) process.stderr.write(`test/browser/viewer.test.ts skipped: ${CHROMIUM} not found\n`);
if (!VIEWER_INSTALLED) process.stderr.write(`test/browser/viewer.test.ts skipped: ${VIEWER_SKIP_REASON}\n`);

/** OHIF's app shell: the study list's title and its search row, whatever the data source answered. */
async function waitForStudyList(page: Page): Promise<void> {
  await page.getByText('Study List', { exact: true }).first().waitFor({ timeout: 30_000 });
  await page.getByText('Patient', { exact: true }).first().waitFor({ timeout: 30_000 });
}

/** The first QIDO-RS study search the app sent. */
function firstStudySearch(requests: Request[]): Promise<Request> {
  return waitFor(
    () => requests.find((req) => new URL(req.url()).pathname === '/dicomweb/studies'),
    'a QIDO-RS request to /dicomweb/studies',
    30_000,
  );
}

describe.skipIf(!HAS_CHROMIUM || !VIEWER_INSTALLED)('the OHIF viewer in headless Chromium', () => {
  let browser: Browser;
  let context: BrowserContext;
  const runtimes: TestRuntime[] = [];

  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterEach(async () => {
    await context?.close();
    for (const runtime of runtimes.splice(0)) await runtime.destroy();
  });
  afterAll(async () => {
    await browser?.close();
  });

  async function open(apiKey?: string): Promise<{ page: Page; runtime: TestRuntime; dicomweb: Request[] }> {
    const runtime = await startViewerRuntime(apiKey ? { apiKey } : {});
    runtimes.push(runtime);
    context = await browser.newContext({ viewport: LAPTOP });
    const page = await context.newPage();
    const dicomweb = recordDicomwebRequests(page, `${runtime.url}/dicomweb`);
    return { page, runtime, dicomweb };
  }

  it('renders its study list under /viewer/ and queries <origin>/dicomweb/studies', { timeout: 90_000 }, async () => {
    const { page, runtime, dicomweb } = await open();
    const failedAssets: string[] = [];
    page.on('response', (res) => {
      if (res.url().startsWith(`${runtime.url}/viewer/`) && res.status() >= 400) failedAssets.push(res.url());
    });
    await page.goto(`${runtime.url}/viewer/`);
    const qido = await firstStudySearch(dicomweb);
    process.stdout.write(`first QIDO-RS request: ${qido.url()}\n`);
    expect(qido.url().startsWith(`${runtime.url}/dicomweb/studies?`)).toBe(true);
    expect(qido.headers().authorization).toBeUndefined();
    await waitForStudyList(page);
    // The router works under /viewer (the app did not navigate away to "/").
    expect(new URL(page.url()).pathname.startsWith('/viewer')).toBe(true);
    expect(failedAssets).toEqual([]);
    if (SCREENSHOT) {
      mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
      await page.screenshot({ path: SCREENSHOT });
    }
  });

  it('sends the stored API key as a Bearer token when the API wants one', { timeout: 90_000 }, async () => {
    const { page, runtime, dicomweb } = await open(API_KEY);
    // The key the web page stored on this origin.
    await page.addInitScript({
      content: `localStorage.setItem(${JSON.stringify(API_KEY_STORAGE)}, ${JSON.stringify(API_KEY)});`,
    });
    await page.goto(`${runtime.url}/viewer/`);
    const qido = await firstStudySearch(dicomweb);
    expect(qido.headers().authorization).toBe(`Bearer ${API_KEY}`);
  });

  it('asks for the key once when none is stored', { timeout: 90_000 }, async () => {
    const { page, runtime, dicomweb } = await open(API_KEY);
    const prompts: string[] = [];
    page.on('dialog', (dialog) => {
      prompts.push(dialog.message());
      void dialog.accept(API_KEY);
    });
    await page.goto(`${runtime.url}/viewer/`);
    const qido = await firstStudySearch(dicomweb);
    expect(prompts).toHaveLength(1);
    expect(qido.headers().authorization).toBe(`Bearer ${API_KEY}`);
  });
});
