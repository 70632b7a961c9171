// Talks to the API the page is served by: relative URLs, the API key, JSON errors, uploads with progress.

/** @typedef {{ rows: number, columns: number }} ImageDimensions */
/**
 * @typedef {object} DicomInfo
 * @property {string | null} PatientName
 * @property {string | null} PatientID
 * @property {string | null} StudyDate
 * @property {string | null} StudyDescription
 * @property {string | null} Modality
 * @property {ImageDimensions | null} ImageDimensions
 */
/**
 * @typedef {object} FileRecord
 * @property {string} id
 * @property {string} filename
 * @property {number} size_bytes
 * @property {string} created_at
 * @property {string} modified_at
 * @property {DicomInfo} dicom_info
 * @property {string} [status]
 * @property {string} [error]
 * @property {number | null} [number_of_frames]
 * @property {boolean} [has_image]
 * @property {string | null} [transfer_syntax_uid]
 * @property {string | null} [sop_class_uid]
 * @property {string | null} [thumbnail] the path of a small PNG (`/dicom/<id>/png?max=256`), null without an image
 * @property {string | null} [study_instance_uid]
 */
/**
 * A page of GET /dicom, POST /dicom/search or GET /studies/{study_uid}/files.
 * @typedef {object} FileListing
 * @property {number} count
 * @property {FileRecord[]} files
 * @property {string | null} [next_cursor] null on the last page; absent when the API does not page
 */
/**
 * One study (a StudyInstanceUID), as GET /studies lists it and GET /studies/{study_uid} answers it; the patient and
 * study fields are those of its first file.
 * @typedef {object} StudySummary
 * @property {string} study_instance_uid
 * @property {string | null} patient_id
 * @property {string | null} patient_name a DICOM person name (`Family^Given=…`)
 * @property {string | null} study_date `YYYYMMDD`
 * @property {string | null} study_description
 * @property {string[]} modalities_in_study sorted, e.g. `["CT", "SR"]`
 * @property {number} number_of_instances the files stored of it
 * @property {string} created_at
 * @property {string} modified_at
 * @property {string} [files] the path of its files (`/studies/<uid>/files`)
 */
/**
 * One series of a study, as GET /studies/{study_uid}/series lists it.
 * @typedef {object} StudySeries
 * @property {string} series_instance_uid
 * @property {number | null} series_number
 * @property {string | null} modality
 * @property {string | null} series_description
 * @property {number} number_of_instances
 * @property {string} files the path of its files (`/studies/<uid>/files?series_uid=<uid>`)
 */
/**
 * GET /studies/{study_uid}/series: every series of the study, in series-number order.
 * @typedef {object} StudySeriesListing
 * @property {number} count
 * @property {StudySeries[]} series
 */
/**
 * A page of GET /studies, newest study date first.
 * @typedef {object} StudyListing
 * @property {number} count
 * @property {StudySummary[]} studies
 * @property {string | null} next_cursor null on the last page
 */

const KEY_STORAGE = 'dicom-api-key';

/** Files above this go through the large-file route (POST /dicom carries about 4 MB of file). */
export const LARGE_FILE_BYTES = 4_000_000;

/** An error answer of the API: its status, its stable code, its message for people, and the parameter it refused. */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} code
   * @param {string} message
   * @param {string} [parameter] the query parameter of a 400 INVALID_PARAMETER (`study_date`)
   */
  constructor(status, code, message, parameter) {
    super(message);
    this.status = status;
    this.code = code;
    this.parameter = parameter;
  }
}

/**
 * The absolute URL of an API path, under the stage the page was served from (`dicom` -> `/v1/dicom`).
 * @param {string} path
 */
export function apiUrl(path) {
  return new URL(path.replace(/^\/+/, ''), document.baseURI).href;
}

/** @returns {string | null} */
export function storedApiKey() {
  try {
    return localStorage.getItem(KEY_STORAGE);
  } catch {
    // Storage can be disabled (private mode, policies): the key then lasts for this page only.
    return sessionKey;
  }
}

/** @type {string | null} */
let sessionKey = null;

/** @param {string | null} key */
export function storeApiKey(key) {
  sessionKey = key;
  try {
    if (key) localStorage.setItem(KEY_STORAGE, key);
    else localStorage.removeItem(KEY_STORAGE);
  } catch {
    // Kept in sessionKey only.
  }
}

/** @type {(reason: string) => Promise<string | null>} */
let keyPrompt = async () => null;
/** @type {Promise<string | null> | null} */
let pendingPrompt = null;

