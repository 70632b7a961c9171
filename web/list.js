// The file lists: the stored files (all of them, or one study's), newest first, each with a small preview, delete with
// confirmation; and the paging every list shares (Previous/Next over the API's pages when it cuts them, next_cursor,
// else the page cuts them itself). The studies views (studies.js) build on these.
import { ApiError, apiFetch, apiJson, apiUrl, errorFrom } from './api.js';
import { h } from './dom.js';
import { formatBytes, formatDicomDate, formatPersonName, formatStatus } from './format.js';

/** @typedef {import('./api.js').FileRecord} FileRecord */
/** @typedef {import('./api.js').FileListing} FileListing */

const PAGE_SIZE = 25;
/** The listing filters the API may offer (GET /dicom?<name>=, POST /dicom/search). */
const FILTER_NAMES = ['patient_id', 'modality', 'study_date', 'status'];
/** While a file is processing, the list looks again this often. */
const PROCESSING_POLL_MS = 2000;
/** Previews fetched at the same time, at most, across the page's tables (25 rows must not hold up other requests). */
const PREVIEW_FETCHES = 6;

/** The columns of the list of all files, as its <thead> names them. */
/** @type {FileColumn[]} */
const FILE_LIST_COLUMNS = ['preview', 'patient', 'study date', 'modality', 'description', 'size', 'status', 'actions'];
/** The columns of a study's files: patient, date and description are the study's, shown above the table once. */
/** @type {FileColumn[]} */
export const STUDY_FILE_COLUMNS = ['preview', 'file', 'modality', 'image', 'size', 'status', 'actions'];

/**
 * @typedef {'preview' | 'patient' | 'file' | 'study date' | 'modality' | 'description' | 'image' | 'size' | 'status'
 *   | 'actions'} FileColumn
 */

/**
 * One page of a listing, as a table shows it.
 * @template T
 * @typedef {object} Page
 * @property {T[]} items
 * @property {boolean} hasNext
 * @property {number} [page] the page shown, when the listing has fewer pages than the one asked for
 */

/**
 * A table's Previous/Next buttons and page label.
 * @typedef {object} PagerElements
 * @property {HTMLElement} nav hidden while there is only one page
 * @property {HTMLButtonElement} previous
 * @property {HTMLButtonElement} next
 * @property {HTMLElement} label
 */

/**
 * @template T
 * @typedef {object} PagedOptions
 * @property {HTMLTableSectionElement} body
 * @property {HTMLElement} status a polite live region
 * @property {PagerElements} pager
 * @property {(page: number) => Promise<Page<T>>} fetchPage
 * @property {(items: T[]) => void} render
 * @property {(items: T[]) => string} describe the status line of a page shown
 * @property {(error: unknown) => string} failure the status line of a page that could not be had
 */

/**
 * Pages of a table: the page number, Previous/Next, the status line, and loads numbered so that a late answer never
 * replaces a newer one.
 * @template T
 * @param {PagedOptions<T>} options
 */
