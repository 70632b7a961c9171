// One file: its record, its image (frames and windows when the API offers them) and all its attributes.
import { apiFetch, apiJson, apiUrl, errorFrom } from './api.js';
import { createAttributeTable } from './attributes.js';
import { fillDefinitions, h } from './dom.js';
import { formatBytes, formatDicomDate, formatPersonName, formatStatus, formatTimestamp } from './format.js';

/** @typedef {import('./api.js').FileRecord} FileRecord */

/** Common CT windows (center, width in HU), offered when the API takes `?window=`. */
const CT_WINDOWS = [
  { label: 'Brain', center: 40, width: 80 },
  { label: 'Subdural', center: 75, width: 215 },
  { label: 'Soft tissue', center: 50, width: 400 },
  { label: 'Lung', center: -600, width: 1500 },
  { label: 'Bone', center: 600, width: 2800 },
  { label: 'Liver', center: 30, width: 150 },
];
const RECORD_POLL_MS = 1500;
const FRAME_DEBOUNCE_MS = 120;

/** What the API's PNG route takes, learned once per page load (undefined: not asked yet). */
/** @type {{ frame?: boolean, window?: boolean }} */
const pngParameters = {};

/**
 * @typedef {object} DetailOptions
 * @property {HTMLElement} heading
 * @property {HTMLElement} summary a <dl>
 * @property {HTMLImageElement} image
 * @property {HTMLElement} imageStatus
 * @property {HTMLElement} frameControls
 * @property {HTMLInputElement} frame
 * @property {HTMLOutputElement} frameOutput
 * @property {HTMLFormElement} windowForm
 * @property {HTMLSelectElement} windowPreset
 * @property {HTMLInputElement} windowCenter
 * @property {HTMLInputElement} windowWidth
 * @property {HTMLInputElement} fit
 * @property {HTMLTableSectionElement} attributeBody
 * @property {HTMLInputElement} attributeSearch
 * @property {HTMLElement} attributeStatus
 * @property {HTMLButtonElement} download
 * @property {HTMLButtonElement} remove
 * @property {HTMLElement} announcer
 * @property {(record: FileRecord) => Promise<boolean>} confirmDelete
 * @property {() => void} onDeleted
 */

