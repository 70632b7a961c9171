// The page's entry: wires the views, the dialogs and the drop zone, and routes the hash: `#/` (the files),
// `#/studies`, `#/studies/<study uid>` and `#/files/<id>`.
import { setKeyPrompt, storeApiKey, storedApiKey } from './api.js';
import { createDetailView } from './detail.js';
import { byId } from './dom.js';
import { formatPersonName } from './format.js';
import { createFileList } from './list.js';
import { createStudyList, createStudyView, studiesOffered } from './studies.js';
import { createUploader } from './upload.js';

/** @typedef {import('./api.js').FileRecord} FileRecord */

// Opened as `/v1` (no slash), the page's own URL differs from its base: make them equal, so `#/…` links stay on it.
if (new URL(document.baseURI).pathname === `${window.location.pathname}/`) {
  history.replaceState(history.state, '', new URL(window.location.hash, document.baseURI).href);
}

/** @param {string} id */
const fileHref = (id) => `#/files/${encodeURIComponent(id)}`;
/** @param {string} uid */
const studyHref = (uid) => `#/studies/${encodeURIComponent(uid)}`;
const FILES_HASH = '#/';
const STUDIES_HASH = '#/studies';

const announcer = byId('announcer', HTMLElement);
const listView = byId('list-view', HTMLElement);
const studiesView = byId('studies-view', HTMLElement);
const studyView = byId('study-view', HTMLElement);
const detailView = byId('detail-view', HTMLElement);
const viewNav = byId('view-nav', HTMLElement);
const filesTab = byId('files-tab', HTMLAnchorElement);
const studiesTab = byId('studies-tab', HTMLAnchorElement);
const backLink = byId('back-link', HTMLAnchorElement);
const keyButton = byId('api-key-button', HTMLButtonElement);

// Dialogs ------------------------------------------------------------------

const confirmDialog = byId('confirm-dialog', HTMLDialogElement);
/** @param {FileRecord} record @returns {Promise<boolean>} */
function confirmDelete(record) {
  const name = formatPersonName(record.dicom_info?.PatientName);
  byId('confirm-text', HTMLElement).textContent =
    `${record.filename}${name ? ` (${name})` : ''} will be removed for good: the file, its image and its attributes.`;
  confirmDialog.returnValue = '';
  confirmDialog.showModal();
  return new Promise((resolve) => {
    confirmDialog.addEventListener('close', () => resolve(confirmDialog.returnValue === 'confirm'), { once: true });
  });
}

const keyDialog = byId('key-dialog', HTMLDialogElement);
const keyInput = byId('key-input', HTMLInputElement);
/** @param {string} reason @returns {Promise<string | null>} */
function askForKey(reason) {
  byId('key-reason', HTMLElement).textContent = reason;
  keyInput.value = '';
  keyDialog.returnValue = '';
  keyDialog.showModal();
  return new Promise((resolve) => {
    keyDialog.addEventListener(
      'close',
      () => {
        keyButton.hidden = false;
        if (keyDialog.returnValue === 'forget') storeApiKey(null);
        resolve(keyDialog.returnValue === 'save' ? keyInput.value.trim() || null : null);
      },
      { once: true },
    );
  });
}
setKeyPrompt((reason) => askForKey(`The API asks for a key: ${reason}`));
keyButton.hidden = !storedApiKey();
keyButton.addEventListener('click', async () => {
  const key = await askForKey('Change the key this page sends, or forget it.');
  if (key) {
    storeApiKey(key);
    route();
  }
});

// Views --------------------------------------------------------------------

/**
 * A table's Previous/Next, by the ids' prefix in index.html.
 * @param {string} nav @param {string} previous @param {string} next @param {string} label
 */
const pagerOf = (nav, previous, next, label) => ({
  nav: byId(nav, HTMLElement),
  previous: byId(previous, HTMLButtonElement),
  next: byId(next, HTMLButtonElement),
  label: byId(label, HTMLElement),
});

const fileList = createFileList({
  body: byId('file-rows', HTMLTableSectionElement),
  heading: byId('files-heading', HTMLElement),
  status: byId('list-status', HTMLElement),
  pager: pagerOf('pager', 'previous-page', 'next-page', 'page-label'),
  filters: byId('filters', HTMLFormElement),
  fileHref,
  confirmDelete,
  isVisible: () => !listView.hidden,
});

const studyList = createStudyList({
  body: byId('study-rows', HTMLTableSectionElement),
  status: byId('study-list-status', HTMLElement),
  pager: pagerOf('study-pager', 'previous-study-page', 'next-study-page', 'study-page-label'),
  filters: byId('study-filters', HTMLFormElement),
  studyHref,
});