export function createPaged(options) {
  let page = 0;
  let loadNumber = 0;
  /** A message (a delete's outcome) the next loads keep instead of "Showing …". */
  let held = false;
  /** The page whose rows are shown, and whether it had a next one: what a failed load goes back to. */
  let shownPage = 0;
  let shownHasNext = false;
  /** Whether the rows shown belong to another listing (other filters): a failed load empties the table. */
  let stale = false;

  /**
   * Previous/Next while a page loads: both refuse (a second Next would skip a page), said with aria-disabled rather
   * than disabled so that the button pressed keeps the keyboard focus.
   * @param {boolean} busy
   */
  function holdPager(busy) {
    for (const button of [options.pager.previous, options.pager.next]) {
      if (busy) button.setAttribute('aria-disabled', 'true');
      else button.removeAttribute('aria-disabled');
    }
  }

  /** Previous/Next as the page shown allows them. */
  function enablePager() {
    holdPager(false);
    options.pager.previous.disabled = shownPage === 0;
    options.pager.next.disabled = !shownHasNext;
  }

  async function load() {
    const mine = ++loadNumber;
    options.body.setAttribute('aria-busy', 'true');
    holdPager(true);
    try {
      const result = await options.fetchPage(page);
      if (mine !== loadNumber) return;
      if (result.items.length === 0 && page > 0 && result.page === undefined) {
        // A later page that turned out empty (its last files deleted meanwhile): the one before it instead.
        page--;
        await load();
        return;
      }
      if (result.page !== undefined) page = result.page;
      stale = false;
      shownPage = page;
      shownHasNext = result.hasNext;
      options.render(result.items);
      options.pager.nav.hidden = page === 0 && !result.hasNext;
      options.pager.label.textContent = `Page ${page + 1}`;
      if (!held) options.status.textContent = options.describe(result.items);
    } catch (error) {
      if (mine !== loadNumber) return;
      if (stale) {
        // The rows shown are the old filter's: none rather than those under the new filter's message.
        options.render([]);
        options.body.replaceChildren();
        options.pager.nav.hidden = true;
        page = shownPage = 0;
        shownHasNext = false;
      } else {
        // The rows of the page shown stay, and so does its number.
        page = shownPage;
      }
      options.status.textContent = options.failure(error);
    } finally {
      if (mine === loadNumber) {
        options.body.removeAttribute('aria-busy');
        enablePager();
      }
    }
  }

  options.pager.previous.addEventListener('click', () => {
    if (page === 0 || options.body.hasAttribute('aria-busy')) return;
    page--;
    void load();
  });
  options.pager.next.addEventListener('click', () => {
    if (options.body.hasAttribute('aria-busy')) return;
    page++;
    void load();
  });

  return {
    load,
    /** Loads the page shown again, with a fresh status line. */
    refresh() {
      held = false;
      options.status.textContent = '';
      return load();
    },
    /** Goes back to the first page (new filters, another study). */
    first() {
      page = 0;
      stale = true;
      return this.refresh();
    },
    /** @param {string} text a message that stays until the next refresh */
    announce(text) {
      held = true;
      options.status.textContent = text;
    },
    /** Drops the answers still on their way (the table is emptied). */
    cancel() {
      loadNumber++;
      options.body.removeAttribute('aria-busy');
      shownPage = 0;
      shownHasNext = false;
      enablePager();
    },
  };
}

/**
 * The page to ask for: `page` when the cursor it starts at is known, else the last page before it whose cursor is (a
 * page is never asked for without its cursor: that would be the first page under another number).
 * @param {(string | null)[]} cursors @param {number} page
 */
function knownPage(cursors, page) {
  let known = page;
  while (known > 0 && !cursors[known]) known--;
  return known;
}

/**
 * The pages of a listing the API cuts with `next_cursor` (GET /studies, GET /studies/{study_uid}/files): the cursor of
 * each page visited so far is kept, so Previous goes back without the API's help.
 * @template T
 * @param {() => string} path the listing's path, without its query
 * @param {(body: any) => T[]} itemsOf
 * @param {() => Record<string, string>} [filters] sent with every page; a cursor is bound to them (reset on a change)
 */
export function cursorPages(path, itemsOf, filters = () => ({})) {
  /** @type {(string | null)[]} */
  let cursors = [null];
  return {
    /** @param {number} page @returns {Promise<Page<T>>} */
    async fetch(page) {
      // A late answer after a reset (another study) writes into the old cursors, not the new ones.
      const mine = cursors;
      const shown = knownPage(mine, page);
      const query = new URLSearchParams({ ...filters(), limit: String(PAGE_SIZE) });
      const cursor = mine[shown];
      if (cursor) query.set('cursor', cursor);
      const body = await apiJson(`${path()}?${query}`);
      mine[shown + 1] = body.next_cursor ?? null;
      return { items: itemsOf(body), hasNext: Boolean(body.next_cursor), ...(shown !== page ? { page: shown } : {}) };
    },
    /** Forgets the cursors (another study, other filters): the next fetch starts again from the first page. */
    reset() {
      cursors = [null];
    },
  };
}

/** @param {unknown} error */
export const messageOf = (error) => (error instanceof Error ? error.message : String(error));

// Previews -------------------------------------------------------------------

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
 * The URL of a record's preview, when it has one under the API the page is served by (the key goes with the request:
 * never to another origin, or another path of this one).
 * @param {FileRecord} record
 * @returns {string | null}
 */
function previewUrl(record) {
  if (typeof record.thumbnail !== 'string') return null;
  try {
    const url = apiUrl(record.thumbnail);
    return url.startsWith(new URL('./', document.baseURI).href) ? url : null;
  } catch {
    return null;
  }
}

/** Preview fetches running now, in all tables. */
let previewFetchesRunning = 0;
/** The tables with previews waiting for a free fetch, the one that asked last at the end (it is served first). */
/** @type {Set<() => void>} */
const previewPumps = new Set();

function pumpPreviews() {
  for (const pump of [...previewPumps].reverse()) pump();
}

/**
 * The previews of one table's rows: fetched with the API key (an <img src> could not send it), shown from blob: URLs,
 * once per file version, released when their row goes away.
 */
