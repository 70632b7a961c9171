// Uploads dropped or chosen files, a few at a time, each with a progress bar and its outcome.
import { ApiError, LARGE_FILE_BYTES, apiFetch, apiSend, errorFrom, errorFromBody, send } from './api.js';
import { h } from './dom.js';
import { formatBytes } from './format.js';

/** Uploads at the same time: enough to fill the line, few enough that each bar moves. */
const PARALLEL_UPLOADS = 3;

/**
 * @typedef {object} UploadItem
 * @property {File} file
 * @property {HTMLProgressElement} progress
 * @property {HTMLElement} outcome
 * @property {HTMLLIElement} row
 */

/**
 * @typedef {object} UploaderOptions
 * @property {HTMLUListElement} list where each file's row goes
 * @property {HTMLElement} announcer a polite live region for summaries
 * @property {(id: string) => void} onUploaded
 * @property {(id: string) => string} fileHref the link to a file's detail view
 */

/** @param {UploaderOptions} options */
export function createUploader(options) {
  /** @type {UploadItem[]} */
  const queue = [];
  let running = 0;
  let succeeded = 0;
  let failed = 0;

  /** @param {UploadItem} item @param {number} sent @param {number} total */
  function showProgress(item, sent, total) {
    item.progress.max = total || 1;
    item.progress.value = sent;
  }

  /** @param {UploadItem} item @param {string} text @param {'ok' | 'error' | 'busy'} kind @param {string} [id] */
  function showOutcome(item, text, kind, id) {
    item.row.dataset.state = kind;
    item.outcome.replaceChildren(text);
    if (id) {
      item.outcome.append(' ', h('a', { href: options.fileHref(id), text: 'Open' }));
    }
  }

  /** POST /dicom: multipart/form-data, the file in the field `file`. @param {UploadItem} item */
  async function uploadSmall(item) {
    const form = new FormData();
    form.append('file', item.file, item.file.name);
    const result = await apiSend({
      method: 'POST',
      path: 'dicom',
      body: form,
      onProgress: (sent, total) => showProgress(item, sent, total),
    });
    if (result.status === 201) return /** @type {{ id: string }} */ (JSON.parse(result.text)).id;
    if (result.status === 0) throw new ApiError(0, 'NETWORK', 'the upload did not reach the API (network error)');
    throw errorFromBody(result.status, result.text);
  }

  /**
   * The large-file route: a record and presigned URLs, then the bytes straight to storage.
   * @param {UploadItem} item
   * @returns {Promise<string | undefined>} the id, or undefined when the API has no such route
   */
  async function uploadLarge(item) {
    const response = await apiFetch('dicom/uploads', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ filename: item.file.name, size_bytes: item.file.size }),
    });
    if (response.status === 404 || response.status === 405) return undefined;
    if (!response.ok) throw await errorFrom(response);
    /** @type {{ id: string, upload_url: string | null, upload_headers?: Record<string, string>, parts?: { part_number: number, size_bytes: number, upload_url: string }[], complete_path?: string }} */
    const plan = await response.json();
    if (plan.upload_url) {
      // upload_headers are signed into the URL (If-None-Match: *): storage refuses the PUT without them.
      await putToStorage(
        plan.upload_url,
        item.file,
        (sent) => showProgress(item, sent, item.file.size),
        plan.upload_headers,
      );
      return plan.id;
    }
    if (!plan.parts || !plan.complete_path)
      throw new ApiError(0, 'UNKNOWN_PLAN', 'the large-file route answered a plan this page does not know');
    /** @type {{ part_number: number, etag: string }[]} */
    const uploaded = [];
    let offset = 0;
    let done = 0;
    for (const part of plan.parts) {
      const slice = item.file.slice(offset, offset + part.size_bytes);
      offset += part.size_bytes;
      const etag = await putToStorage(part.upload_url, slice, (sent) =>
        showProgress(item, done + sent, item.file.size),
      );
      if (!etag) throw new ApiError(0, 'NO_ETAG', "storage did not expose the part's ETag (its CORS must expose ETag)");
      done += part.size_bytes;
      uploaded.push({ part_number: part.part_number, etag });
    }
    const completed = await apiFetch(plan.complete_path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ parts: uploaded }),
    });
    if (!completed.ok) throw await errorFrom(completed);
    return plan.id;
  }

  /**
   * PUT bytes to a presigned storage URL, without the API key (the URL carries its own signature).
   * @param {string} url @param {Blob} body @param {(sent: number) => void} onProgress
   * @param {Record<string, string>} [headers] headers the URL's signature covers
   * @returns {Promise<string | null>} the ETag storage answered, when its CORS exposes it
   */
  async function putToStorage(url, body, onProgress, headers = {}) {
    const result = await send({ method: 'PUT', url, body, onProgress, headers });
    if (result.status === 0) {
      throw new ApiError(
        0,
        'STORAGE_UNREACHABLE',
        "the browser could not send the file to storage (the bucket's CORS must allow this page)",
      );
    }
    if (result.status === 412) {
      throw new ApiError(412, 'ALREADY_UPLOADED', 'this upload URL was used already; start a new upload');
    }
    if (result.status < 200 || result.status >= 300) {
      throw new ApiError(result.status, 'STORAGE_REFUSED', `storage refused the file (${result.status})`);
    }
    return result.header('ETag');
  }

  /** @param {UploadItem} item */
  async function upload(item) {
    showOutcome(item, 'Uploading…', 'busy');
    try {
      let id = item.file.size > LARGE_FILE_BYTES ? await uploadLarge(item) : undefined;
      // Without a large-file route, POST /dicom answers 413 with a message that says what to do.
      id ??= await uploadSmall(item);
      showProgress(item, 1, 1);
      showOutcome(item, 'Uploaded.', 'ok', id);
      succeeded++;
      options.onUploaded(id);
    } catch (error) {
      failed++;
      const message = error instanceof Error ? error.message : String(error);
      showOutcome(item, `Failed: ${message}`, 'error');
    }
  }

  function pump() {
    while (running < PARALLEL_UPLOADS && queue.length > 0) {
      const item = /** @type {UploadItem} */ (queue.shift());
      running++;
      void upload(item).finally(() => {
        running--;
        if (running === 0 && queue.length === 0) {
          options.announcer.textContent = `Uploads finished: ${succeeded} uploaded, ${failed} failed.`;
          succeeded = 0;
          failed = 0;
        }
        pump();
      });
    }
  }

  return {
    /** @param {Iterable<File>} files */
    add(files) {
      for (const file of files) {
        const progress = h('progress', { max: 1, value: 0, 'aria-label': `Upload progress of ${file.name}` });
        const outcome = h('span', { class: 'upload-outcome', text: 'Waiting…' });
        const row = h(
          'li',
          { class: 'upload-item', 'data-state': 'busy' },
          h('span', { class: 'upload-name', text: file.name, title: file.name }),
          h('span', { class: 'upload-size', text: formatBytes(file.size) }),
          progress,
          outcome,
        );
        options.list.prepend(row);
        queue.push({ file, progress, outcome, row });
      }
      options.announcer.textContent = `Uploading ${queue.length + running} file(s)…`;
      pump();
    },
    /** Removes the rows of finished uploads. */
    clearFinished() {
      for (const row of options.list.querySelectorAll('li:not([data-state="busy"])')) row.remove();
    },
  };
}