const study = createStudyView({
  heading: byId('study-heading', HTMLElement),
  summary: byId('study-summary', HTMLElement),
  summaryStatus: byId('study-summary-status', HTMLElement),
  body: byId('study-file-rows', HTMLTableSectionElement),
  filesHeading: byId('study-files-heading', HTMLElement),
  status: byId('study-files-status', HTMLElement),
  pager: pagerOf('study-files-pager', 'previous-study-files-page', 'next-study-files-page', 'study-files-page-label'),
  fileHref,
  confirmDelete,
  isVisible: () => !studyView.hidden,
});

/** Several uploads finishing together refresh the list once. */
/** @type {ReturnType<typeof setTimeout> | undefined} */
let refreshTimer;
const uploadList = byId('upload-list', HTMLUListElement);
const clearUploads = byId('clear-uploads', HTMLButtonElement);
const uploader = createUploader({
  list: uploadList,
  announcer,
  fileHref,
  onUploaded: () => {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(() => {
      void fileList.refresh();
      // Uploads go on while the person looks at the studies.
      if (!studiesView.hidden) void studyList.refresh();
    }, 300);
  },
});
clearUploads.addEventListener('click', () => {
  uploader.clearFinished();
  clearUploads.hidden = uploadList.childElementCount === 0;
});

const detail = createDetailView({
  heading: byId('detail-heading', HTMLElement),
  summary: byId('summary', HTMLElement),
  image: byId('image', HTMLImageElement),
  imageStatus: byId('image-status', HTMLElement),
  frameControls: byId('frame-controls', HTMLElement),
  frame: byId('frame', HTMLInputElement),
  frameOutput: byId('frame-output', HTMLOutputElement),
  windowForm: byId('window-form', HTMLFormElement),
  windowPreset: byId('window-preset', HTMLSelectElement),
  windowCenter: byId('window-center', HTMLInputElement),
  windowWidth: byId('window-width', HTMLInputElement),
  fit: byId('fit', HTMLInputElement),
  attributeBody: byId('attribute-rows', HTMLTableSectionElement),
  attributeSearch: byId('attribute-search', HTMLInputElement),
  attributeStatus: byId('attribute-status', HTMLElement),
  download: byId('download', HTMLButtonElement),
  remove: byId('delete-file', HTMLButtonElement),
  announcer,
  confirmDelete,
  onDeleted: () => {
    // Back where the file was opened from (the study, the studies or the files), in place of the file's history entry:
    // Back must not open the deleted file again.
    window.location.replace(new URL(new URL(backLink.href).hash || FILES_HASH, window.location.href).href);
  },
});

// Files: picker and drag-and-drop -------------------------------------------

const fileInput = byId('file-input', HTMLInputElement);
const dropZone = byId('drop-zone', HTMLElement);

/** @param {FileList | null | undefined} files */
function uploadFiles(files) {
  if (!files || files.length === 0) return;
  uploader.add(files);
  clearUploads.hidden = false;
}

fileInput.addEventListener('change', () => {
  uploadFiles(fileInput.files);
  // The same files may be chosen again.
  fileInput.value = '';
});
/** @param {DragEvent} event */
const carriesFiles = (event) => event.dataTransfer?.types.includes('Files') === true;
// A drop anywhere on the list uploads (a missed drop zone must not make the browser open the file instead).
document.addEventListener('dragover', (event) => {
  if (!carriesFiles(event)) return;
  event.preventDefault();
  if (event.dataTransfer) event.dataTransfer.dropEffect = listView.hidden ? 'none' : 'copy';
  dropZone.classList.toggle('dragging', !listView.hidden);
});
document.addEventListener('dragleave', (event) => {
  if (event.relatedTarget === null) dropZone.classList.remove('dragging');
});
document.addEventListener('drop', (event) => {
  if (!carriesFiles(event)) return;
  event.preventDefault();
  dropZone.classList.remove('dragging');
  if (!listView.hidden) uploadFiles(event.dataTransfer?.files);
});

// Routing --------------------------------------------------------------------

byId('refresh', HTMLButtonElement).addEventListener('click', () => void fileList.refresh());
byId('refresh-studies', HTMLButtonElement).addEventListener('click', () => void studyList.refresh());

/**
 * What the hash shows.
 * @typedef {{ name: 'files' } | { name: 'studies' } | { name: 'study', uid: string } | { name: 'file', id: string }} View
 */