function createPreviews() {
  /** The previews loaded for the rows shown, by previewKey. */
  /** @type {Map<string, Preview>} */
  const previews = new Map();
  /** Previews the API could not give for this version of the file: not asked for again on each refresh. */
  /** @type {Set<string>} */
  const failures = new Set();
  /** The frame each shown row keeps for its preview, by previewKey (rebuilt on each render). */
  /** @type {Map<string, { frame: HTMLElement, alt: string }>} */
  let frames = new Map();
  /** Previews waiting for a free fetch, top row first. */
  /** @type {{ key: string, path: string }[]} */
  let queue = [];
  /** @type {Set<string>} */
  const loading = new Set();

  /** @param {string} key */
  function forget(key) {
    const preview = previews.get(key);
    if (!preview) return;
    previews.delete(key);
    preview.image.remove();
    URL.revokeObjectURL(preview.url);
  }

  /** @param {string} key */
  function failed(key) {
    failures.add(key);
    frames.get(key)?.frame.remove();
  }

  function pump() {
    while (previewFetchesRunning < PREVIEW_FETCHES) {
      const next = queue.shift();
      if (!next) {
        previewPumps.delete(pump);
        return;
      }
      if (!frames.has(next.key)) continue;
      loading.add(next.key);
      previewFetchesRunning++;
      void fetchPreview(next.key, next.path).finally(() => {
        loading.delete(next.key);
        previewFetchesRunning--;
        pumpPreviews();
      });
    }
  }

  /**
   * One preview. A failure leaves the cell empty, quietly: the row and its file are still there.
   * @param {string} key @param {string} path
   */
  async function fetchPreview(key, path) {
    /** @type {Blob} */
    let blob;
    try {
      // Revalidated each time (a 304 when unchanged): a reprocessed file's preview has the same URL.
      const response = await apiFetch(path, { cache: 'no-cache' });
      if (response.status === 401 || response.status === 403) {
        // No key given: asking again for every preview would be a flood of dialogs; a later refresh tries again.
        queue = [];
        return;
      }
      // 202: processed again meanwhile; a later refresh asks again.
      if (response.status === 202) return;
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      blob = await response.blob();
    } catch {
      // An error answer, a network failure, or a redirect to storage that fetch cannot follow.
      failed(key);
      return;
    }
    const shown = frames.get(key);
    if (!shown) return;
    const url = URL.createObjectURL(blob);
    const image = h('img', { src: url, alt: shown.alt, width: 64, height: 64, decoding: 'async' });
    image.addEventListener('error', () => {
      forget(key);
      failed(key);
    });
    previews.set(key, { url, image });
    shown.frame.append(image);
  }

  return {
    /** Before the rows are drawn again: each new row registers its frame. */
    beginRender() {
      frames = new Map();
    },

    /**
     * The preview's cell: empty without an image (or when it could not be had), else a dark frame that shows the
     * preview once it is loaded.
     * @param {FileRecord} record
     */
    cell(record) {
      const cell = h('td', { class: 'preview' });
      const key = previewKey(record);
      // A failed file's image will not come; a processing one's will (the frame waits for it).
      if (previewUrl(record) === null || record.status === 'FAILED' || failures.has(key)) return cell;
      const frame = h('span', { class: 'preview-frame' });
      frames.set(key, { frame, alt: `Preview of ${record.filename}` });
      const loaded = previews.get(key);
      if (loaded) frame.append(loaded.image);
      cell.append(frame);
      return cell;
    },

    /**
     * After a render: drops the previews of rows no longer shown and fetches the missing ones of files that are ready
     * (a file still processing has no PNG yet; the list looks again in a moment).
     * @param {FileRecord[]} files
     */
    update(files) {
      const shown = new Set(files.map(previewKey));
      for (const key of previews.keys()) if (!shown.has(key)) forget(key);
      for (const key of failures) if (!shown.has(key)) failures.delete(key);
      queue = [];
      for (const file of files) {
        const key = previewKey(file);
        const path = previewUrl(file);
        if (path === null || (file.status ?? 'READY') !== 'READY') continue;
        if (previews.has(key) || loading.has(key) || failures.has(key)) continue;
        queue.push({ key, path });
      }
      // The table that asked last is served first.
      previewPumps.delete(pump);
      previewPumps.add(pump);
      pump();
    },
  };
}

// Tables of files ------------------------------------------------------------

