// The OHIF viewer in headless Chromium against the local runtime: the app boots under /viewer/ and asks this
// server's DICOMweb root for studies (QIDO-RS), with the API key when the API wants one; then it shows the images
// stored through POST /dicom (a CT series, RLE and JPEG multi-frames), checked by the pixels it draws.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import dicomParser from 'dicom-parser';
import type { Browser, BrowserContext, Page, Request } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../lib/constructs/function-defaults.js';
import { API_KEY_STORAGE } from '../../lib/viewer-config.js';
import { jpegMovie, rleMovie } from '../fixtures/movies.js';
import { headPhantomSeries } from '../fixtures/phantom.js';
import type { TestRuntime } from '../support/runtime.js';
import {
  CHROMIUM,
  fractionChanged,
  greyStats,
  HAS_CHROMIUM,
  launchChromium,
  recordConsoleErrors,
  recordDicomwebRequests,
  recordDicomwebTraffic,
  rowClasses,
  skipOhifNotices,
  startViewerRuntime,
  storeFiles,
  VIEWER_INSTALLED,
  VIEWER_SKIP_REASON,
  VIEWPORT_CANVAS,
  viewportImage,
  waitFor,
  waitForAsync,
  type DicomwebTraffic,
  type GreyImage,
} from '../support/viewer.js';

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

/** A stored study as OHIF's study list shows it ("Family, Given"). */
interface ViewerStudy {
  uid: string;
  listed: string;
}
const UID_ROOT = '1.2.826.0.1.3680043.8.498.8100';
const CT: ViewerStudy = { uid: `${UID_ROOT}.1`, listed: 'Okafor, Ada' };
const RLE: ViewerStudy = { uid: `${UID_ROOT}.2`, listed: 'Rivera, Luis' };
const JPEG: ViewerStudy = { uid: `${UID_ROOT}.3`, listed: 'Nakamura, Ken' };
const CT_SLICES = 12;
const MOVIE_FRAMES = 10;

/** The 12 slices of the head CT series, and one RLE Lossless and one JPEG Baseline movie of 10 frames. */
function viewerFixtures(): { name: string; bytes: Uint8Array }[] {
  const slices = headPhantomSeries({
    slices: CT_SLICES,
    name: 'Okafor^Ada',
    patientId: 'OK-0001',
    studyInstanceUid: CT.uid,
    seriesInstanceUid: `${CT.uid}.1`,
    sopInstanceUidPrefix: `${CT.uid}.1`,
  }).map((bytes, k) => ({ name: `ct-${k + 1}.dcm`, bytes }));
  const movie = (study: ViewerStudy, name: string, patientId: string) => ({
    name,
    patientId,
    frames: MOVIE_FRAMES,
    studyInstanceUid: study.uid,
    seriesInstanceUid: `${study.uid}.1`,
    sopInstanceUid: `${study.uid}.1.1`,
  });
  return [
    ...slices,
    { name: 'cine-rle.dcm', bytes: rleMovie(movie(RLE, 'Rivera^Luis', 'RV-0002')) },
    { name: 'cine-jpeg.dcm', bytes: jpegMovie(movie(JPEG, 'Nakamura^Ken', 'NK-0003')) },
  ];
}

/** The conformance corpus (read from there, never copied), with the multi-frame JPEG files OHIF should play. */
const CORPUS = path.resolve(PROJECT_ROOT, '..', 'shared', 'dicom-samples');
const CORPUS_MOVIES = ['us-multiframe-34-jpeg.dcm', 'xa-multiframe-96-jpeg.dcm'];
const HAS_CORPUS = CORPUS_MOVIES.every((name) => existsSync(path.join(CORPUS, name)));

const NO_VIEWER = !HAS_CHROMIUM || !VIEWER_INSTALLED;
if (!NO_VIEWER && !HAS_CORPUS) {
  process.stderr.write(
    `test/browser/viewer.test.ts: corpus multi-frames skipped: ${CORPUS} lacks ${CORPUS_MOVIES.join(' or ')}\n`,
  );
}

/**
 * `UPDATE_SCREENSHOTS=1 npm test` rewrites the README's screenshots (docs/screenshots/<name>), taken once the
 * studies are stored; normal runs leave the tree clean.
 */
async function screenshot(page: Page, name: string): Promise<void> {
  if (process.env.UPDATE_SCREENSHOTS !== '1') return;
  const file = path.join(PROJECT_ROOT, 'docs', 'screenshots', name);
  mkdirSync(path.dirname(file), { recursive: true });
  // No hover highlight from the last click or wheel in the picture.
  await page.mouse.move(0, 0);
  await page.screenshot({ path: file });
}

