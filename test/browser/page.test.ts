// The web page in headless Chromium against the local runtime: upload, list, open, look, search, delete, API key.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { ROUTES } from '../../lambdas/routes.js';
import { PROJECT_ROOT } from '../../lib/constructs/function-defaults.js';
import { buildDicom, imageElements, patientElements, sampleCt } from '../fixtures/dicom-builder.js';
import { headPhantomCt } from '../fixtures/phantom.js';
import { startTestRuntime, type TestRuntime } from '../support/runtime.js';
import { CHROMIUM, CHROMIUM_ARGS, HAS_CHROMIUM } from '../support/viewer.js';

/** `UPDATE_SCREENSHOTS=1 npm test` rewrites the README's screenshots; normal runs leave the tree clean. */
const SCREENSHOT_DIR = process.env.UPDATE_SCREENSHOTS === '1' ? path.join(PROJECT_ROOT, 'docs', 'screenshots') : null;
const LAPTOP = { width: 1280, height: 860 };
const PHONE = { width: 390, height: 844 };
const PATIENT = 'Yamada^Tarou=山田^太郎';
const SIZE = 256;
const FRAMES = 3;

/** What the in-page callbacks read of an element (this file compiles without the DOM library). */
interface ImageElement {
  naturalWidth: number;
  naturalHeight: number;
  src: string;
  getBoundingClientRect(): { width: number; height: number };
}
interface ProgressBar {
  value: number;
  max: number;
}

if (!HAS_CHROMIUM) {
  process.stderr.write(`test/browser skipped: ${CHROMIUM} not found (install it: apt-get install -y chromium)\n`);
}

/** A Japanese patient's head CT with a coded procedure (a sequence) and UTF-8 text (ISO_IR 192). */
function japaneseHeadCt(): Uint8Array {
  return headPhantomCt({
    size: SIZE,
    frames: FRAMES,
    name: PATIENT,
    patientId: 'JP-0042',
    description: '頭部 CT HEAD',
    studyDate: '20240312',
    charset: 'ISO_IR 192',
    extra: [
      { tag: 0x00080080, vr: 'LO', value: '山田記念病院' },
      {
        tag: 0x00081032,
        vr: 'SQ',
        value: {
          items: [
            [
              { tag: 0x00080100, vr: 'SH', value: 'CTHEAD' },
              { tag: 0x00080102, vr: 'SH', value: 'L' },
              { tag: 0x00080104, vr: 'LO', value: '頭部CT 単純' },
            ],
          ],
        },
      },
    ],
  });
}

/** An MR-like record without pixel data worries nobody; a plain second image keeps the list realistic. */
function otherFiles(): { name: string; bytes: Uint8Array }[] {
  return [
    {
      name: 'knee-mr.dcm',
      bytes: buildDicom([
        ...patientElements({
          name: 'Doe^Jane',
          id: 'P-1002',
          studyDate: '20231102',
          description: 'MR KNEE',
          modality: 'MR',
        }),
      ]),
    },
    { name: 'ct-small.dcm', bytes: sampleCt() },
  ];
}

/** Two studies, told apart by their StudyInstanceUID (0020,000D). */
interface StudyFixture {
  uid: string;
  name: string;
  id: string;
  date: string;
  description: string;
}
const CHEST: StudyFixture = {
  uid: '1.2.826.0.1.3680043.8.498.7001',
  name: 'Kimura^Hana',
  id: 'KM-77',
  date: '20250120',
  description: 'CT CHEST',
};
const SPINE: StudyFixture = {
  uid: '1.2.826.0.1.3680043.8.498.7002',
  name: 'Lee^Sam',
  id: 'LS-5',
  date: '20241102',
  description: 'MR SPINE',
};

/** One instance of a study: a 32 x 32 image, or (a report) no pixel data; each its own SOP Instance UID. */
function studyFile(study: StudyFixture, modality: string, instance: number, image = true): Uint8Array {
  return buildDicom(
    [
      ...patientElements({
        name: study.name,
        id: study.id,
        studyDate: study.date,
        description: study.description,
        modality,
      }),
      { tag: 0x0020000d, vr: 'UI', value: study.uid },
      { tag: 0x0020000e, vr: 'UI', value: `${study.uid}.${modality === 'SR' ? 2 : 1}` },
      ...(image
        ? imageElements({ rows: 32, columns: 32, pixels: Array.from({ length: 32 * 32 }, (_, i) => (i % 32) * 64) })
        : []),
    ],
    { sopInstanceUid: `${study.uid}.9.${instance}` },
  );
}

/** The files of the two studies: the chest CT has two images and a report, the spine MR one image. */
function studyFiles(): { name: string; bytes: Uint8Array }[] {
  return [
    { name: 'chest-1.dcm', bytes: studyFile(CHEST, 'CT', 1) },
    { name: 'chest-2.dcm', bytes: studyFile(CHEST, 'CT', 2) },
    { name: 'chest-report.dcm', bytes: studyFile(CHEST, 'SR', 3, false) },
    { name: 'spine-1.dcm', bytes: studyFile(SPINE, 'MR', 1) },
  ];
}

/** Studies told apart by their dates: 26 of March 2016 (more than a page of 25) and two of 2018, no images. */
const DATED_ROOT = '1.2.826.0.1.3680043.8.498.7100';
interface DatedStudy {
  uid: string;
  date: string;
  name: string;
}
const DATED: DatedStudy[] = [
  ...Array.from({ length: 26 }, (_, i) => ({
    uid: `${DATED_ROOT}.16.${i + 1}`,
    date: `201603${String(i + 1).padStart(2, '0')}`,
    name: `March^Day${i + 1}`,
  })),
  { uid: `${DATED_ROOT}.18.1`, date: '20180704', name: 'July^Fourth' },
  { uid: `${DATED_ROOT}.18.2`, date: '20181225', name: 'December^Noel' },
];

/** Stores one file of each dated study through the API and waits until GET /studies lists them all. */
async function uploadDatedStudies(): Promise<void> {
  await Promise.all(
    DATED.map(async (study) => {
      const bytes = buildDicom(
        [
          ...patientElements({
            name: study.name,
            id: `DT-${study.date}`,
            studyDate: study.date,
            description: 'DATED',
            modality: 'OT',
          }),
          { tag: 0x0020000d, vr: 'UI', value: study.uid },
        ],
        { sopInstanceUid: `${study.uid}.9.1` },
      );
      const form = new FormData();
      form.append('file', new Blob([bytes]), `dated-${study.date}.dcm`);
      expect((await fetch(`${api.url}/dicom`, { method: 'POST', body: form })).status).toBe(201);
    }),
  );
  const listed = async (range: string) =>
    ((await (await fetch(`${api.url}/studies?limit=100&study_date=${range}`)).json()) as { count: number }).count;
  await expect.poll(() => listed('20160301-20160331'), { timeout: 20_000 }).toBe(26);
  await expect.poll(() => listed('20180101-20181231'), { timeout: 20_000 }).toBe(2);
}

let api: TestRuntime;
let browser: Browser;
let context: BrowserContext | undefined;
let page: Page;
/** Console errors and failed page scripts: a CSP violation shows up here. */
let pageErrors: string[];

async function newPage(viewport = LAPTOP): Promise<Page> {
  context = await browser.newContext({ viewport, locale: 'en-GB' });
  const opened = await context.newPage();
  pageErrors = [];
  opened.on('pageerror', (error) => pageErrors.push(`pageerror: ${error.message}`));
  opened.on('console', (message) => {
    // The page itself logs nothing; a 4xx the page handles shows as a resource error, which is fine.
    if (message.type() === 'error' && !/Failed to load resource/.test(message.text())) pageErrors.push(message.text());
  });
  return opened;
}

/** Saves what the page shows now (CJK text needs a CJK font, e.g. Debian's fonts-noto-cjk, to look right). */
async function screenshot(name: string, fullPage = false): Promise<void> {
  if (!SCREENSHOT_DIR) return;
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  // No hover state from the last click (a spinner, an underline) in the picture.
  await page.mouse.move(0, 0);
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, name), fullPage });
}

/** The row of the file list whose patient cell shows `text`. */
function fileRow(text: string) {
  return page.locator('#file-rows tr', { hasText: text });
}

/** The row of the studies table that shows `text`. */
function studyRow(text: string) {
  return page.locator('#study-rows tr', { hasText: text });
}

/** The id of the element that has the keyboard focus. */
function focusedId(): Promise<string | null> {
  return page.evaluate<string | null>('document.activeElement && document.activeElement.id');
}

/** The text of the element that has the keyboard focus. */
function focusedText(): Promise<string | null> {
  return page.evaluate<string | null>('document.activeElement && document.activeElement.textContent');
}

/** What each card's cells say they are at phone widths (their ::before content; "none" for none). */
function cellLabels(row: ReturnType<Page['locator']>): Promise<string[]> {
  return row
    .locator('td')
    .evaluateAll((cells) =>
      cells.map((cell) => cell.ownerDocument.defaultView!.getComputedStyle(cell, '::before').content),
    );
}