/**
 * @typedef {object} FileTableOptions
 * @property {HTMLTableSectionElement} body
 * @property {HTMLElement} heading focused when the focused row goes away
 * @property {HTMLElement} status a polite live region
 * @property {PagerElements} pager
 * @property {FileColumn[]} columns as the table's <thead> names them
 * @property {(page: number) => Promise<Page<FileRecord>>} fetchPage
 * @property {() => string} emptyText
 * @property {(id: string) => string} fileHref
 * @property {(record: FileRecord) => Promise<boolean>} confirmDelete
 * @property {() => boolean} isVisible
 * @property {() => void} [onDeleted] after a file of the table was deleted
 */

/**
 * A table of file records (all files, or a study's): a row per file with its preview and a link to its detail view,
 * delete with confirmation, a look again every few seconds while a file processes.
 * @param {FileTableOptions} options
 */
export function createFileTable(options) {
  const previews = createPreviews();
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let pollTimer;
  const paged = createPaged({
    body: options.body,
    status: options.status,
    pager: options.pager,
    fetchPage: options.fetchPage,
    render,
    describe: (files) => (files.length ? `Showing ${files.length} file(s), newest first.` : ''),
    failure: (error) => `Could not load the files: ${messageOf(error)}`,
  });

  /** @param {FileRecord} record */
  function linkTo(record) {
    const name = formatPersonName(record.dicom_info?.PatientName);
    return h('a', {
      href: options.fileHref(record.id),
      class: 'file-link',
      'data-action': 'open',
      text: name || '(no name)',
      title: record.dicom_info?.PatientName ?? '',
    });
  }

  /** @param {FileRecord} record */
  function imageText(record) {
    const dimensions = record.dicom_info?.ImageDimensions;
    if (!dimensions || record.has_image === false) return 'No image';
    const frames = record.number_of_frames ?? 1;
    return `${dimensions.columns} × ${dimensions.rows}${frames > 1 ? `, ${frames} frames` : ''}`;
  }

  /** @type {Record<FileColumn, (record: FileRecord) => HTMLTableCellElement>} */
  const cells = {
    preview: (record) => previews.cell(record),
    patient: (record) =>
      h(
        'td',
        { class: 'lead', 'data-label': 'Patient' },
        linkTo(record),
        h('span', { class: 'sub', text: record.filename }),
      ),
    file: (record) =>
      h(
        'td',
        { class: 'lead', 'data-label': 'File' },
        h('a', { href: options.fileHref(record.id), class: 'file-link', 'data-action': 'open', text: record.filename }),
      ),
    'study date': (record) =>
      h('td', { 'data-label': 'Study date', text: formatDicomDate(record.dicom_info?.StudyDate) }),
    modality: (record) => h('td', { 'data-label': 'Modality', text: record.dicom_info?.Modality ?? '' }),
    description: (record) => h('td', { 'data-label': 'Description', text: record.dicom_info?.StudyDescription ?? '' }),
    image: (record) => h('td', { 'data-label': 'Image', text: imageText(record) }),
    size: (record) => h('td', { 'data-label': 'Size', class: 'number', text: formatBytes(record.size_bytes) }),
    status: (record) => {
      const status = record.status ?? 'READY';
      return h(
        'td',
        { 'data-label': 'Status' },
        h('span', { class: `badge status-${status.toLowerCase()}`, text: formatStatus(status) }),
        record.error ? h('span', { class: 'sub error-text', text: record.error }) : null,
      );
    },
    actions: (record) =>
      h(
        'td',
        { class: 'actions' },
        h('button', {
          type: 'button',
          class: 'link-button danger',
          text: 'Delete',
          'aria-label': `Delete ${record.filename}`,
          'data-action': 'delete',
          onclick: () => void remove(record),
        }),
      ),
  };

  /** @param {FileRecord} record */
  function row(record) {
    return h('tr', { 'data-id': record.id }, ...options.columns.map((column) => cells[column](record)));
  }

  /** @param {FileRecord} record */
  async function remove(record) {
    if (!(await options.confirmDelete(record))) return;
    const response = await apiFetch(`dicom/${encodeURIComponent(record.id)}`, { method: 'DELETE' });
    if (response.ok || response.status === 404) {
      paged.announce(`Deleted ${record.filename}.`);
    } else {
      paged.announce(`Could not delete ${record.filename}: ${(await errorFrom(response)).message}`);
    }
    await paged.load();
    options.onDeleted?.();
    // The row (and its button) is gone: the keyboard continues from the list's heading, not from the page's top.
    if (!options.body.contains(document.activeElement)) options.heading.focus();
  }

  /** @param {FileRecord[]} files */
  function render(files) {
    // A refresh must not throw away the keyboard focus of someone working through the rows.
    const focused = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    const focusedRow = focused && options.body.contains(focused) ? focused.closest('tr')?.dataset.id : undefined;
    const focusedAction = focused?.dataset.action;
    previews.beginRender();
    if (files.length === 0) {
      options.body.replaceChildren(
        h('tr', {}, h('td', { colspan: options.columns.length, class: 'empty', text: options.emptyText() })),
      );
    } else {
      options.body.replaceChildren(...files.map(row));
    }
    previews.update(files);
    if (focusedRow && focusedAction) {
      const again = options.body.querySelector(
        `tr[data-id="${CSS.escape(focusedRow)}"] [data-action="${focusedAction}"]`,
      );
      if (again instanceof HTMLElement) again.focus();
    }
    clearTimeout(pollTimer);
    if (files.some((file) => file.status === 'PROCESSING')) {
      pollTimer = setTimeout(() => {
        if (options.isVisible()) void paged.load();
      }, PROCESSING_POLL_MS);
    }
  }

  return {
    /** Loads the current page again (after an upload, a delete, or coming back to the list). */
    refresh: () => paged.refresh(),
    /** Loads the first page (new filters, another study). */
    first: () => paged.first(),
    stopPolling() {
      clearTimeout(pollTimer);
    },
    /** Empties the table and releases its previews (another study is about to be shown). */
    clear() {
      paged.cancel();
      clearTimeout(pollTimer);
      previews.beginRender();
      previews.update([]);
      options.body.replaceChildren();
      options.pager.nav.hidden = true;
      options.status.textContent = '';
    },
  };
}