/** Waits until the viewport shows an image: a canvas with at least `minNonBlack` of its pixels not black. */
function waitForImage(page: Page, minNonBlack: number, what: string): Promise<GreyImage> {
  return waitForAsync(
    async () => {
      const image = await viewportImage(page);
      return image && greyStats(image).nonBlack >= minNonBlack ? image : undefined;
    },
    `the viewport to show ${what}`,
    30_000,
  );
}

/** The viewport's "(n/total)" image position overlay, e.g. "I:7 (6/12)" -> 6. */
async function imagePosition(page: Page, total: number): Promise<number> {
  const text = await page
    .locator('[data-cy="viewport-overlay-bottom-right"]')
    .getByText(new RegExp(`\\(\\d+/${total}\\)`))
    .first()
    .textContent({ timeout: 10_000 });
  return Number(/\((\d+)\//.exec(text ?? '')?.[1]);
}

/**
 * Turns the mouse wheel over the viewport `steps` times (one image each), each time waiting for the overlay to
 * move on, then for the canvas to differ from `before` by at least `minChanged` of its pixels.
 */
async function scrollImages(
  page: Page,
  before: GreyImage,
  total: number,
  steps: number,
  minChanged: number,
): Promise<{ image: GreyImage; changed: number; from: number; to: number }> {
  const box = await page.locator(VIEWPORT_CANVAS).first().boundingBox();
  if (!box) throw new Error('the viewport canvas has no box');
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  const from = await imagePosition(page, total);
  let position = from;
  for (let step = 0; step < steps; step++) {
    await page.mouse.wheel(0, 100);
    const previous = position;
    position = await waitForAsync(
      async () => {
        const now = await imagePosition(page, total);
        return now !== previous ? now : undefined;
      },
      `the image position to move on from ${previous}/${total}`,
      10_000,
    );
  }
  let changed = 0;
  const image = await waitForAsync(
    async () => {
      const now = await viewportImage(page);
      changed = now ? fractionChanged(before, now) : 0;
      return now && changed >= minChanged ? now : undefined;
    },
    `the viewport to show another image (${minChanged} of its pixels changed)`,
    10_000,
  );
  return { image, changed, from, to: position };
}

/** The distinct WADO-RS frame URLs OHIF asked for (…/instances/<uid>/frames/<n>). */
function frameUrls(traffic: DicomwebTraffic): string[] {
  return [...new Set(traffic.responses.map((r) => new URL(r.url).pathname).filter((p) => /\/frames\/\d+$/.test(p)))];
}

describe.skipIf(NO_VIEWER)('OHIF shows the images stored through POST /dicom', () => {
  let browser: Browser;
  let runtime: TestRuntime;
  let context: BrowserContext | undefined;
  /** Per test: what /dicomweb answered and the console errors, printed for the record. */
  let traffic: DicomwebTraffic;
  let consoleErrors: string[] = [];

  beforeAll(async () => {
    [runtime, browser] = await Promise.all([startViewerRuntime(), launchChromium()]);
    await storeFiles(runtime, viewerFixtures());
  }, 60_000);
  afterEach(async (test) => {
    if (consoleErrors.length > 0) {
      process.stdout.write(`${test.task.name}: OHIF console errors:\n  ${consoleErrors.join('\n  ')}\n`);
    }
    consoleErrors = [];
    await context?.close();
    context = undefined;
  });
  afterAll(async () => {
    await browser?.close();
    await runtime?.destroy();
  });

  async function openPage(): Promise<Page> {
    context = await browser.newContext({ viewport: LAPTOP });
    const page = await context.newPage();
    await skipOhifNotices(page);
    traffic = recordDicomwebTraffic(page, `${runtime.url}/dicomweb`);
    consoleErrors = recordConsoleErrors(page);
    return page;
  }

  /** Opens OHIF's basic viewer on a study, as the study list's "Basic Viewer" button does. */
  async function openViewer(page: Page, study: ViewerStudy): Promise<void> {
    await page.goto(`${runtime.url}/viewer/viewer?StudyInstanceUIDs=${study.uid}`);
  }

  it(
    'lists the stored studies, opens the CT series from the list and scrolls its slices',
    { timeout: 60_000 },
    async () => {
      const page = await openPage();
      await page.goto(`${runtime.url}/viewer/`);
      for (const study of [CT, RLE, JPEG]) {
        await page.getByText(study.listed, { exact: true }).waitFor({ timeout: 30_000 });
      }
      // A click on the study shows its series and the workflows it opens in.
      await page.getByText(CT.listed, { exact: true }).click();
      await page.getByText('AXIAL 5MM').first().waitFor({ timeout: 10_000 });
      await screenshot(page, 'ohif-study-list.png');
      await page.getByRole('button', { name: 'Basic Viewer' }).click({ timeout: 10_000 });
      await page.waitForURL((url) => url.pathname === '/viewer/viewer' && url.search.includes(CT.uid));
      const first = await waitForImage(page, 0.1, 'a CT slice');
      const stats = greyStats(first);
      // The head fills a good part of the viewport; skull white, brain grey, background black.
      expect(stats.nonBlack).toBeGreaterThan(0.15);
      expect(stats.bright).toBeGreaterThan(0.02);
      expect(stats.standardDeviation).toBeGreaterThan(40);
      // Across the middle: background, skull, brain, the dark ventricles, brain, skull, background.
      const across = rowClasses(first, Math.floor(first.height / 2));
      expect(across.slice(0, 3)).toEqual(['black', 'white', 'grey']);
      expect(across.slice(-3)).toEqual(['grey', 'white', 'black']);
      expect(across.slice(3, -3)).toContain('dark');

      const scrolled = await scrollImages(page, first, CT_SLICES, 5, 0.02);
      expect(scrolled.to - scrolled.from).toBe(5);
      expect(greyStats(scrolled.image).nonBlack).toBeGreaterThan(0.15);
      // One frame URL per slice: OHIF fetched the series image by image.
      const frames = frameUrls(traffic);
      expect(frames.length).toBeGreaterThan(1);
      expect(frames.every((url) => url.startsWith(`/dicomweb/studies/${CT.uid}/series/${CT.uid}.1/instances/`))).toBe(
        true,
      );
      process.stdout.write(
        `CT: ${frames.length} frame URLs; slice ${scrolled.from} -> ${scrolled.to} changed ${(scrolled.changed * 100).toFixed(1)}% of the pixels\n`,
      );
      await screenshot(page, 'ohif-ct-series.png');
      expect(traffic.failures).toEqual([]);
    },
  );

  for (const [study, label, screenshotName] of [
    [RLE, 'RLE Lossless', 'ohif-multiframe.png'],
    [JPEG, 'JPEG Baseline', null],
  ] as const) {
    it(`plays the ${label} multi-frame frame by frame`, { timeout: 60_000 }, async () => {
      const page = await openPage();
      await openViewer(page, study);
      const first = await waitForImage(page, 0.5, `frame 1 of the ${label} movie`);
      const stats = greyStats(first);
      // The soft background fills the image square; the ball is white.
      expect(stats.nonBlack).toBeGreaterThan(0.6);
      expect(stats.bright).toBeGreaterThan(0.02);
      expect(stats.standardDeviation).toBeGreaterThan(20);
      const scrolled = await scrollImages(page, first, MOVIE_FRAMES, 2, 0.02);
      expect(scrolled.to - scrolled.from).toBe(2);
      const frameNumbers = new Set(frameUrls(traffic).map((url) => Number(url.split('/').pop())));
      expect(frameNumbers.size).toBeGreaterThan(1);
      process.stdout.write(
        `${label}: frames ${[...frameNumbers].sort((a, b) => a - b).join(',')} requested; frame ${scrolled.from} -> ${scrolled.to} changed ${(scrolled.changed * 100).toFixed(1)}%\n`,
      );
      if (screenshotName) await screenshot(page, screenshotName);
      expect(traffic.failures).toEqual([]);
    });
  }

  describe.skipIf(!HAS_CORPUS)('the corpus multi-frame JPEG files', () => {
    for (const name of CORPUS_MOVIES) {
      it(`plays ${name}`, { timeout: 60_000 }, async () => {
        const bytes = readFileSync(path.join(CORPUS, name));
        const dataset = dicomParser.parseDicom(bytes, { untilTag: 'x7fe00010' });
        const uid = dataset.string('x0020000d') ?? '';
        const frames = Number(dataset.string('x00280008'));
        await storeFiles(runtime, [{ name, bytes }]);
        const page = await openPage();
        await openViewer(page, { uid, listed: '' });
        const first = await waitForImage(page, 0.2, `frame 1 of ${name}`);
        expect(greyStats(first).standardDeviation).toBeGreaterThan(10);
        const scrolled = await scrollImages(page, first, frames, 3, 0.005);
        expect(scrolled.to - scrolled.from).toBe(3);
        expect(new Set(frameUrls(traffic)).size).toBeGreaterThan(1);
        process.stdout.write(
          `${name}: ${frames} frames, ${frameUrls(traffic).length} frame URLs; frame ${scrolled.from} -> ${scrolled.to} changed ${(scrolled.changed * 100).toFixed(1)}%\n`,
        );
        expect(traffic.failures).toEqual([]);
      });
    }
  });
});