describe.skipIf(!HAS_CHROMIUM)(`the web page in headless Chromium (${CHROMIUM})`, () => {
  beforeAll(async () => {
    api = await startTestRuntime();
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await api?.destroy();
  });
  afterEach(async () => {
    if (!context) return;
    await context.close();
    context = undefined;
    expect(pageErrors, 'no script errors or CSP violations').toEqual([]);
  });

  it('is served at / with a CSP, and its scripts and stylesheet at /web/{file}', async () => {
    const response = await fetch(`${api.url}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
    expect(await response.text()).toContain('<base href="/" />');
    const script = await fetch(`${api.url}/web/app.js`);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
  });

  it('uploads several files at once, each with a progress bar and its outcome, and lists them', async () => {
    page = await newPage();
    await page.goto(`${api.url}/`);
    await expect.poll(() => page.locator('#list-status').textContent()).toBe('');
    await expect.poll(() => page.locator('#file-rows').textContent()).toContain('No files yet');

    await page.setInputFiles('#file-input', [
      { name: 'head-ct.dcm', mimeType: 'application/dicom', buffer: Buffer.from(japaneseHeadCt()) },
      ...otherFiles().map((f) => ({ name: f.name, mimeType: 'application/dicom', buffer: Buffer.from(f.bytes) })),
      { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('these are notes, not an image') },
    ]);
    const items = page.locator('#upload-list li');
    await expect.poll(() => items.count()).toBe(4);
    await expect.poll(() => page.locator('#upload-list li[data-state="busy"]').count(), { timeout: 15_000 }).toBe(0);
    const outcomes = Object.fromEntries(
      await items.evaluateAll((rows) =>
        rows.map((row) => [
          row.querySelector('.upload-name')?.textContent,
          row.querySelector('.upload-outcome')?.textContent,
        ]),
      ),
    );
    expect(outcomes['head-ct.dcm']).toBe('Uploaded. Open');
    expect(outcomes['knee-mr.dcm']).toMatch(/^Uploaded/);
    // The API's own message, so the person knows what was wrong.
    expect(outcomes['notes.txt']).toMatch(/^Failed: not a DICOM file/);
    const progress = await page
      .locator('#upload-list li[data-state="ok"] progress')
      .evaluateAll((bars) =>
        bars.map((bar) => (bar as unknown as ProgressBar).value / (bar as unknown as ProgressBar).max),
      );
    expect(progress).toEqual([1, 1, 1]);
    await expect.poll(() => page.locator('#announcer').textContent()).toBe('Uploads finished: 3 uploaded, 1 failed.');

    // Listed with the name read in UTF-8, the date, modality and description, and READY once processed.
    const row = fileRow('山田');
    await expect.poll(() => row.locator('.badge').textContent(), { timeout: 15_000 }).toBe('Ready');
    const cells = await row.locator('td').allTextContents();
    expect(cells.slice(1, 7)).toEqual([
      'Yamada, Tarou (山田 太郎)head-ct.dcm',
      '2024-03-12',
      'CT',
      '頭部 CT HEAD',
      expect.stringMatching(/^\d+(\.\d)? (kB|MB)$/),
      'Ready',
    ]);
    // The list refreshes every 2 s while files are processing: wait for a refresh, not expect.poll's default 1 s.
    const refreshed = { timeout: 15_000 };
    await expect.poll(() => page.locator('#file-rows tr').count(), refreshed).toBe(3);
    await expect
      .poll(() => page.locator('#file-rows .badge').allTextContents(), refreshed)
      .toEqual(['Ready', 'Ready', 'Ready']);
    // A preview for each image, none for the MR record without pixel data.
    await expect.poll(() => naturalWidth(row.locator('td.preview img')), refreshed).toBe(SIZE);
    await expect.poll(() => naturalWidth(fileRow('DOE, JOHN').locator('td.preview img')), refreshed).toBeGreaterThan(0);
    expect(await fileRow('Doe, Jane').locator('img').count()).toBe(0);
    await screenshot('list.png', true);
    await page.locator('#clear-uploads').click();
    await expect.poll(() => items.count()).toBe(0);
  });

  it('opens a file: the image at its natural size, the summary, and the attribute table with search', async () => {
    page = await newPage();
    await page.goto(`${api.url}/`);
    await fileRow('山田').locator('a.file-link').click();
    await expect.poll(() => page.locator('#detail-heading').textContent()).toBe('Yamada, Tarou (山田 太郎)');
    expect(await page.locator(':focus').getAttribute('id')).toBe('detail-heading');

    // The PNG arrives with the API key path (fetch -> blob:) and shows one image pixel per CSS pixel.
    const image = page.locator('#image');
    await expect.poll(() => image.evaluate((img) => (img as unknown as ImageElement).naturalWidth)).toBe(SIZE);
    const shown = await image.evaluate((img) => {
      const box = img.getBoundingClientRect();
      const element = img as unknown as ImageElement;
      return { src: element.src, natural: [element.naturalWidth, element.naturalHeight], box: [box.width, box.height] };
    });
    expect(shown.src).toMatch(/^blob:/);
    expect(shown.natural).toEqual([SIZE, SIZE]);
    expect(shown.box).toEqual([SIZE, SIZE]);
    expect(await image.getAttribute('alt')).toBe(
      `Image of head-ct.dcm, frame 1 of ${FRAMES}, ${SIZE} × ${SIZE} pixels`,
    );

    // Multi-frame: a frame slider when the API renders other frames, else a note that it renders the first only.
    await expect.poll(() => page.locator('#frame-controls').isVisible()).toBe(true);
    expect(await page.locator('#frame').getAttribute('max')).toBe(String(FRAMES));
    const frameSupported = (await fetch(`${api.url}/dicom/${await openId()}/png?frame=0`)).status === 400;
    if (frameSupported) {
      const first = await image.getAttribute('src');
      await page.locator('#frame').fill('3');
      await expect.poll(() => image.getAttribute('src')).not.toBe(first);
      await expect.poll(() => page.locator('#frame-output').textContent()).toBe(`3 of ${FRAMES}`);
    } else {
      expect(await page.locator('#frame').isDisabled()).toBe(true);
      expect(await page.locator('#frame-controls .note').textContent()).toBe('This API renders only the first frame.');
    }
    const windowSupported = (await fetch(`${api.url}/dicom/${await openId()}/png?window=x`)).status === 400;
    expect(await page.locator('#window-form').isVisible()).toBe(windowSupported);

    const summary = await page.locator('#summary').innerText();
    expect(summary).toContain(PATIENT);
    expect(summary).toContain('JP-0042');
    expect(summary).toContain(`${SIZE} × ${SIZE} pixels`);

    // Every attribute, the Japanese values decoded (ISO_IR 192).
    const search = page.locator('#attribute-search');
    await expect.poll(() => page.locator('#attribute-status').textContent()).toMatch(/^\d+ attributes\.$/);
    const rowOf = (tag: string) => page.locator(`#attribute-rows tr[data-key="${tag}"]`);
    expect(await rowOf('0010,0010').locator('td.value').textContent()).toBe(PATIENT);
    expect(await rowOf('0008,0080').locator('td.value').textContent()).toBe('山田記念病院');

    // Search by keyword, by tag in each form the API knows, by name, by value.
    for (const query of ['PatientName', '0010,0010', '(0010,0010)', '00100010', "Patient's Name", '太郎']) {
      await search.fill(query);
      await expect.poll(() => page.locator('#attribute-status').textContent(), { message: query }).toMatch(/match/);
      const keys = await page
        .locator('#attribute-rows tr')
        .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-key')));
      expect(keys, query).toContain('0010,0010');
      expect(keys.length, query).toBeLessThan(5);
    }
    await search.fill('no such attribute anywhere');
    await expect
      .poll(() => page.locator('#attribute-status').textContent())
      .toBe('No attribute matches “no such attribute anywhere”.');
    // A match inside a sequence brings its sequence and item along.
    await search.fill('CodeMeaning');
    await expect
      .poll(() => page.locator('#attribute-rows tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-key'))))
      .toEqual(['0008,1032', '0008,1032/1', '0008,1032/1/0008,0104']);
    expect(await rowOf('0008,1032/1/0008,0104').locator('td.value').textContent()).toBe('頭部CT 単純');

    // Sequences open and close from the keyboard.
    await search.fill('');
    await expect.poll(() => page.locator('#attribute-status').textContent()).toMatch(/^\d+ attributes\.$/);
    expect(await rowOf('0008,1032/1/0008,0100').count()).toBe(0);
    const toggle = rowOf('0008,1032').locator('button.toggle');
    expect(await toggle.getAttribute('aria-expanded')).toBe('false');
    await toggle.focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => rowOf('0008,1032/1/0008,0100').locator('td.value').textContent()).toBe('CTHEAD');
    const reopened = rowOf('0008,1032').locator('button.toggle');
    expect(await reopened.getAttribute('aria-expanded')).toBe('true');
    expect(await reopened.evaluate((button) => button === button.ownerDocument.activeElement)).toBe(true);
    // Pixel Data is not inlined: its length is shown instead.
    expect(await rowOf('7FE0,0010').locator('td.value').textContent()).toBe(
      `binary, ${(SIZE * SIZE * FRAMES * 2).toLocaleString('en-GB')} bytes`,
    );
    await page.evaluate('window.scrollTo(0, 0)');
    await screenshot('detail.png');
  });

  it('offers a frame slider and CT window presets when the PNG route takes ?frame= and ?window=', async () => {
    page = await newPage();
    const asked: string[] = [];
    // Stand in for a renderer with frames and windows: bad values are 400, others get the default PNG.
    await page.route(/\/png\?/, async (route) => {
      const url = new URL(route.request().url());
      asked.push(decodeURIComponent(url.search));
      if (url.searchParams.get('frame') === '0' || url.searchParams.get('window') === 'x') {
        return route.fulfill({
          status: 400,
          contentType: 'application/json',
          body: JSON.stringify({ error: 'invalid value', code: 'INVALID_PARAMETER' }),
        });
      }
      url.search = '';
      return route.continue({ url: url.href });
    });
    await page.goto(`${api.url}/`);
    await fileRow('山田').locator('a.file-link').click();
    await expect.poll(() => page.locator('#window-form').isVisible()).toBe(true);
    expect(await page.locator('#frame').isDisabled()).toBe(false);
    expect(await page.locator('#frame-controls .note').textContent()).toBe('');

    await page.locator('#frame').fill('3');
    await expect.poll(() => asked).toContain('?frame=3');
    expect(await page.locator('#frame-output').textContent()).toBe(`3 of ${FRAMES}`);
    const presets = await page.locator('#window-preset option').allTextContents();
    expect(presets).toEqual(expect.arrayContaining(['As the file says', 'Lung (-600 / 1500)', 'Custom']));
    await page.locator('#window-preset').selectOption({ label: 'Lung (-600 / 1500)' });
    await expect.poll(() => asked).toContain('?frame=3&window=-600,1500');
    await page.locator('#window-center').fill('35');
    await page.locator('#window-width').fill('90');
    await page.locator('#window-form button[type="submit"]').click();
    await expect.poll(() => asked).toContain('?frame=3&window=35,90');
    expect(await page.locator('#window-preset').inputValue()).toBe('custom');
    await expect
      .poll(() => page.locator('#image').getAttribute('alt'))
      .toBe(`Image of head-ct.dcm, frame 3 of ${FRAMES}, ${SIZE} × ${SIZE} pixels`);
  });

  it('deletes a file after a confirmation, and the API forgets it', async () => {
    page = await newPage();
    await page.goto(`${api.url}/`);
    const row = fileRow('Doe, Jane');
    await expect.poll(() => row.count()).toBe(1);
    const id = await row.getAttribute('data-id');

    // Cancel keeps it.
    await row.getByRole('button', { name: 'Delete knee-mr.dcm' }).click();
    const dialog = page.locator('#confirm-dialog');
    await expect.poll(() => dialog.isVisible()).toBe(true);
    expect(await dialog.locator('#confirm-text').textContent()).toContain('knee-mr.dcm (Doe, Jane)');
    await page.keyboard.press('Escape');
    await expect.poll(() => dialog.isVisible()).toBe(false);
    expect((await fetch(`${api.url}/dicom/${id}`)).status).toBe(200);

    await row.getByRole('button', { name: 'Delete knee-mr.dcm' }).click();
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await expect.poll(() => fileRow('Doe, Jane').count()).toBe(0);
    expect(await page.locator('#list-status').textContent()).toBe('Deleted knee-mr.dcm.');
    expect(await page.locator(':focus').getAttribute('id')).toBe('files-heading');
    expect((await fetch(`${api.url}/dicom/${id}`)).status).toBe(404);

    // And from the detail view, which then returns to the list.
    await fileRow('DOE, JOHN').locator('a.file-link').click();
    await expect.poll(() => page.locator('#detail-heading').textContent()).toBe('DOE, JOHN');
    await page.locator('#delete-file').click();
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await expect.poll(() => page.locator('#list-view').isVisible()).toBe(true);
    await expect.poll(() => page.locator('#file-rows tr').count()).toBe(1);
    // The deleted file's view left no history entry: Back does not open it again.
    await page.goBack();
    expect(new URL(page.url()).hash).not.toMatch(/^#\/files\//);
    expect(await page.locator('#detail-view').isVisible()).toBe(false);
    expect(await page.locator('#list-view').isVisible()).toBe(true);
  });

  it('shows the files for a hash that is not valid percent-encoding', async () => {
    page = await newPage();
    await page.goto(`${api.url}/#/files/%E0%A4%A`);
    await expect.poll(() => page.locator('#list-view').isVisible()).toBe(true);
    expect(await page.locator('#detail-view').isVisible()).toBe(false);
    await expect.poll(() => page.locator('#file-rows tr').count()).toBeGreaterThan(0);
    await page.goto(`${api.url}/#/studies/%ZZ`);
    await expect.poll(() => page.locator('#list-view').isVisible()).toBe(true);
    expect(await page.locator('#study-view').isVisible()).toBe(false);
  });

  it('browses by study: each study with its instances and modalities, a study with exactly its files, Back and Forward', async () => {
    page = await newPage();
    await page.goto(`${api.url}/`);
    // The views appear once the API turns out to offer GET /studies.
    await expect.poll(() => page.locator('#studies-tab').isVisible()).toBe(true);
    expect(await page.locator('#files-tab').getAttribute('aria-current')).toBe('page');
    await page.setInputFiles(
      '#file-input',
      studyFiles().map((f) => ({ name: f.name, mimeType: 'application/dicom', buffer: Buffer.from(f.bytes) })),
    );
    await expect.poll(() => page.locator('#upload-list li[data-state="ok"]').count(), { timeout: 15_000 }).toBe(4);
    const ids: Record<string, string> = Object.fromEntries(
      await page
        .locator('#upload-list li')
        .evaluateAll((rows) =>
          rows.map((row) => [
            row.querySelector('.upload-name')?.textContent ?? '',
            (row.querySelector('.upload-outcome a')?.getAttribute('href') ?? '').replace('#/files/', ''),
          ]),
        ),
    );
    for (const name of ['chest-1.dcm', 'chest-2.dcm', 'chest-report.dcm', 'spine-1.dcm']) {
      expect(ids[name], name).toMatch(/^[0-9a-f-]{36}$/);
    }

    // The studies: newest study date first, one row each, the patient's name read for people.
    await page.locator('#studies-tab').click();
    await expect.poll(() => page.locator('#studies-view').isVisible()).toBe(true);
    expect(new URL(page.url()).hash).toBe('#/studies');
    expect(await page.locator('#studies-tab').getAttribute('aria-current')).toBe('page');
    expect(await page.locator('#files-tab').getAttribute('aria-current')).toBeNull();
    expect(await page.title()).toBe('DICOM studies');
    await expect.poll(() => focusedId()).toBe('study-list-heading');
    const chest = studyRow('Kimura, Hana');
    const spine = studyRow('Lee, Sam');
    await expect.poll(() => chest.count()).toBe(1);
    await expect
      .poll(() => chest.locator('td').allTextContents())
      .toEqual(['Kimura, Hana', 'KM-77', '2025-01-20', 'CT CHEST', 'CT, SR', '3']);
    expect(await spine.locator('td').allTextContents()).toEqual([
      'Lee, Sam',
      'LS-5',
      '2024-11-02',
      'MR SPINE',
      'MR',
      '1',
    ]);
    const order = await page
      .locator('#study-rows tr')
      .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-uid')));
    expect(order.indexOf(CHEST.uid)).toBeLessThan(order.indexOf(SPINE.uid));
    expect(await chest.locator('a.study-link').getAttribute('title')).toBe(CHEST.name);
    // Polled: the uploads' own refresh of the studies may still be on its way (it empties the line meanwhile).
    await expect
      .poll(() => page.locator('#study-list-status').textContent())
      .toMatch(/^Showing \d+ studies, newest study date first\.$/);
    // The API takes ?study_date=: the filter is offered above the table.
    await expect.poll(() => page.locator('#study-filters').isVisible()).toBe(true);
    await screenshot('studies.png', true);

    // A study: its summary, and exactly its files, each with its preview (the report has none).
    await chest.locator('a.study-link').click();
    await expect.poll(() => page.locator('#study-heading').textContent()).toBe('Kimura, Hana');
    expect(new URL(page.url()).hash).toBe(`#/studies/${CHEST.uid}`);
    await expect.poll(() => focusedId()).toBe('study-heading');
    expect(await page.locator('#studies-tab').getAttribute('aria-current')).toBe('page');
    const summary = await page.locator('#study-summary').innerText();
    for (const value of ['KM-77', '2025-01-20', 'CT CHEST', 'CT, SR', CHEST.uid, CHEST.name]) {
      expect(summary).toContain(value);
    }
    const chestIds = [ids['chest-1.dcm'], ids['chest-2.dcm'], ids['chest-report.dcm']].sort();
    await expect.poll(async () => (await studyFileIds()).sort()).toEqual(chestIds);
    // Grouped by series when the API lists them (#study-series), else in the one table (#study-file-rows).
    const rows = page.locator('#study-view tbody tr');
    await expect
      .poll(() => page.locator('#study-view tbody .badge').allTextContents(), { timeout: 15_000 })
      .toEqual(['Ready', 'Ready', 'Ready']);
    const first = page.locator(`#study-view tbody tr[data-id="${ids['chest-1.dcm']}"]`);
    expect((await first.locator('td').allTextContents()).slice(1, 6)).toEqual([
      'chest-1.dcm',
      'CT',
      '32 × 32',
      expect.stringMatching(/^\d+(\.\d)? kB$/),
      'Ready',
    ]);
    await expect.poll(() => naturalWidth(first.locator('td.preview img'))).toBe(32);
    const report = page.locator(`#study-view tbody tr[data-id="${ids['chest-report.dcm']}"]`);
    expect(await report.locator('td').nth(3).textContent()).toBe('No image');
    expect(await report.locator('img').count()).toBe(0);
    expect(await rows.count()).toBe(3);

    // A file from there: the detail view, whose link leads back to the study.
    await first.locator('a.file-link').click();
    await expect.poll(() => page.locator('#detail-heading').textContent()).toBe('Kimura, Hana');
    expect(await page.locator('#back-link').textContent()).toBe('← Back to the study');
    expect(
      new URL((await page.locator('#back-link').evaluate((a) => a.getAttribute('href'))) ?? '', page.url()).hash,
    ).toBe(`#/studies/${CHEST.uid}`);
    expect(await page.locator('#studies-tab').getAttribute('aria-current')).toBe('page');

    // Back: the study again, the keyboard on the file it opened; Back again: the studies, on that study.
    await page.goBack();
    await expect.poll(() => page.locator('#study-view').isVisible()).toBe(true);
    await expect.poll(() => focusedText()).toBe('chest-1.dcm');
    expect(await studyFileIds()).toHaveLength(3);
    await page.goBack();
    await expect.poll(() => page.locator('#studies-view').isVisible()).toBe(true);
    await expect.poll(() => focusedText()).toBe('Kimura, Hana');
    expect(await page.locator('#study-view').isVisible()).toBe(false);

    // Forward twice: the study, then the file; its link back leads to the study.
    await page.goForward();
    await expect.poll(() => page.locator('#study-heading').textContent()).toBe('Kimura, Hana');
    await expect.poll(() => studyFileIds()).toHaveLength(3);
    await page.goForward();
    await expect.poll(() => page.locator('#detail-view').isVisible()).toBe(true);
    await page.locator('#back-link').click();
    await expect.poll(() => page.locator('#study-view').isVisible()).toBe(true);

    // The other study has only its own file; the Files tab is the whole list again.
    await page.locator('a', { hasText: '← All studies' }).click();
    await spine.locator('a.study-link').click();
    await expect.poll(() => page.locator('#study-heading').textContent()).toBe('Lee, Sam');
    await expect.poll(() => studyFileIds()).toEqual([ids['spine-1.dcm']]);
    // Its only file deleted from there, the study is gone too; the keyboard stays in the study's files.
    await page.locator('#study-view tbody').getByRole('button', { name: 'Delete spine-1.dcm' }).click();
    await page.locator('#confirm-dialog').getByRole('button', { name: 'Delete' }).click();
    await expect.poll(() => page.locator('#study-files-status').textContent()).toBe('Deleted spine-1.dcm.');
    await expect.poll(() => page.locator('#study-heading').textContent()).toBe('Study not found');
    expect(await page.locator('#study-summary-status').textContent()).toBe(
      'No file of this study is stored (any more).',
    );
    expect(await page.locator('#study-file-rows').textContent()).toBe('No file of this study is stored.');
    await expect.poll(() => focusedId()).toBe('study-files-heading');
    expect((await fetch(`${api.url}/dicom/${ids['spine-1.dcm']}`)).status).toBe(404);
    await page.locator('#files-tab').click();
    await expect.poll(() => page.locator('#list-view').isVisible()).toBe(true);
    await expect.poll(() => focusedId()).toBe('files-heading');
    await expect.poll(() => fileRow('Kimura, Hana').count()).toBe(3);
  });

  it('hides the Studies tab against an API without /studies, and says so at #/studies', async () => {
    page = await newPage();
    const asked: string[] = [];
    // Stand in for an API with only the base contract: /studies is an unknown route.
    await page.route(/\/studies(\/|\?|$)/, async (route) => {
      asked.push(route.request().url());
      return route.fulfill({
        status: 404,
        contentType: 'application/json',
        body: JSON.stringify({ error: 'no route for GET /studies', code: 'ROUTE_NOT_FOUND' }),
      });
    });
    await page.goto(`${api.url}/`);
    await expect.poll(() => page.locator('#file-rows a.file-link').count()).toBeGreaterThan(0);
    await expect.poll(() => asked.length).toBeGreaterThan(0);
    expect(await page.locator('#view-nav').isVisible()).toBe(false);
    expect(await page.locator('#studies-tab').isVisible()).toBe(false);
    // Asked once, not again on each view change.
    await fileRow('Kimura, Hana').first().locator('a.file-link').click();
    await expect.poll(() => page.locator('#detail-heading').textContent()).toBe('Kimura, Hana');
    await page.goBack();
    await expect.poll(() => page.locator('#list-view').isVisible()).toBe(true);
    expect(asked).toHaveLength(1);
    expect(await page.locator('#view-nav').isVisible()).toBe(false);
    // A bookmarked #/studies says what is missing instead of failing.
    await page.goto(`${api.url}/#/studies`);
    await expect
      .poll(() => page.locator('#study-list-status').textContent())
      .toBe('This API does not offer studies: browse the files instead.');
    expect(await page.locator('#view-nav').isVisible()).toBe(false);
    await page.goto(`${api.url}/#/studies/${CHEST.uid}`);
    await expect
      .poll(() => page.locator('#study-summary-status').textContent())
      .toBe('This API does not offer studies: browse the files instead.');
  });

  it('shows DICOM values as text, never as markup', async () => {
    const hostile = '<img src=x onerror="window.__pwned=1">^<b>bold</b>';
    const form = new FormData();
    const bytes = buildDicom([...patientElements({ name: hostile, description: '<script>window.__pwned=2</script>' })]);
    form.append('file', new Blob([bytes]), '<i>x</i>.dcm');
    expect((await fetch(`${api.url}/dicom`, { method: 'POST', body: form })).status).toBe(201);
    page = await newPage();
    await page.goto(`${api.url}/`);
    const row = fileRow('<b>bold</b>');
    await expect.poll(() => row.count()).toBe(1);
    expect(await row.locator('td').nth(4).textContent()).toBe('<script>window.__pwned=2</script>');
    // No pixel data, so no preview either: any element in the row would be the value's markup.
    expect(await row.locator('img, b, script, i').count()).toBe(0);
    await row.locator('a.file-link').click();
    await expect
      .poll(() => page.locator('#attribute-rows tr[data-key="0010,0010"] td.value').textContent())
      .toBe(hostile);
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
    expect(await page.locator('#attribute-rows img, #summary img').count()).toBe(0);
  });

  it('asks for an API key once when the API refuses, keeps it, and sends it as x-api-key', async () => {
    page = await newPage();
    const KEY = 'test-key-123';
    const refusedWithout: string[] = [];
    // Stand in for an API with access control on: every API path needs the key.
    await page.route(/\/dicom(\/|\?|$)/, async (route) => {
      if (route.request().headers()['x-api-key'] === KEY) return route.continue();
      refusedWithout.push(route.request().url());
      return route.fulfill({
        status: 403,
        contentType: 'application/json',
        body: JSON.stringify({ error: 'the API key is missing or not valid', code: 'INVALID_API_KEY' }),
      });
    });
    await page.goto(`${api.url}/`);
    const dialog = page.locator('#key-dialog');
    await expect.poll(() => dialog.isVisible()).toBe(true);
    expect(await dialog.locator('#key-reason').textContent()).toContain('the API key is missing or not valid');
    await page.locator('#key-input').fill(KEY);
    await dialog.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.locator('#file-rows a.file-link').count()).toBeGreaterThan(0);
    expect(await page.evaluate("localStorage.getItem('dicom-api-key')")).toBe(KEY);

    // The image is fetched with the key too (an <img src> could not send it).
    await fileRow('山田').locator('a.file-link').click();
    await expect
      .poll(() => page.locator('#image').evaluate((img) => (img as unknown as ImageElement).naturalWidth))
      .toBeGreaterThan(0);

    // A reload asks no more.
    const refusedBefore = refusedWithout.length;
    await page.reload();
    await expect.poll(() => page.locator('#detail-heading').textContent()).not.toBe('Loading…');
    expect(await dialog.isVisible()).toBe(false);
    expect(refusedWithout.length).toBe(refusedBefore);
  });

  it('shows a small preview of each image in the list, fetched once with the API key; none without an image', async () => {
    page = await newPage();
    const KEY = 'preview-key-456';
    await page.addInitScript(`localStorage.setItem('dicom-api-key', ${JSON.stringify(KEY)})`);
    // The cache mode of each preview fetch: a reprocessed file's preview has the same URL, so each is revalidated.
    await page.addInitScript(`{
      const fetchNow = window.fetch;
      window.previewCacheModes = [];
      window.fetch = (input, init) => {
        if (/\\/png\\?max=256$/.test(String(input))) window.previewCacheModes.push(init && init.cache);
        return fetchNow(input, init);
      };
    }`);
    /** Every request for a list preview, and the key it carried. */
    const previewRequests: { url: string; key: string | undefined }[] = [];
    // An API with access control on: every API path needs the key.
    await page.route(/\/dicom(\/|\?|$)/, async (route) => {
      const request = route.request();
      const key = request.headers()['x-api-key'];
      if (/\/png\?max=256$/.test(request.url())) previewRequests.push({ url: request.url(), key });
      if (key === KEY) return route.continue();
      return route.fulfill({
        status: 403,
        contentType: 'application/json',
        body: JSON.stringify({ error: 'the API key is missing or not valid', code: 'INVALID_API_KEY' }),
      });
    });
    await page.goto(`${api.url}/`);
    // Listed (the rows, or the message that there are none yet).
    await expect.poll(() => page.locator('#file-rows tr').count()).toBeGreaterThan(0);
    await page.setInputFiles('#file-input', [
      {
        name: 'preview-ct.dcm',
        mimeType: 'application/dicom',
        buffer: Buffer.from(headPhantomCt({ size: 512, name: 'Preview^Picture', patientId: 'PV-1' })),
      },
      {
        name: 'report.dcm',
        mimeType: 'application/dicom',
        buffer: Buffer.from(
          buildDicom(patientElements({ name: 'Report^Only', id: 'PV-2', modality: 'SR', description: 'No pixels' })),
        ),
      },
    ]);
    await expect.poll(() => page.locator('#upload-list li[data-state="busy"]').count(), { timeout: 15_000 }).toBe(0);
    const imageRow = fileRow('Preview, Picture');
    const reportRow = fileRow('Report, Only');
    for (const row of [imageRow, reportRow]) {
      await expect.poll(() => row.locator('.badge').textContent(), { timeout: 15_000 }).toBe('Ready');
    }

    // The 512 x 512 image's preview is at most 256 pixels wide, shown in a 64 px frame from a blob: URL.
    const preview = imageRow.locator('td.preview img');
    await expect.poll(() => naturalWidth(preview), { timeout: 10_000 }).toBe(256);
    const shown = await preview.evaluate((img) => {
      const box = img.getBoundingClientRect();
      const element = img as unknown as ImageElement;
      return { src: element.src, natural: [element.naturalWidth, element.naturalHeight], box: [box.width, box.height] };
    });
    expect(shown.src).toMatch(/^blob:/);
    expect(shown.natural).toEqual([256, 256]);
    expect(shown.box).toEqual([64, 64]);
    expect(await preview.getAttribute('alt')).toBe('Preview of preview-ct.dcm');
    // A file without an image has no <img>, not a broken one.
    expect(await reportRow.locator('img').count()).toBe(0);
    expect(await reportRow.locator('td.preview').textContent()).toBe('');

    // Fetched with the key (an <img src> could not send it), once.
    const id = await imageRow.getAttribute('data-id');
    const ofImage = () => previewRequests.filter((request) => request.url.includes(`/dicom/${id}/png?`));
    expect(ofImage()).toEqual([{ url: expect.stringMatching(/\/png\?max=256$/), key: KEY }]);
    expect(previewRequests.every((request) => request.key === KEY)).toBe(true);
    const cacheModes = await page.evaluate<unknown[]>('window.previewCacheModes');
    expect(cacheModes.length).toBeGreaterThan(0);
    expect(new Set(cacheModes)).toEqual(new Set(['no-cache']));

    // A refresh draws the rows again but keeps the preview it has: no second request.
    const before = previewRequests.length;
    await imageRow.evaluate((row) => row.setAttribute('data-drawn-before', ''));
    await page.locator('#refresh').click();
    await expect.poll(() => page.locator('#file-rows tr[data-drawn-before]').count()).toBe(0);
    await expect.poll(() => naturalWidth(imageRow.locator('td.preview img'))).toBe(256);
    expect(ofImage()).toHaveLength(1);
    expect(previewRequests.length).toBe(before);
  });

  it('leaves the preview cell empty when the preview cannot be had, and does not ask again on a refresh', async () => {
    page = await newPage();
    const asked: string[] = [];
    await page.route(/\/png\?max=256$/, async (route) => {
      asked.push(route.request().url());
      return route.fulfill({
        status: 500,
        contentType: 'application/json',
        body: JSON.stringify({ error: 'the renderer is down', code: 'INTERNAL' }),
      });
    });
    await page.goto(`${api.url}/`);
    await expect.poll(() => page.locator('#file-rows a.file-link').count()).toBeGreaterThan(0);
    await expect.poll(() => asked.length).toBeGreaterThan(0);
    // No broken image, no frame waiting for one, no message: the cell is simply empty.
    await expect.poll(() => page.locator('#file-rows .preview-frame').count()).toBe(0);
    expect(await page.locator('#file-rows img').count()).toBe(0);
    expect(await page.locator('#list-status').textContent()).toMatch(/^Showing \d+ file\(s\)/);
    const before = asked.length;
    for (let refresh = 0; refresh < 2; refresh++) {
      await page
        .locator('#file-rows tr')
        .first()
        .evaluate((row) => row.setAttribute('data-drawn-before', ''));
      await page.locator('#refresh').click();
      await expect.poll(() => page.locator('#file-rows tr[data-drawn-before]').count()).toBe(0);
    }
    expect(asked.length).toBe(before);
    expect(await page.locator('#file-rows .preview-frame').count()).toBe(0);
  });

  it('fits a phone screen: no sideways scrolling, the file table as labelled cards', async () => {
    page = await newPage(PHONE);
    await page.goto(`${api.url}/`);
    await expect.poll(() => page.locator('#file-rows a.file-link').count()).toBeGreaterThan(0);
    const overflow = () => page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    expect(await overflow()).toBeLessThanOrEqual(0);
    // Each cell says what it is, as the hidden column headings would.
    const labels = await page
      .locator('#file-rows tr')
      .first()
      .locator('td')
      .evaluateAll((cells) =>
        cells.map((cell) => cell.ownerDocument.defaultView!.getComputedStyle(cell, '::before').content),
      );
    expect(labels.slice(2, 7)).toEqual(['"Study date: "', '"Modality: "', '"Description: "', '"Size: "', '"Status: "']);
    // The preview sits inside its card, at its small size.
    const preview = page.locator('#file-rows td.preview img').first();
    await expect.poll(() => naturalWidth(preview)).toBeGreaterThan(0);
    const box = await preview.evaluate((img) => {
      const rect = img.getBoundingClientRect() as unknown as { left: number; right: number; width: number };
      return {
        left: rect.left,
        right: rect.right,
        width: rect.width,
        viewport: img.ownerDocument.defaultView!.innerWidth,
      };
    });
    expect(box.width).toBe(64);
    expect(box.left).toBeGreaterThanOrEqual(0);
    expect(box.right).toBeLessThanOrEqual(box.viewport);
    await page.locator('#file-rows a.file-link').first().click();
    await expect.poll(() => page.locator('#attribute-status').textContent()).toMatch(/attributes\./);
    expect(await overflow()).toBeLessThanOrEqual(0);
  });

  it('fits a phone screen with the studies too: the studies and a study’s files as labelled cards', async () => {
    page = await newPage(PHONE);
    await page.goto(`${api.url}/#/studies`);
    const overflow = () => page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    await expect.poll(() => studyRow('Kimura, Hana').count()).toBe(1);
    await expect.poll(() => page.locator('#studies-tab').isVisible()).toBe(true);
    expect(await overflow()).toBeLessThanOrEqual(0);
    expect(await cellLabels(studyRow('Kimura, Hana'))).toEqual([
      'none',
      '"Patient ID: "',
      '"Study date: "',
      '"Description: "',
      '"Modalities: "',
      '"Instances: "',
    ]);
    // The card is as wide as the screen allows, no wider.
    const card = await studyRow('Kimura, Hana').evaluate((row) => {
      const rect = row.getBoundingClientRect() as unknown as { left: number; right: number };
      return { left: rect.left, right: rect.right, viewport: row.ownerDocument.defaultView!.innerWidth };
    });
    expect(card.left).toBeGreaterThanOrEqual(0);
    expect(card.right).toBeLessThanOrEqual(card.viewport);
    // So does the study date filter: the field and its buttons inside the screen.
    await expect.poll(() => page.locator('#study-filters').isVisible()).toBe(true);
    const edges = await page
      .locator('#study-filters input, #study-filters button')
      .evaluateAll((controls) =>
        controls.map((control) => control.getBoundingClientRect() as unknown as { left: number; right: number }),
      );
    expect(edges).toHaveLength(3);
    for (const edge of edges) {
      expect(edge.left).toBeGreaterThanOrEqual(0);
      expect(edge.right).toBeLessThanOrEqual(card.viewport);
    }
    expect(await overflow()).toBeLessThanOrEqual(0);

    await studyRow('Kimura, Hana').locator('a.study-link').click();
    await expect.poll(() => page.locator('#study-view tbody a.file-link').count()).toBe(3);
    expect(await cellLabels(page.locator('#study-view tbody tr').first())).toEqual([
      'none',
      'none',
      '"Modality: "',
      '"Image: "',
      '"Size: "',
      '"Status: "',
      'none',
    ]);
    expect(await overflow()).toBeLessThanOrEqual(0);
  });

  it('filters the studies by study date: a year, a day, none matching, a bad value, Clear; page 1 on each change', async () => {
    await uploadDatedStudies();
    page = await newPage();
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    /** The query of each GET /studies the list made, and the 400s it got. */
    const listings: URLSearchParams[] = [];
    const refusals: string[] = [];
    page.on('request', (request) => {
      const url = new URL(request.url());
      if (url.pathname === '/studies') listings.push(url.searchParams);
    });
    page.on('response', (response) => {
      if (new URL(response.url()).pathname !== '/studies' || response.status() !== 400) return;
      void response.json().then(
        (body: { code: string }) => refusals.push(body.code),
        () => refusals.push('(unreadable)'),
      );
    });
    await page.goto(`${api.url}/#/studies`);
    const form = page.locator('#study-filters');
    await expect.poll(() => form.isVisible()).toBe(true);
    const field = page.getByRole('searchbox', { name: 'Study date' });
    expect(await field.getAttribute('placeholder')).toBe('YYYYMMDD-YYYYMMDD');
    expect(await page.getByRole('form', { name: 'Filter the studies' }).count()).toBe(1);
    const filter = form.getByRole('button', { name: 'Filter' });
    const clear = form.getByRole('button', { name: 'Clear' });
    const status = page.locator('#study-list-status');
    const label = page.locator('#study-page-label');
    const dates = () => page.locator('#study-rows td:nth-child(3)').allTextContents();
    const names = () => page.locator('#study-rows a.study-link').allTextContents();
    await expect.poll(() => page.locator('#study-rows a.study-link').count()).toBeGreaterThan(0);

    // A year: only its studies, newest first, 25 a page.
    await field.fill('20160101-20161231');
    await filter.click();
    await expect
      .poll(dates)
      .toEqual(Array.from({ length: 25 }, (_, i) => `2016-03-${String(26 - i).padStart(2, '0')}`));
    expect(await status.textContent()).toBe('Showing 25 studies, newest study date first.');
    expect(await label.textContent()).toBe('Page 1');
    expect(listings.at(-1)?.get('study_date')).toBe('20160101-20161231');
    await page.locator('#next-study-page').click();
    await expect.poll(dates).toEqual(['2016-03-01']);
    expect(await label.textContent()).toBe('Page 2');
    expect(listings.at(-1)?.get('cursor')).toBeTruthy();

    // A day, from page 2 (Enter submits): back to page 1, without the old filter's cursor.
    await field.fill('20180704');
    await field.press('Enter');
    await expect.poll(names).toEqual(['July, Fourth']);
    expect(await status.textContent()).toBe('Showing 1 study, newest study date first.');
    expect(await label.textContent()).toBe('Page 1');
    expect(await page.locator('#study-pager').isVisible()).toBe(false);
    expect(listings.at(-1)?.get('study_date')).toBe('20180704');
    expect(listings.at(-1)?.has('cursor')).toBe(false);

    // The other year; a study opened from the filtered list, and back: still filtered.
    await field.fill('20180101-20181231');
    await filter.click();
    await expect.poll(names).toEqual(['December, Noel', 'July, Fourth']);
    await studyRow('July, Fourth').locator('a.study-link').click();
    await expect.poll(() => page.locator('#study-heading').textContent()).toBe('July, Fourth');
    await page.goBack();
    await expect.poll(() => focusedText()).toBe('July, Fourth');
    expect(await names()).toEqual(['December, Noel', 'July, Fourth']);
    expect(await field.inputValue()).toBe('20180101-20181231');

    // No study that day: said in the table.
    await field.fill('19990101');
    await filter.click();
    await expect.poll(() => page.locator('#study-rows').textContent()).toBe('No study matches this date.');
    expect(await status.textContent()).toBe('');

    // A value the API cannot read: its message in the status line, the field marked, no alert.
    const expected = (await (await fetch(`${api.url}/studies?study_date=2016`)).json()) as {
      error: string;
      code: string;
      parameter: string;
    };
    expect(expected).toMatchObject({ code: 'INVALID_PARAMETER', parameter: 'study_date' });
    // From page 2 of another filter: none of its rows, and no pager, stay under the refusal.
    await field.fill('20160101-20161231');
    await filter.click();
    await expect.poll(dates).toHaveLength(25);
    await page.locator('#next-study-page').click();
    await expect.poll(() => label.textContent()).toBe('Page 2');
    await field.fill('2016');
    await filter.click();
    await expect.poll(() => status.textContent()).toBe(expected.error);
    expect(await status.getAttribute('data-kind')).toBe('error');
    expect(await field.getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('#study-rows tr').count()).toBe(0);
    expect(await page.locator('#study-pager').isVisible()).toBe(false);
    expect(dialogs).toEqual([]);

    // Clear: every study again, from page 1, the field emptied and no longer marked.
    await clear.click();
    await expect.poll(() => studyRow('December, Noel').count()).toBe(1);
    expect(await field.inputValue()).toBe('');
    expect(await field.getAttribute('aria-invalid')).toBeNull();
    expect(await status.getAttribute('data-kind')).toBeNull();
    expect(await status.textContent()).toBe('Showing 25 studies, newest study date first.');
    expect(await label.textContent()).toBe('Page 1');
    expect(new Set(await dates()).size).toBeGreaterThan(2);
    expect(listings.at(-1)?.has('study_date')).toBe(false);
    // The only 400 was the bad value's: the cursors never crossed filters.
    expect(refusals).toEqual(['INVALID_PARAMETER']);
  });

  it('hides the study date filter against an API whose /studies takes no study_date', async () => {
    page = await newPage();
    const refused: string[] = [];
    // Stand in for an API with GET /studies but without its study_date filter.
    await page.route(/\/studies\?/, async (route) => {
      const url = new URL(route.request().url());
      if (!url.searchParams.has('study_date')) return route.continue();
      refused.push(url.search);
      return route.fulfill({
        status: 400,
        contentType: 'application/json',
        body: JSON.stringify({
          error: 'unknown query parameter: study_date (accepted: limit, cursor)',
          code: 'BAD_QUERY',
        }),
      });
    });
    await page.goto(`${api.url}/#/studies`);
    await expect.poll(() => page.locator('#study-rows a.study-link').count()).toBeGreaterThan(0);
    await expect.poll(() => refused.length).toBe(1);
    expect(await page.locator('#study-filters').isVisible()).toBe(false);
    // Quietly: the studies and their status line as usual.
    expect(await page.locator('#study-list-status').textContent()).toMatch(/^Showing \d+ stud(y|ies), newest/);
    // Asked once: a refresh, or coming back to the list, does not ask again.
    await page
      .locator('#study-rows tr')
      .first()
      .evaluate((row) => row.setAttribute('data-drawn-before', ''));
    await page.locator('#refresh-studies').click();
    await expect.poll(() => page.locator('#study-rows tr[data-drawn-before]').count()).toBe(0);
    await page.locator('#files-tab').click();
    await page.locator('#studies-tab').click();
    await expect.poll(() => page.locator('#study-rows a.study-link').count()).toBeGreaterThan(0);
    expect(refused).toHaveLength(1);
    expect(await page.locator('#study-filters').isVisible()).toBe(false);
  });

  it('pages through many files, and filters them the way the API offers (patient IDs kept out of URLs)', async () => {
    const MANY = 26;
    await Promise.all(
      Array.from({ length: MANY }, async (_, i) => {
        const form = new FormData();
        const bytes = buildDicom(patientElements({ name: `Echo^Patient${i}`, id: `US-${i}`, modality: 'US' }));
        form.append('file', new Blob([bytes]), `echo-${i}.dcm`);
        expect((await fetch(`${api.url}/dicom`, { method: 'POST', body: form })).status).toBe(201);
      }),
    );
    const total = ((await (await fetch(`${api.url}/dicom`)).json()) as { files?: unknown[]; count: number }).count;
    page = await newPage();
    const urls: string[] = [];
    page.on('request', (request) => urls.push(request.url()));
    await page.goto(`${api.url}/`);

    // 25 a page, newest first, without gaps or repeats, whether the API or the page does the paging.
    await expect.poll(() => page.locator('#file-rows tr').count()).toBe(25);
    expect(await page.locator('#page-label').textContent()).toBe('Page 1');
    expect(await page.locator('#previous-page').isDisabled()).toBe(true);
    const first = await listedIds();
    await page.locator('#next-page').click();
    await expect.poll(() => page.locator('#page-label').textContent()).toBe('Page 2');
    await expect.poll(async () => (await listedIds())[0]).not.toBe(first[0]);
    const second = await listedIds();
    expect(await page.locator('#next-page').isDisabled()).toBe(total <= 50);
    expect(new Set([...first, ...second]).size).toBe(first.length + second.length);
    await page.locator('#previous-page').click();
    await expect.poll(() => listedIds()).toEqual(first);

    const apiPages = 'next_cursor' in ((await (await fetch(`${api.url}/dicom?limit=1`)).json()) as object);
    expect(await page.locator('#filters').isVisible()).toBe(apiPages);
    if (!apiPages) return;
    await page.locator('#filter-modality').fill('us');
    await page.locator('#filters button[type="submit"]').click();
    await expect
      .poll(() => page.locator('#file-rows tr td:nth-child(4)').allTextContents())
      .toEqual(Array<string>(25).fill('US'));
    await page.locator('#filters button[type="reset"]').click();
    await page.locator('#filter-patient').fill('US-7');
    await page.locator('#filters button[type="submit"]').click();
    await expect.poll(() => page.locator('#file-rows .file-link').allTextContents()).toEqual(['Echo, Patient7']);
    expect(urls.filter((url) => url.includes('US-7'))).toEqual([]);
  });

  it('moves one page at a time however fast Next is clicked, in the files and the studies', async () => {
    const pageTwo = async (listing: string, key: 'files' | 'studies', id: 'id' | 'study_instance_uid') => {
      const first = (await (await fetch(`${api.url}/${listing}?limit=25`)).json()) as { next_cursor: string };
      expect(first.next_cursor).toBeTruthy();
      const query = new URLSearchParams({ limit: '25', cursor: first.next_cursor });
      const second = (await (await fetch(`${api.url}/${listing}?${query}`)).json()) as Record<string, unknown>;
      return (second[key] as Record<string, string>[]).map((item) => item[id]);
    };
    const slowly = (pattern: RegExp) =>
      page.route(pattern, async (route) => {
        await new Promise((resolve) => setTimeout(resolve, 400));
        await route.continue();
      });
    page = await newPage();
    await page.goto(`${api.url}/`);
    await expect.poll(() => page.locator('#file-rows tr').count()).toBe(25);
    await slowly(/\/dicom\?/);
    await page.locator('#next-page').dblclick();
    // Both buttons wait for the page asked for.
    expect(await page.locator('#next-page').getAttribute('aria-disabled')).toBe('true');
    expect(await page.locator('#previous-page').getAttribute('aria-disabled')).toBe('true');
    const files = await pageTwo('dicom', 'files', 'id');
    await expect.poll(() => listedIds()).toEqual(files);
    await expect.poll(() => page.locator('#file-rows[aria-busy]').count()).toBe(0);
    expect(await page.locator('#page-label').textContent()).toBe('Page 2');
    expect(await page.locator('#previous-page').isDisabled()).toBe(false);
    expect(await page.locator('#next-page').getAttribute('aria-disabled')).toBeNull();
    // From the keyboard: the focus stays on the button pressed while its page loads.
    await page.locator('#previous-page').focus();
    await page.keyboard.press('Enter');
    await page.keyboard.press('Enter');
    expect(await page.locator('#file-rows[aria-busy]').count()).toBe(1);
    expect(await focusedId()).toBe('previous-page');
    await expect.poll(() => page.locator('#file-rows[aria-busy]').count()).toBe(0);
    expect(await page.locator('#page-label').textContent()).toBe('Page 1');

    await page.goto(`${api.url}/#/studies`);
    await expect.poll(() => page.locator('#study-rows a.study-link').count()).toBe(25);
    await slowly(/\/studies\?/);
    await page.locator('#next-study-page').dblclick();
    const studies = await pageTwo('studies', 'studies', 'study_instance_uid');
    const uids = () =>
      page.locator('#study-rows tr').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-uid')));
    await expect.poll(uids).toEqual(studies);
    await expect.poll(() => page.locator('#study-rows[aria-busy]').count()).toBe(0);
    expect(await page.locator('#study-page-label').textContent()).toBe('Page 2');
  });

  it('keeps the filters’ cursors when an answer without them comes late, and leaves an emptied page', async () => {
    page = await newPage();
    await page.goto(`${api.url}/`);
    await expect.poll(() => page.locator('#file-rows tr').count()).toBe(25);
    // The unfiltered listing's next answer comes after the filtered one.
    let release = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    let held = 0;
    await page.route(/\/dicom\?limit=25$/, async (route) => {
      if (held++ === 0) await released;
      await route.continue();
    });
    await page.locator('#refresh').click();
    await expect.poll(() => held).toBe(1);
    await page.locator('#filter-modality').fill('us');
    await page.locator('#filters button[type="submit"]').click();
    const modalities = () => page.locator('#file-rows tr td:nth-child(4)').allTextContents();
    await expect.poll(modalities).toEqual(Array<string>(25).fill('US'));
    const late = page.waitForResponse(/\/dicom\?limit=25$/);
    release();
    await late;
    await page.locator('#next-page').click();
    await expect.poll(() => page.locator('#page-label').textContent()).toBe('Page 2');
    await expect.poll(modalities).toEqual(['US']);
    expect(await page.locator('#list-status').textContent()).toBe('Showing 1 file(s), newest first.');

    // Its only file deleted, the empty page 2 gives way to page 1 (not "No files yet").
    await page.locator('#file-rows button[data-action="delete"]').click();
    await page.locator('#confirm-dialog').getByRole('button', { name: 'Delete' }).click();
    await expect.poll(() => page.locator('#page-label').textContent()).toBe('Page 1');
    await expect.poll(modalities).toEqual(Array<string>(25).fill('US'));
    expect(await page.locator('#list-status').textContent()).toMatch(/^Deleted echo-\d+\.dcm\.$/);
  });

  it('sends files over 4 MB through the large-file route when the API has it, else shows the 413 message', async () => {
    const largeRoute = ROUTES.some((route) => route.method === 'POST' && route.path === '/dicom/uploads');
    page = await newPage();
    await page.goto(`${api.url}/`);
    const big = headPhantomCt({ size: 1536, name: 'LARGE^FILE' });
    expect(big.length).toBeGreaterThan(4_300_000);
    await page.setInputFiles('#file-input', [
      { name: 'large.dcm', mimeType: 'application/dicom', buffer: Buffer.from(big) },
    ]);
    const outcome = page.locator('#upload-list li .upload-outcome');
    await expect.poll(() => page.locator('#upload-list li[data-state="busy"]').count(), { timeout: 20_000 }).toBe(0);
    if (largeRoute) {
      expect(await outcome.textContent()).toMatch(/^Uploaded/);
      await expect
        .poll(() => fileRow('LARGE, FILE').locator('.badge').textContent(), { timeout: 20_000 })
        .toBe('Ready');
    } else {
      expect(await outcome.textContent()).toMatch(/^Failed: .*POST \/dicom\/uploads/);
    }
  });

  it('groups a study’s files by series: a heading per series in series-number order, its files under it', async () => {
    const ids = await uploadSeriesStudy();
    page = await newPage();
    await page.goto(`${api.url}/#/studies/${BRAIN.uid}`);
    await expect.poll(() => page.locator('#study-heading').textContent()).toBe('Okafor, Ada');
    // One section per series, by series number, the unnumbered one last; each holds exactly its files.
    await expect.poll(() => seriesGroups()).toEqual(expectedGroups(ids));
    expect(await page.locator('#study-series').isVisible()).toBe(true);
    expect(await page.locator('#study-file-table').isVisible()).toBe(false);
    expect(await page.locator('#study-files-status').textContent()).toBe('4 series, in series-number order.');
    expect(await page.locator('#study-series h3').evaluateAll((hs) => hs.map((h) => h.tagName))).toHaveLength(4);
    // The file table's own columns and previews (the report has none).
    await expect
      .poll(() => page.locator('#study-series .badge').allTextContents(), { timeout: 15_000 })
      .toEqual(Array<string>(6).fill('Ready'));
    const axial = page.locator('#study-series tbody tr', { hasText: 'axial-1.dcm' });
    expect((await axial.locator('td').allTextContents()).slice(1, 4)).toEqual(['axial-1.dcm', 'MR', '32 × 32']);
    await expect.poll(() => naturalWidth(axial.locator('td.preview img'))).toBe(32);
    expect(await page.locator(`#study-series tr[data-id="${ids.report[0]}"] img`).count()).toBe(0);
    await screenshot('studies-series.png', true);

    // A file from its series and Back: the keyboard on the file's link again.
    await axial.locator('a.file-link').click();
    await expect.poll(() => page.locator('#detail-view').isVisible()).toBe(true);
    await page.goBack();
    await expect.poll(() => page.locator('#study-view').isVisible()).toBe(true);
    await expect.poll(() => focusedText()).toBe('axial-1.dcm');

    // A series' only file deleted: the series goes, the outcome stays said, the counts follow.
    await page.locator('#study-series').getByRole('button', { name: 'Delete localizer-1.dcm' }).click();
    await page.locator('#confirm-dialog').getByRole('button', { name: 'Delete' }).click();
    await expect.poll(() => page.locator('#study-files-status').textContent()).toBe('Deleted localizer-1.dcm.');
    const left = expectedGroups(ids).slice(1);
    await expect.poll(() => seriesGroups()).toEqual(left);
    await expect.poll(() => page.locator('#study-summary').innerText()).toMatch(/Instances\s+5\b/);
    await expect.poll(() => focusedId()).toBe('study-files-heading');
    // One of two files of a series deleted: its heading counts one.
    await page.locator('#study-series').getByRole('button', { name: 'Delete axial-2.dcm' }).click();
    await page.locator('#confirm-dialog').getByRole('button', { name: 'Delete' }).click();
    await expect
      .poll(async () => (await seriesGroups())[1])
      .toEqual({ heading: 'Series 3: AX T2 FLAIR MR · 1 instance', ids: [ids.axial[1]] });
    expect(await page.locator(`#study-series [data-series-uid="${BRAIN.uid}.3"] .status-line`).textContent()).toBe(
      'Deleted axial-2.dcm.',
    );
  });

  it('shows a study’s series as labelled cards on a phone, and one table against an API without the series', async () => {
    const ids = await uploadSeriesStudy();
    page = await newPage(PHONE);
    await page.goto(`${api.url}/#/studies/${BRAIN.uid}`);
    await expect.poll(() => seriesGroups()).toEqual(expectedGroups(ids));
    const overflow = () => page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    expect(await overflow()).toBeLessThanOrEqual(0);
    expect(await cellLabels(page.locator('#study-series tbody tr').first())).toEqual([
      'none',
      'none',
      '"Modality: "',
      '"Image: "',
      '"Size: "',
      '"Status: "',
      'none',
    ]);
    // Every heading and card inside the screen.
    const edges = await page
      .locator('#study-series h3, #study-series tbody tr')
      .evaluateAll((elements) =>
        elements.map((element) => element.getBoundingClientRect() as unknown as { left: number; right: number }),
      );
    expect(edges).toHaveLength(4 + 6);
    for (const edge of edges) {
      expect(edge.left).toBeGreaterThanOrEqual(0);
      expect(edge.right).toBeLessThanOrEqual(PHONE.width);
    }
    await context!.close();

    // An API without GET /studies/{uid}/series: the study's files in the one table, newest first, as before.
    page = await newPage();
    const asked: string[] = [];
    await page.route(/\/studies\/[^/?]+\/series/, async (route) => {
      asked.push(route.request().url());
      return route.fulfill({
        status: 404,
        contentType: 'application/json',
        body: JSON.stringify({ error: 'no route for GET /studies/{study_uid}/series', code: 'ROUTE_NOT_FOUND' }),
      });
    });
    await page.goto(`${api.url}/#/studies/${BRAIN.uid}`);
    await expect.poll(async () => (await studyFileIds()).sort()).toEqual(Object.values(ids).flat().sort());
    expect(asked).toHaveLength(1);
    expect(await page.locator('#study-series').isVisible()).toBe(false);
    expect(await page.locator('#study-series .series-group').count()).toBe(0);
    expect(await page.locator('#study-files-status').textContent()).toBe('Showing 6 file(s), newest first.');
    // Asked once a page load: another visit goes straight to the table.
    await page.locator('a', { hasText: '← All studies' }).click();
    await page.goBack();
    await expect.poll(() => studyFileIds()).toHaveLength(6);
    expect(asked).toHaveLength(1);
  });
});