/**
 * @typedef {object} FileListOptions
 * @property {HTMLTableSectionElement} body
 * @property {HTMLElement} heading focused when the focused row goes away
 * @property {HTMLElement} status a polite live region
 * @property {PagerElements} pager
 * @property {HTMLFormElement} filters
 * @property {(id: string) => string} fileHref
 * @property {(record: FileRecord) => Promise<boolean>} confirmDelete
 * @property {() => boolean} isVisible
 */

/**
 * Every stored file, newest first, with the filters when the API pages (else the page pages the full listing).
 * @param {FileListOptions} options
 */
export function createFileList(options) {
  /** true: the API pages (next_cursor); false: it answers every file at once (the page pages them itself). */
  /** @type {boolean | undefined} */
  let apiPages;
  /** false once POST /dicom/search turned out to be missing. */
  let searchRoute = true;
  /** The cursor of each page visited so far (the first page has none). */
  /** @type {(string | null)[]} */
  let cursors = [null];
  /** @type {Record<string, string>} */
  let filters = {};

  /** @param {string | null} cursor @returns {Promise<FileListing>} */
  async function fetchListing(cursor) {
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

  /** @param {number} page @returns {Promise<Page<FileRecord>>} */
  async function fetchPage(page) {
    /** @type {FileRecord[] | undefined} */
    let all;
    if (apiPages !== false) {
      // A late answer after new filters writes into the old cursors, not the new ones.
      const mine = cursors;
      const shown = knownPage(mine, page);
      try {
        const body = await fetchListing(mine[shown] ?? null);
        if ('next_cursor' in body) {
          apiPages = true;
          options.filters.hidden = false;
          mine[shown + 1] = body.next_cursor ?? null;
          return {
            items: body.files,
            hasNext: Boolean(body.next_cursor),
            ...(shown !== page ? { page: shown } : {}),
          };
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
    const everything = all ?? /** @type {FileListing} */ (await apiJson('dicom')).files;
    const shown = Math.min(page, Math.max(0, Math.ceil(everything.length / PAGE_SIZE) - 1));
    const start = shown * PAGE_SIZE;
    return {
      items: everything.slice(start, start + PAGE_SIZE),
      hasNext: everything.length > start + PAGE_SIZE,
      page: shown,
    };
  }

  const table = createFileTable({
    body: options.body,
    heading: options.heading,
    status: options.status,
    pager: options.pager,
    columns: FILE_LIST_COLUMNS,
    fetchPage,
    emptyText: () =>
      Object.keys(filters).length ? 'No file matches these filters.' : 'No files yet: upload some above.',
    fileHref: options.fileHref,
    confirmDelete: options.confirmDelete,
    isVisible: options.isVisible,
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
    void table.first();
  });
  options.filters.addEventListener('reset', () => {
    filters = {};
    cursors = [null];
    void table.first();
  });

  return { refresh: table.refresh, stopPolling: table.stopPolling };
}
