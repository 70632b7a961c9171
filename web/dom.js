// Builds DOM nodes from data without ever parsing it as HTML: DICOM values are untrusted text.

/**
 * @typedef {Record<string, string | number | boolean | null | undefined | EventListener>} Props
 * `class`, `text` (textContent), `on<event>` (a listener, never an inline handler), anything else an attribute.
 */

/**
 * An element with its props and children (strings become text nodes).
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Props} [props]
 * @param {...(Node | string | null | undefined | false | (Node | string | null | undefined | false)[])} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === 'function') element.addEventListener(name.replace(/^on/, ''), value);
    else if (name === 'class') element.className = String(value);
    else if (name === 'text') element.textContent = String(value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child);
  }
  return element;
}

/**
 * Fills a <dl> with terms and their values, as text; the empty values are left out.
 * @param {HTMLElement} list
 * @param {[string, string | null | undefined][]} fields
 */
export function fillDefinitions(list, fields) {
  list.replaceChildren(
    ...fields
      .filter(([, value]) => value)
      .flatMap(([term, value]) => [h('dt', { text: term }), h('dd', { text: String(value) })]),
  );
}

/**
 * The element with this id, typed by the caller's expectation; a missing one is a bug in index.html.
 * @template {HTMLElement} T
 * @param {string} id
 * @param {new (...args: any[]) => T} type
 * @returns {T}
 */
export function byId(id, type) {
  const element = document.getElementById(id);
  if (!(element instanceof type)) throw new Error(`index.html has no ${type.name} #${id}`);
  return element;
}

/**
 * Text with every occurrence of `query` wrapped in <mark> (text nodes only).
 * @param {string} text
 * @param {string} query lower-case
 * @returns {(Node | string)[]}
 */
export function highlighted(text, query) {
  if (!query) return [text];
  const lower = text.toLowerCase();
  /** @type {(Node | string)[]} */
  const parts = [];
  let at = 0;
  for (let found = lower.indexOf(query); found !== -1; found = lower.indexOf(query, at)) {
    if (found > at) parts.push(text.slice(at, found));
    parts.push(h('mark', {}, text.slice(found, found + query.length)));
    at = found + query.length;
  }
  if (at < text.length) parts.push(text.slice(at));
  return parts;
}
