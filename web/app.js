// The page's entry: wires the views, the dialogs and the drop zone, and routes `#/` (list) and `#/files/<id>`.
import { setKeyPrompt, storeApiKey, storedApiKey } from './api.js';
import { createDetailView } from './detail.js';
import { byId } from './dom.js';
import { formatPersonName } from './format.js';
import { createFileList } from './list.js';
import { createUploader } from './upload.js';

/** @typedef {import('./api.js').FileRecord} FileRecord */

// Opened as `/v1` (no slash), the page's own URL differs from its base: make them equal, so `#/…` links stay on it.
if (new URL(document.baseURI).pathname === `${window.location.pathname}/`) {
  history.replaceState(history.state, '', new URL(window.location.hash, document.baseURI).href);
}

/** @param {string} id */
const fileHref = (id) => `#/files/${encodeURIComponent(id)}`;

const announcer = byId('announcer', HTMLElement);
const listView = byId('list-view', HTMLElement);
const detailView = byId('detail-view', HTMLElement);
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

const fileList = createFileList({
  body: byId('file-rows', HTMLTableSectionElement),
  heading: byId('files-heading', HTMLElement),
  status: byId('list-status', HTMLElement),
  pager: byId('pager', HTMLElement),
  previous: byId('previous-page', HTMLButtonElement),
  next: byId('next-page', HTMLButtonElement),
  pageLabel: byId('page-label', HTMLElement),
  filters: byId('filters', HTMLFormElement),
  fileHref,
  confirmDelete,
  isVisible: () => !listView.hidden,
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
    refreshTimer = setTimeout(() => void fileList.refresh(), 300);
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
    window.location.hash = '#/';
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

/** Where the list's focus goes back to when the detail view closes. */
/** @type {string | null} */
let lastOpenedId = null;

function route() {
  const match = /^#\/files\/([^/?#]+)$/.exec(window.location.hash);
  if (match) {
    const id = decodeURIComponent(match[1] ?? '');
    lastOpenedId = id;
    fileList.stopPolling();
    listView.hidden = true;
    detailView.hidden = false;
    document.title = 'DICOM file';
    void detail.open(id);
    byId('detail-heading', HTMLElement).focus();
    return;
  }
  const wasDetail = !detailView.hidden;
  detail.close();
  detailView.hidden = true;
  listView.hidden = false;
  document.title = 'DICOM files';
  void fileList.refresh().then(() => {
    if (!wasDetail) return;
    // Back on the list: the keyboard continues from the file it opened, or from the list's heading.
    const link = lastOpenedId
      ? document.querySelector(`#file-rows tr[data-id="${CSS.escape(lastOpenedId)}"] a.file-link`)
      : null;
    (link instanceof HTMLElement ? link : byId('files-heading', HTMLElement)).focus();
  });
}

window.addEventListener('hashchange', route);
route();
