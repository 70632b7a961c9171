// The stored files, newest first, each with a small preview: the API's pages and filters when it offers them, delete
// with confirmation.
import { ApiError, apiFetch, apiJson, errorFrom } from './api.js';
import { h } from './dom.js';
import { formatBytes, formatDicomDate, formatPersonName, formatStatus } from './format.js';

/** @typedef {import('./api.js').FileRecord} FileRecord */

const PAGE_SIZE = 25;
/** The listing filters the API may offer (GET /dicom?<name>=, POST /dicom/search). */
const FILTER_NAMES = ['patient_id', 'modality', 'study_date', 'status'];
/** While a file is processing, the list looks again this often. */
const PROCESSING_POLL_MS = 2000;
/** Previews fetched at the same time, at most (a page of 25 rows must not hold up the other requests). */
const PREVIEW_FETCHES = 6;

/**
 * A loaded preview: its blob: URL and the <img> showing it, moved into the new row on each refresh (no refetch, no
 * flicker).
 * @typedef {{ url: string, image: HTMLImageElement }} Preview
 */

/**
 * Which version of a file's preview a row wants: a reprocessed file (a new modified_at) gets a new one.
 * @param {FileRecord} record
 */
const previewKey = (record) => `${record.id} ${record.modified_at}`;

/**
 * @typedef {object} FileListOptions
 * @property {HTMLTableSectionElement} body
 * @property {HTMLElement} heading focused when the focused row goes away
 * @property {HTMLElement} status a polite live region
 * @property {HTMLElement} pager
 * @property {HTMLButtonElement} previous
 * @property {HTMLButtonElement} next
 * @property {HTMLElement} pageLabel
 * @property {HTMLFormElement} filters
 * @property {(id: string) => string} fileHref
 * @property {(record: FileRecord) => Promise<boolean>} confirmDelete
 * @property {() => boolean} isVisible
 */