/** @param {string} hash @returns {View} */
function viewOf(hash) {
  try {
    const file = /^#\/files\/([^/?#]+)$/.exec(hash);
    if (file) return { name: 'file', id: decodeURIComponent(file[1] ?? '') };
    const studyMatch = /^#\/studies\/([^/?#]+)$/.exec(hash);
    if (studyMatch) return { name: 'study', uid: decodeURIComponent(studyMatch[1] ?? '') };
  } catch {
    // Not valid percent-encoding (`#/files/%E0%A4%A`): no file or study has that name; the files instead.
    return { name: 'files' };
  }
  if (/^#\/studies\/?$/.test(hash)) return { name: 'studies' };
  return { name: 'files' };
}

/** @param {View} view */
function hashOf(view) {
  if (view.name === 'file') return fileHref(view.id);
  if (view.name === 'study') return studyHref(view.uid);
  return view.name === 'studies' ? STUDIES_HASH : FILES_HASH;
}

/** The view shown (null before the first). */
/** @type {View | null} */
let current = null;
/**
 * What each list (by its hash) opened last, and the hash it opened: coming back from there, the keyboard continues
 * from that row's link.
 * @type {Map<string, { key: string, child: string }>}
 */
const lastOpened = new Map();

/**
 * Where a file was opened from, kept in its history entry so that Back, Forward and a reload agree.
 * @param {View | null} previous
 */
function fileOpenedFrom(previous) {
  const state = history.state;
  const kept = state && typeof state === 'object' && typeof state.from === 'string' ? state.from : null;
  if (kept !== null && viewOf(kept).name !== 'file') return kept;
  const from = previous && previous.name !== 'file' ? hashOf(previous) : FILES_HASH;
  history.replaceState({ ...(state && typeof state === 'object' ? state : {}), from }, '');
  return from;
}

/**
 * Where the keyboard goes when a list is shown: back from what it opened, to that row's link once the rows are drawn
 * (the heading if the row is gone); from another view, to the list's heading at once. The page's first load and the
 * same view again (a new API key) leave the focus alone.
 * @param {View} view @param {View | null} previous @param {Promise<unknown>} loaded the rows drawn
 * @param {HTMLElement} rows @param {HTMLElement} heading @param {string} selector the rows' links, `%` for the key
 */
function focusOnArrival(view, previous, loaded, rows, heading, selector) {
  if (!previous || hashOf(previous) === hashOf(view)) return;
  const opened = lastOpened.get(hashOf(view));
  if (!opened || opened.child !== hashOf(previous)) {
    heading.focus();
    return;
  }
  void loaded.then(() => {
    // Gone to another view meanwhile: its own focus stands.
    if (current !== view) return;
    const link = rows.querySelector(selector.replace('%', CSS.escape(opened.key)));
    (link instanceof HTMLElement ? link : heading).focus();
  });
}

/** Shows the Views nav once the API turns out to offer studies. */
function showNav() {
  void studiesOffered().then((offered) => {
    viewNav.hidden = !offered;
  });
}

/** @param {'files' | 'studies'} section */
function markSection(section) {
  for (const [tab, name] of /** @type {[HTMLAnchorElement, string][]} */ ([
    [filesTab, 'files'],
    [studiesTab, 'studies'],
  ])) {
    if (name === section) tab.setAttribute('aria-current', 'page');
    else tab.removeAttribute('aria-current');
  }
}

function route() {
  const view = viewOf(window.location.hash);
  const previous = current;
  current = view;
  showNav();
  listView.hidden = view.name !== 'files';
  studiesView.hidden = view.name !== 'studies';
  studyView.hidden = view.name !== 'study';
  detailView.hidden = view.name !== 'file';
  if (view.name !== 'files') fileList.stopPolling();
  if (view.name !== 'study') study.stopPolling();
  if (view.name !== 'file') detail.close();

  if (view.name === 'file') {
    const from = fileOpenedFrom(previous);
    if (previous && previous.name !== 'file') lastOpened.set(hashOf(previous), { key: view.id, child: hashOf(view) });
    backLink.href = from;
    const fromView = viewOf(from);
    backLink.textContent =
      fromView.name === 'study' ? '← Back to the study' : fromView.name === 'studies' ? '← All studies' : '← All files';
    markSection(fromView.name === 'files' ? 'files' : 'studies');
    document.title = 'DICOM file';
    void detail.open(view.id);
    byId('detail-heading', HTMLElement).focus();
    return;
  }
  if (view.name === 'study') {
    if (previous?.name === 'studies') lastOpened.set(STUDIES_HASH, { key: view.uid, child: hashOf(view) });
    markSection('studies');
    document.title = 'DICOM study';
    // Opened from the studies: the keyboard starts at the study's name; back from a file, at that file's link.
    focusOnArrival(
      view,
      previous,
      study.open(view.uid),
      byId('study-file-rows', HTMLElement),
      byId('study-heading', HTMLElement),
      'tr[data-id="%"] a.file-link',
    );
    return;
  }
  if (view.name === 'studies') {
    markSection('studies');
    document.title = 'DICOM studies';
    focusOnArrival(
      view,
      previous,
      studyList.refresh(),
      byId('study-rows', HTMLElement),
      byId('study-list-heading', HTMLElement),
      'tr[data-uid="%"] a.study-link',
    );
    return;
  }
  markSection('files');
  document.title = 'DICOM files';
  focusOnArrival(
    view,
    previous,
    fileList.refresh(),
    byId('file-rows', HTMLElement),
    byId('files-heading', HTMLElement),
    'tr[data-id="%"] a.file-link',
  );
}

window.addEventListener('hashchange', route);
route();