/**
 * Sets how the page asks for an API key (a dialog); it resolves to the key, or null when the person cancels.
 * @param {(reason: string) => Promise<string | null>} prompt
 */
export function setKeyPrompt(prompt) {
  keyPrompt = prompt;
}

/**
 * Asks for a key once, however many requests were refused at the same time.
 * @param {string} reason
 */
function askForKey(reason) {
  pendingPrompt ??= keyPrompt(reason).then((key) => {
    pendingPrompt = null;
    if (key) storeApiKey(key);
    return key;
  });
  return pendingPrompt;
}

/** @param {number} status */
function isAuthFailure(status) {
  return status === 401 || status === 403;
}

/** @param {Record<string, string>} headers */
function withKey(headers) {
  const key = storedApiKey();
  return key ? { ...headers, 'x-api-key': key } : headers;
}

/**
 * The API's `{"error", "code", "parameter"?}` as an ApiError (or a plain one for a body that is not JSON).
 * @param {number} status
 * @param {string} text
 */
export function errorFromBody(status, text) {
  try {
    const body = JSON.parse(text);
    if (body && typeof body.error === 'string') {
      const parameter = typeof body.parameter === 'string' ? body.parameter : undefined;
      return new ApiError(status, String(body.code ?? ''), body.error, parameter);
    }
  } catch {
    // Not JSON: described by the status below.
  }
  return new ApiError(status, 'HTTP_' + status, `the API answered ${status}${text ? ': ' + text.slice(0, 200) : ''}`);
}

/** @param {Response} response */
export async function errorFrom(response) {
  return errorFromBody(response.status, await response.text().catch(() => ''));
}

/**
 * fetch() against the API with the key; a 401/403 asks for a key (once) and retries.
 * @param {string} path
 * @param {RequestInit & { headers?: Record<string, string> }} [init]
 */
export async function apiFetch(path, init = {}) {
  for (let attempt = 0; ; attempt++) {
    const response = await fetch(apiUrl(path), { ...init, headers: withKey(init.headers ?? {}) });
    if (!isAuthFailure(response.status) || attempt >= 3) return response;
    const error = await errorFrom(response.clone());
    if (!(await askForKey(error.message))) return response;
  }
}

/**
 * The JSON body of a successful answer; an ApiError otherwise.
 * @param {string} path
 * @param {RequestInit & { headers?: Record<string, string> }} [init]
 * @returns {Promise<any>}
 */
export async function apiJson(path, init) {
  const response = await apiFetch(path, init);
  if (!response.ok) throw await errorFrom(response);
  return response.json();
}

/**
 * @typedef {object} SendResult
 * @property {number} status
 * @property {string} text
 * @property {(name: string) => string | null} header
 */

/**
 * One request with upload progress (fetch has none). Status 0 means the browser could not send it at all.
 * @param {{ method: string, url: string, body: Document | XMLHttpRequestBodyInit | null,
 *   headers?: Record<string, string>, onProgress?: (sent: number, total: number) => void, signal?: AbortSignal }} request
 * @returns {Promise<SendResult>}
 */
export function send(request) {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open(request.method, request.url);
    for (const [name, value] of Object.entries(request.headers ?? {})) xhr.setRequestHeader(name, value);
    xhr.upload.addEventListener('progress', (event) => {
      if (event.lengthComputable) request.onProgress?.(event.loaded, event.total);
    });
    const done = () =>
      resolve({ status: xhr.status, text: xhr.responseText, header: (name) => xhr.getResponseHeader(name) });
    xhr.addEventListener('load', done);
    xhr.addEventListener('error', done);
    xhr.addEventListener('abort', done);
    request.signal?.addEventListener('abort', () => xhr.abort());
    xhr.send(request.body);
  });
}

/**
 * send() to the API with the key; a 401/403 asks for a key (once) and sends again.
 * @param {{ method: string, path: string, body: XMLHttpRequestBodyInit, headers?: Record<string, string>,
 *   onProgress?: (sent: number, total: number) => void }} request
 */
export async function apiSend(request) {
  for (let attempt = 0; ; attempt++) {
    const result = await send({ ...request, url: apiUrl(request.path), headers: withKey(request.headers ?? {}) });
    if (!isAuthFailure(result.status) || attempt >= 3) return result;
    if (!(await askForKey(errorFromBody(result.status, result.text).message))) return result;
  }
}