/** @param {FileListOptions} options */
export function createFileList(options) {
  /** true: the API pages (next_cursor); false: it answers every file at once (the page pages them itself). */
  /** @type {boolean | undefined} */
  let apiPages;
  /** false once POST /dicom/search turned out to be missing. */
  let searchRoute = true;
  /** The cursor of each page visited so far (the first page has none). */
  /** @type {(string | null)[]} */
  let cursors = [null];
  let page = 0;
  /** @type {Record<string, string>} */
  let filters = {};
  let loadNumber = 0;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let pollTimer;
  /** The previews loaded for the rows shown, by previewKey. */
  /** @type {Map<string, Preview>} */
  const previews = new Map();
  /** Previews the API could not give for this version of the file: not asked for again on each refresh. */
  /** @type {Set<string>} */
  const previewFailures = new Set();
  /** The frame each shown row keeps for its preview, by previewKey (rebuilt on each render). */
  /** @type {Map<string, { frame: HTMLElement, alt: string }>} */
  let previewFrames = new Map();
  /** Previews waiting for a free fetch, top row first. */
  /** @type {{ key: string, path: string }[]} */
  let previewQueue = [];
  /** @type {Set<string>} */
  const previewsLoading = new Set();

  /** @param {string | null} cursor @returns {Promise<{ files: FileRecord[], next_cursor?: string | null }>} */
  async function fetchPage(cursor) {
    const hasFilters = Object.keys(filters).length > 0;
    if (hasFilters && searchRoute) {
      // A JSON body keeps patient identifiers out of URLs and access logs.
      const response = await apiFetch('dicom/search', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ ...filters, limit: PAGE_SIZE, ...(cursor ? { cursor } : {}) }),
      });
      if (response.ok) return response.json();
      if (response.status !== 404 && response.status !== 405) throw await errorFrom(response);
      searchRoute = false;
    }
    const query = new URLSearchParams({ ...filters, limit: String(PAGE_SIZE) });
    if (cursor) query.set('cursor', cursor);
    return apiJson(`dicom?${query}`);
  }

  /** @returns {Promise<{ files: FileRecord[], hasNext: boolean }>} */
  async function currentPage() {
    /** @type {FileRecord[] | undefined} */
    let all;
    if (apiPages !== false) {
      try {
        const body = await fetchPage(cursors[page] ?? null);
        if ('next_cursor' in body) {
          apiPages = true;
          options.filters.hidden = false;
          cursors[page + 1] = body.next_cursor ?? null;
          return { files: body.files, hasNext: Boolean(body.next_cursor) };
        }
        // A 200 without next_cursor: the API ignored `limit` and answered everything.
        apiPages = false;
        all = body.files;
      } catch (error) {
        // An API without paging refuses `limit` as an unknown query parameter.
        const refusedLimit = error instanceof ApiError && error.status === 400 && /\blimit\b/.test(error.message);
        if (apiPages !== undefined || !refusedLimit) throw error;
        apiPages = false;
      }
    }
    const everything = all ?? /** @type {{ files: FileRecord[] }} */ (await apiJson('dicom')).files;
    page = Math.min(page, Math.max(0, Math.ceil(everything.length / PAGE_SIZE) - 1));
    const start = page * PAGE_SIZE;
    return { files: everything.slice(start, start + PAGE_SIZE), hasNext: everything.length > start + PAGE_SIZE };
  }

  /**
   * The preview's cell: empty without an image (or when it could not be had), else a dark frame that shows the
   * preview once it is loaded.
   * @param {FileRecord} record
   */
  function previewCell(record) {
    const cell = h('td', { class: 'preview' });
    const key = previewKey(record);
    // A failed file's image will not come; a processing one's will (the frame waits for it).
    if (typeof record.thumbnail !== 'string' || record.status === 'FAILED' || previewFailures.has(key)) return cell;
    const frame = h('span', { class: 'preview-frame' });
    previewFrames.set(key, { frame, alt: `Preview of ${record.filename}` });
    const loaded = previews.get(key);
    if (loaded) frame.append(loaded.image);
    cell.append(frame);
    return cell;
  }

  /** @param {string} key */
  function forgetPreview(key) {
    const preview = previews.get(key);
    if (!preview) return;
    previews.delete(key);
    preview.image.remove();
    URL.revokeObjectURL(preview.url);
  }

  /**
   * After a render: drops the previews of rows no longer shown and fetches the missing ones of files that are ready
   * (a file still processing has no PNG yet; the list looks again in a moment).
   * @param {FileRecord[]} files
   */
  function updatePreviews(files) {
    const shown = new Set(files.map(previewKey));
    for (const key of previews.keys()) if (!shown.has(key)) forgetPreview(key);
    for (const key of previewFailures) if (!shown.has(key)) previewFailures.delete(key);
    previewQueue = [];
    for (const file of files) {
      const key = previewKey(file);
      if (typeof file.thumbnail !== 'string' || (file.status ?? 'READY') !== 'READY') continue;
      if (previews.has(key) || previewsLoading.has(key) || previewFailures.has(key)) continue;
      previewQueue.push({ key, path: file.thumbnail });
    }
    fetchPreviews();
  }

  function fetchPreviews() {
    while (previewsLoading.size < PREVIEW_FETCHES) {
      const next = previewQueue.shift();
      if (!next) return;
      if (!previewFrames.has(next.key)) continue;
      previewsLoading.add(next.key);
      void fetchPreview(next.key, next.path).finally(() => {
        previewsLoading.delete(next.key);
        fetchPreviews();
      });
    }
  }

  /**
   * One preview, fetched with the API key (an <img src> could not send it) and shown from a blob: URL. A failure
   * leaves the cell empty, quietly: the row and its file are still there.
   * @param {string} key @param {string} path
   */
  async function fetchPreview(key, path) {
    /** @type {Blob} */
    let blob;
    try {
      const response = await apiFetch(path);
      if (response.status === 401 || response.status === 403) {
        // No key given: asking again for every preview would be a flood of dialogs; a later refresh tries again.
        previewQueue = [];
        return;
      }
      // 202: processed again meanwhile; a later refresh asks again.
      if (response.status === 202) return;
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      blob = await response.blob();
    } catch {
      // An error answer, a network failure, or a redirect to storage that fetch cannot follow.
      previewFailed(key);
      return;
    }
    const shown = previewFrames.get(key);
    if (!shown) return;
    const url = URL.createObjectURL(blob);
    const image = h('img', { src: url, alt: shown.alt, width: 64, height: 64, decoding: 'async' });
    image.addEventListener('error', () => {
      forgetPreview(key);
      previewFailed(key);
    });
    previews.set(key, { url, image });
    shown.frame.append(image);
  }

  /** @param {string} key */
  function previewFailed(key) {
    previewFailures.add(key);
    previewFrames.get(key)?.frame.remove();
  }

  /** @param {FileRecord} record */
  function row(record) {
    const info = record.dicom_info ?? {};
    const name = formatPersonName(info.PatientName);
    const status = record.status ?? 'READY';
    const remove = h('button', {
      type: 'button',
      class: 'link-button danger',
      text: 'Delete',
      'aria-label': `Delete ${record.filename}`,
      'data-action': 'delete',
      onclick: () => void remove_(record),
    });
    return h(
      'tr',
      { 'data-id': record.id },
      previewCell(record),
      h(
        'td',
        { 'data-label': 'Patient' },
        h('a', {
          href: options.fileHref(record.id),
          class: 'file-link',
          'data-action': 'open',
          text: name || '(no name)',
          title: info.PatientName ?? '',
        }),
        h('span', { class: 'sub', text: record.filename }),
      ),
      h('td', { 'data-label': 'Study date', text: formatDicomDate(info.StudyDate) }),
      h('td', { 'data-label': 'Modality', text: info.Modality ?? '' }),
      h('td', { 'data-label': 'Description', text: info.StudyDescription ?? '' }),
      h('td', { 'data-label': 'Size', class: 'number', text: formatBytes(record.size_bytes) }),
      h(
        'td',
        { 'data-label': 'Status' },
        h('span', { class: `badge status-${status.toLowerCase()}`, text: formatStatus(status) }),
        record.error ? h('span', { class: 'sub error-text', text: record.error }) : null,
      ),
      h('td', { class: 'actions' }, remove),
    );
  }

  /** @param {FileRecord} record */
  async function remove_(record) {
    if (!(await options.confirmDelete(record))) return;
    const response = await apiFetch(`dicom/${record.id}`, { method: 'DELETE' });
    if (response.ok || response.status === 404) {
      options.status.textContent = `Deleted ${record.filename}.`;
    } else {
      options.status.textContent = `Could not delete ${record.filename}: ${(await errorFrom(response)).message}`;
    }
    await load();
    // The row (and its button) is gone: the keyboard continues from the list's heading, not from the page's top.
    if (!options.body.contains(document.activeElement)) options.heading.focus();
  }

  /** @param {FileRecord[]} files @param {boolean} hasNext */
  function render(files, hasNext) {
    // A refresh must not throw away the keyboard focus of someone working through the rows.
    const focused = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    const focusedRow = focused && options.body.contains(focused) ? focused.closest('tr')?.dataset.id : undefined;
    const focusedAction = focused?.dataset.action;
    previewFrames = new Map();
    if (files.length === 0) {
      const empty = Object.keys(filters).length ? 'No file matches these filters.' : 'No files yet: upload some above.';
      options.body.replaceChildren(h('tr', {}, h('td', { colspan: 8, class: 'empty', text: empty })));
    } else {
      options.body.replaceChildren(...files.map(row));
    }
    updatePreviews(files);
    if (focusedRow && focusedAction) {
      const again = options.body.querySelector(
        `tr[data-id="${CSS.escape(focusedRow)}"] [data-action="${focusedAction}"]`,
      );
      if (again instanceof HTMLElement) again.focus();
    }
    options.pager.hidden = page === 0 && !hasNext;
    options.previous.disabled = page === 0;
    options.next.disabled = !hasNext;
    options.pageLabel.textContent = `Page ${page + 1}`;
    clearTimeout(pollTimer);
    if (files.some((file) => file.status === 'PROCESSING')) {
      pollTimer = setTimeout(() => {
        if (options.isVisible()) void load();
      }, PROCESSING_POLL_MS);
    }
  }

  async function load() {
    const mine = ++loadNumber;
    options.body.setAttribute('aria-busy', 'true');
    try {
      const { files, hasNext } = await currentPage();
      if (mine !== loadNumber) return;
      render(files, hasNext);
      if (!options.status.textContent?.startsWith('Deleted')) {
        options.status.textContent = files.length ? `Showing ${files.length} file(s), newest first.` : '';
      }
    } catch (error) {
      if (mine !== loadNumber) return;
      options.status.textContent = `Could not load the files: ${error instanceof Error ? error.message : error}`;
    } finally {
      if (mine === loadNumber) options.body.removeAttribute('aria-busy');
    }
  }

  options.previous.addEventListener('click', () => {
    if (page === 0) return;
    page--;
    void load();
  });
  options.next.addEventListener('click', () => {
    page++;
    void load();
  });
  options.filters.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(options.filters);
    filters = {};
    for (const name of FILTER_NAMES) {
      const value = String(data.get(name) ?? '').trim();
      if (value) filters[name] = name === 'modality' ? value.toUpperCase() : value;
    }
    cursors = [null];
    page = 0;
    options.status.textContent = '';
    void load();
  });
  options.filters.addEventListener('reset', () => {
    filters = {};
    cursors = [null];
    page = 0;
    options.status.textContent = '';
    void load();
  });

  return {
    /** Loads the current page again (after an upload, a delete, or coming back to the list). */
    refresh() {
      options.status.textContent = '';
      return load();
    },
    stopPolling() {
      clearTimeout(pollTimer);
    },
  };
}