/** @param {number} ms */
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** @param {DetailOptions} options */
export function createDetailView(options) {
  const attributes = createAttributeTable({
    body: options.attributeBody,
    search: options.attributeSearch,
    status: options.attributeStatus,
  });
  /** Bumped on every open and close: late answers for another file are dropped. */
  let generation = 0;
  /** @type {FileRecord | null} */
  let record = null;
  /** Object URLs of the renderings fetched for this file, by query. */
  /** @type {Map<string, string>} */
  const renderings = new Map();
  /** The ETag of the file's default PNG: lets learnParameter ask without downloading the image again. */
  /** @type {string | null} */
  let pngEtag = null;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let frameTimer;

  /** @param {string} text @param {'info' | 'error'} [kind] */
  function imageMessage(text, kind = 'info') {
    options.imageStatus.textContent = text;
    options.imageStatus.dataset.kind = kind;
  }

  /** @param {FileRecord} file */
  function showSummary(file) {
    const info = file.dicom_info ?? {};
    const dimensions = info.ImageDimensions;
    /** @type {[string, string | null | undefined][]} */
    const fields = [
      ['Patient', info.PatientName ? `${formatPersonName(info.PatientName)}` : ''],
      ['Patient name (as stored)', info.PatientName],
      ['Patient ID', info.PatientID],
      ['Study date', formatDicomDate(info.StudyDate)],
      ['Modality', info.Modality],
      ['Description', info.StudyDescription],
      ['Image size', dimensions ? `${dimensions.columns} × ${dimensions.rows} pixels` : 'no image'],
      ['Frames', file.number_of_frames ? String(file.number_of_frames) : ''],
      ['File', file.filename],
      ['Size', formatBytes(file.size_bytes)],
      ['Status', formatStatus(file.status) + (file.error ? `: ${file.error}` : '')],
      ['Uploaded', formatTimestamp(file.created_at)],
      ['Transfer syntax', file.transfer_syntax_uid],
      ['Id', file.id],
    ];
    fillDefinitions(options.summary, fields);
  }

  /** The PNG path with the current frame and window (only the parameters the API takes). */
  function renderingQuery() {
    const query = new URLSearchParams();
    const frame = Number(options.frame.value);
    if (pngParameters.frame && !options.frameControls.hidden && frame > 1) query.set('frame', String(frame));
    const center = options.windowCenter.value.trim();
    const width = options.windowWidth.value.trim();
    if (pngParameters.window && options.windowPreset.value !== '' && center && width)
      query.set('window', `${center},${width}`);
    return query.toString();
  }

  /**
   * The PNG, fetched with the API key and shown from a blob: URL.
   * @param {number} mine the generation asking
   */
  async function showImage(mine) {
    if (!record) return;
    const query = renderingQuery();
    const cached = renderings.get(query);
    if (cached) {
      options.image.src = cached;
      return;
    }
    const path = `dicom/${encodeURIComponent(record.id)}/png${query ? `?${query}` : ''}`;
    imageMessage('Loading the image…');
    for (let attempt = 0; attempt < 10; attempt++) {
      /** @type {Response} */
      let response;
      try {
        response = await apiFetch(path);
      } catch {
        // A large PNG is a redirect to storage, which fetch cannot follow without CORS; an <img> can.
        if (mine !== generation) return;
        options.image.src = apiUrl(path);
        return;
      }
      if (mine !== generation) return;
      if (response.status === 202) {
        imageMessage('Still processing; waiting for the image…');
        await pause(Math.min(5, Number(response.headers.get('Retry-After')) || 1) * 1000);
        if (mine !== generation) return;
        continue;
      }
      if (!response.ok) {
        const error = await errorFrom(response);
        if (mine !== generation) return;
        // A refused frame or window keeps the image shown; a file without a renderable image shows none.
        if (!query) options.image.hidden = true;
        imageMessage(
          response.status === 404 && error.code === 'NO_IMAGE'
            ? 'This DICOM object has no image.'
            : `No image: ${error.message}`,
          'error',
        );
        return;
      }
      const url = URL.createObjectURL(await response.blob());
      if (mine !== generation) {
        URL.revokeObjectURL(url);
        return;
      }
      renderings.set(query, url);
      if (!query) pngEtag = response.headers.get('ETag');
      options.image.hidden = false;
      options.image.src = url;
      return;
    }
    imageMessage('The image is not ready yet; open the file again in a moment.', 'error');
  }

  /**
   * Whether the PNG route takes `name`: an API that does refuses a bad value with 400; one that does not
   * renders as usual, which costs nothing when the ETag we already hold answers 304.
   * @param {'frame' | 'window'} name @param {string} badValue
   */
  async function learnParameter(name, badValue) {
    if (pngParameters[name] !== undefined || !record) return pngParameters[name];
    const response = await apiFetch(
      `dicom/${encodeURIComponent(record.id)}/png?${name}=${encodeURIComponent(badValue)}`,
      {
        headers: pngEtag ? { 'If-None-Match': pngEtag } : {},
      },
    );
    await response.body?.cancel();
    pngParameters[name] = response.status === 400;
    return pngParameters[name];
  }

  /** @param {number} mine */
  async function setUpRenderingControls(mine) {
    if (!record) return;
    const frames = record.number_of_frames ?? 1;
    const frameNote = options.frameControls.querySelector('.note');
    if (frames > 1) {
      const supported = await learnParameter('frame', '0');
      if (mine !== generation) return;
      options.frameControls.hidden = false;
      options.frame.max = String(frames);
      options.frame.value = '1';
      options.frame.disabled = !supported;
      options.frameOutput.textContent = `1 of ${frames}`;
      if (frameNote) frameNote.textContent = supported ? '' : 'This API renders only the first frame.';
    }
    const windows = await learnParameter('window', 'x');
    if (mine !== generation || !windows) return;
    const isCt = record.dicom_info?.Modality === 'CT';
    options.windowPreset.replaceChildren(
      h('option', { value: '', text: 'As the file says' }),
      ...(isCt
        ? CT_WINDOWS.map((w) =>
            h('option', { value: `${w.center},${w.width}`, text: `${w.label} (${w.center} / ${w.width})` }),
          )
        : []),
      h('option', { value: 'custom', text: 'Custom' }),
    );
    options.windowForm.hidden = false;
  }

  /** @param {string} id @param {number} mine */
  async function loadRecord(id, mine) {
    for (;;) {
      /** @type {FileRecord} */
      const file = await apiJson(`dicom/${encodeURIComponent(id)}`);
      if (mine !== generation) return null;
      record = file;
      showSummary(file);
      options.heading.textContent = formatPersonName(file.dicom_info?.PatientName) || file.filename;
      if (file.status !== 'PROCESSING') return file;
      imageMessage('Processing the file…');
      await pause(RECORD_POLL_MS);
      if (mine !== generation) return null;
    }
  }

  /** @param {string} id @param {number} mine */
  async function loadAttributes(id, mine) {
    options.attributeStatus.textContent = 'Loading attributes…';
    try {
      const body = await apiJson(`dicom/${encodeURIComponent(id)}/attributes`);
      if (mine !== generation) return;
      attributes.show(body.attributes ?? {});
    } catch (error) {
      if (mine !== generation) return;
      options.attributeStatus.textContent = `No attributes: ${error instanceof Error ? error.message : error}`;
    }
  }

  function reset() {
    generation++;
    record = null;
    clearTimeout(frameTimer);
    for (const url of renderings.values()) URL.revokeObjectURL(url);
    renderings.clear();
    pngEtag = null;
    options.image.removeAttribute('src');
    options.image.hidden = false;
    options.image.alt = '';
    options.summary.replaceChildren();
    options.frameControls.hidden = true;
    options.windowForm.hidden = true;
    options.windowPreset.value = '';
    options.windowCenter.value = '';
    options.windowWidth.value = '';
    options.attributeSearch.value = '';
    attributes.clear();
    imageMessage('');
  }

  options.image.addEventListener('load', () => {
    if (!record) return;
    const frames = record.number_of_frames ?? 1;
    const frame = frames > 1 ? `, frame ${pngParameters.frame ? options.frame.value : 1} of ${frames}` : '';
    options.image.alt = `Image of ${record.filename}${frame}, ${options.image.naturalWidth} × ${options.image.naturalHeight} pixels`;
    imageMessage('');
  });
  options.image.addEventListener('error', () => {
    if (options.image.getAttribute('src')) imageMessage('The image could not be shown.', 'error');
  });
  options.frame.addEventListener('input', () => {
    options.frameOutput.textContent = `${options.frame.value} of ${options.frame.max}`;
    clearTimeout(frameTimer);
    const mine = generation;
    frameTimer = setTimeout(() => void showImage(mine), FRAME_DEBOUNCE_MS);
  });
  options.windowPreset.addEventListener('change', () => {
    const [center = '', width = ''] = options.windowPreset.value.split(',');
    if (options.windowPreset.value === 'custom') {
      options.windowCenter.focus();
      return;
    }
    options.windowCenter.value = center;
    options.windowWidth.value = width;
    void showImage(generation);
  });
  for (const input of [options.windowCenter, options.windowWidth]) {
    input.addEventListener('input', () => {
      options.windowPreset.value = 'custom';
    });
  }
  options.windowForm.addEventListener('submit', (event) => {
    event.preventDefault();
    if (options.windowPreset.value === '') options.windowPreset.value = 'custom';
    void showImage(generation);
  });
  options.fit.addEventListener('change', () => {
    options.image.classList.toggle('fit', options.fit.checked);
  });
  options.download.addEventListener('click', async () => {
    if (!record) return;
    const path = `dicom/${encodeURIComponent(record.id)}/file`;
    const filename = record.filename;
    options.announcer.textContent = `Downloading ${filename}…`;
    try {
      const response = await apiFetch(path);
      if (!response.ok) {
        const error = await errorFrom(response);
        options.announcer.textContent =
          error.code === 'ROUTE_NOT_FOUND'
            ? 'This API does not serve the original files.'
            : `Download failed: ${error.message}`;
        return;
      }
      const url = URL.createObjectURL(await response.blob());
      const link = h('a', { href: url, download: filename });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      options.announcer.textContent = `Downloaded ${filename}.`;
    } catch {
      // A large original is a redirect to storage: let the browser follow it as a navigation.
      window.location.assign(apiUrl(path));
    }
  });
  options.remove.addEventListener('click', async () => {
    if (!record) return;
    const file = record;
    if (!(await options.confirmDelete(file))) return;
    const response = await apiFetch(`dicom/${encodeURIComponent(file.id)}`, { method: 'DELETE' });
    if (response.ok || response.status === 404) {
      options.announcer.textContent = `Deleted ${file.filename}.`;
      options.onDeleted();
    } else {
      options.announcer.textContent = `Could not delete ${file.filename}: ${(await errorFrom(response)).message}`;
    }
  });

  return {
    /** @param {string} id */
    async open(id) {
      reset();
      const mine = generation;
      options.heading.textContent = 'Loading…';
      try {
        const file = await loadRecord(id, mine);
        if (!file) return;
        const attributesLoaded = loadAttributes(id, mine);
        if (file.status === 'FAILED') {
          options.image.hidden = true;
          imageMessage(`Processing failed: ${file.error ?? 'no reason given'}`, 'error');
        } else if (file.has_image === false || (file.has_image === undefined && !file.dicom_info?.ImageDimensions)) {
          options.image.hidden = true;
          imageMessage('This DICOM object has no image.');
        } else {
          await showImage(mine);
          await setUpRenderingControls(mine);
        }
        await attributesLoaded;
      } catch (error) {
        if (mine !== generation) return;
        options.heading.textContent = 'File not found';
        imageMessage(error instanceof Error ? error.message : String(error), 'error');
      }
    },
    close() {
      reset();
    },
  };
}