/** The natural width of an image (0 while it has not loaded). */
function naturalWidth(image: ReturnType<Page['locator']>): Promise<number> {
  return image.evaluate((img) => (img as unknown as ImageElement).naturalWidth, undefined, { timeout: 1000 });
}

/** The ids of the file rows the study view shows now (by series, or in the one table). */
function studyFileIds(): Promise<(string | null)[]> {
  return page.locator('#study-view tbody tr').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-id')));
}

/** The ids of the file rows the list shows now. */
function listedIds(): Promise<(string | null)[]> {
  return page.locator('#file-rows tr').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-id')));
}

/** The id of the file the detail view shows, from its summary. */
async function openId(): Promise<string> {
  const id = await page.locator('#summary dd').last().textContent();
  if (!id) throw new Error('no id in the summary');
  return id;
}

/** A brain MR study of four series, uploaded out of series-number order; the last has no number (a dose report). */
const BRAIN = { uid: '1.2.826.0.1.3680043.8.498.7300', name: 'Okafor^Ada', id: 'OK-3' };
const BRAIN_SERIES = [
  { key: 'axial', series: 3, description: 'AX T2 FLAIR', modality: 'MR', files: 2 },
  { key: 'report', series: null, description: 'DOSE REPORT', modality: 'SR', files: 1 },
  { key: 'sagittal', series: 2, description: 'SAG T1', modality: 'MR', files: 2 },
  { key: 'localizer', series: 1, description: 'LOCALIZER', modality: 'MR', files: 1 },
] as const;
type BrainSeries = (typeof BRAIN_SERIES)[number]['key'];

/** Stores the brain study through the API for one test (deleted when it ends): the ids of each series' files. */
async function uploadSeriesStudy(): Promise<Record<BrainSeries, string[]>> {
  const ids = { axial: [], report: [], sagittal: [], localizer: [] } as Record<BrainSeries, string[]>;
  onTestFinished(async () => {
    for (const id of Object.values(ids).flat()) await fetch(`${api.url}/dicom/${id}`, { method: 'DELETE' });
  });
  const seriesUid = (s: (typeof BRAIN_SERIES)[number]) => `${BRAIN.uid}.${s.series ?? 9}`;
  for (const s of BRAIN_SERIES) {
    for (let i = 1; i <= s.files; i++) {
      const bytes = buildDicom(
        [
          ...patientElements({
            name: BRAIN.name,
            id: BRAIN.id,
            studyDate: '20250301',
            description: 'MR BRAIN',
            modality: s.modality,
          }),
          { tag: 0x0020000d, vr: 'UI', value: BRAIN.uid },
          { tag: 0x0020000e, vr: 'UI', value: seriesUid(s) },
          ...(s.series === null ? [] : [{ tag: 0x00200011, vr: 'IS', value: String(s.series) }]),
          { tag: 0x0008103e, vr: 'LO', value: s.description },
          ...(s.modality === 'SR'
            ? []
            : imageElements({
                rows: 32,
                columns: 32,
                pixels: Array.from({ length: 32 * 32 }, (_, p) => ((p + i * 7) % 32) * 64),
              })),
        ],
        { sopInstanceUid: `${seriesUid(s)}.${i}` },
      );
      const form = new FormData();
      form.append('file', new Blob([bytes]), `${s.key}-${i}.dcm`);
      const response = await fetch(`${api.url}/dicom`, { method: 'POST', body: form });
      expect(response.status).toBe(201);
      ids[s.key].unshift(((await response.json()) as { id: string }).id);
    }
  }
  return ids;
}

/** What the study view should show: each series' heading and its files (newest first), in series-number order. */
function expectedGroups(ids: Record<BrainSeries, string[]>): { heading: string; ids: string[] }[] {
  return [...BRAIN_SERIES]
    .sort((a, b) => (a.series ?? Infinity) - (b.series ?? Infinity))
    .map((s) => ({
      heading: `${s.series === null ? 'Series without a number' : `Series ${s.series}`}: ${s.description} ${
        s.modality
      } · ${s.files} ${s.files === 1 ? 'instance' : 'instances'}`,
      ids: ids[s.key],
    }));
}

/** The series sections of the study view: each heading's text and its file rows' ids. */
function seriesGroups(): Promise<{ heading: string; ids: (string | null)[] }[]> {
  return page.locator('#study-series .series-group').evaluateAll((sections) =>
    sections.map((section) => ({
      heading: section.querySelector('h3')?.textContent ?? '',
      ids: [...section.querySelectorAll('tbody tr[data-id]')].map((row) => row.getAttribute('data-id')),
    })),
  );
}
