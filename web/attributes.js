// The attribute table: every element, nested sequences expandable, search by tag, keyword, name or value.
import { h, highlighted } from './dom.js';

/**
 * One attribute as GET /dicom/{id}/attributes gives it; an SQ's value is a list of items of the same form.
 * @typedef {object} AttributeJson
 * @property {string} [name]
 * @property {string} [vr]
 * @property {string} [keyword]
 * @property {unknown} [value]
 * @property {number} [length]
 * @property {string} [note]
 */

/**
 * @typedef {object} AttributeNode
 * @property {string} key a path unique in the file, e.g. `0008,1115/2/0020,000E`
 * @property {'element' | 'item'} kind
 * @property {string} tag `GGGG,EEEE` (empty for an item)
 * @property {string} name
 * @property {string} keyword
 * @property {string} vr
 * @property {string} value
 * @property {'text' | 'empty' | 'binary' | 'items'} valueKind
 * @property {string} note
 * @property {number} depth
 * @property {AttributeNode | null} parent
 * @property {AttributeNode[]} children
 * @property {string} searchText lower-case: tag forms, keyword, name, value
 */

/** Beyond this many rows the table asks for a narrower search instead of freezing the tab. */
const MAX_ROWS = 3000;

/** @param {unknown} value @returns {value is Record<string, AttributeJson>} */
function isItem(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** @param {AttributeJson} attribute @returns {{ text: string, kind: AttributeNode['valueKind'] }} */
function valueText(attribute) {
  const value = attribute.value;
  if (value === null || value === undefined) {
    if (typeof attribute.length === 'number') {
      return { text: `binary, ${attribute.length.toLocaleString()} bytes`, kind: 'binary' };
    }
    return { text: 'empty', kind: 'empty' };
  }
  if (Array.isArray(value))
    return { text: value.map((v) => (isItem(v) ? JSON.stringify(v) : String(v))).join(' \\ '), kind: 'text' };
  if (typeof value === 'object') return { text: JSON.stringify(value), kind: 'text' };
  return { text: String(value), kind: 'text' };
}

/**
 * The attributes as a tree: each sequence's items are children, each item's elements their children.
 * @param {Record<string, AttributeJson>} attributes
 * @param {AttributeNode | null} [parent]
 * @returns {AttributeNode[]}
 */
export function buildTree(attributes, parent = null) {
  const depth = parent ? parent.depth + 1 : 0;
  return Object.entries(attributes).map(([tag, attribute]) => {
    const isSequence = attribute.vr === 'SQ' || (Array.isArray(attribute.value) && attribute.value.every(isItem));
    const items = isSequence && Array.isArray(attribute.value) ? attribute.value.filter(isItem) : [];
    const { text, kind } = isSequence
      ? { text: `${items.length} item${items.length === 1 ? '' : 's'}`, kind: /** @type {const} */ ('items') }
      : valueText(attribute);
    const tagHex = tag.replace(/[^0-9a-fA-F]/g, '').toLowerCase();
    /** @type {AttributeNode} */
    const node = {
      key: parent ? `${parent.key}/${tag}` : tag,
      kind: 'element',
      tag,
      name: attribute.name ?? '',
      keyword: attribute.keyword ?? '',
      vr: attribute.vr ?? '',
      value: text,
      valueKind: kind,
      note: attribute.note ?? '',
      depth,
      parent,
      children: [],
      searchText: [tag, `(${tag})`, tagHex, attribute.keyword, attribute.name, kind === 'text' ? text : '']
        .join('\n')
        .toLowerCase(),
    };
    node.children = items.map((item, index) => {
      /** @type {AttributeNode} */
      const itemNode = {
        key: `${node.key}/${index + 1}`,
        kind: 'item',
        tag: '',
        name: `Item ${index + 1}`,
        keyword: '',
        vr: '',
        value: `${Object.keys(item).length} elements`,
        valueKind: 'items',
        note: '',
        depth: depth + 1,
        parent: node,
        children: [],
        searchText: '',
      };
      itemNode.children = buildTree(item, itemNode);
      return itemNode;
    });
    return node;
  });
}

/**
 * The search as typed, lower-case; a tag typed in any of the API's forms also as bare hex (`(0010,0010)` -> `00100010`).
 * @param {string} input
 */
function parseQuery(input) {
  const text = input.trim().toLowerCase();
  const hex = /^\(?[0-9a-f]{4}[,\s]?[0-9a-f]{0,4}\)?$/.test(text) ? text.replace(/[^0-9a-f]/g, '') : '';
  return { text, hex };
}

/**
 * @typedef {object} AttributeTableOptions
 * @property {HTMLTableSectionElement} body
 * @property {HTMLInputElement} search
 * @property {HTMLElement} status a polite live region
 */

/** @param {AttributeTableOptions} options */
export function createAttributeTable(options) {
  /** @type {AttributeNode[]} */
  let roots = [];
  let total = 0;
  /** Keys of the sequences the person opened. */
  const expanded = new Set();
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let searchTimer;

  /** @param {AttributeNode} node @param {{ text: string, hex: string }} query */
  function matches(node, query) {
    if (node.kind === 'item') return false;
    if (node.searchText.includes(query.text)) return true;
    return query.hex.length >= 4 && node.searchText.split('\n')[2]?.startsWith(query.hex) === true;
  }

  /**
   * The rows to show, in document order: with a search, the matches and the sequences and items around them.
   * @param {{ text: string, hex: string }} query
   */
  function visibleRows(query) {
    /** @type {AttributeNode[]} */
    const rows = [];
    let matchCount = 0;
    /** @param {AttributeNode[]} nodes @returns {boolean} whether any node shown */
    const walk = (nodes) => {
      let any = false;
      for (const node of nodes) {
        if (!query.text) {
          rows.push(node);
          if (expanded.has(node.key) || node.kind === 'item') walk(node.children);
          any = true;
          continue;
        }
        const at = rows.length;
        rows.push(node);
        const self = matches(node, query);
        if (self) matchCount++;
        // Children of a matching sequence only when opened; matches deeper down always bring their parents.
        const childShown = walk(node.children);
        if (!self && !childShown) rows.length = at;
        else any = true;
      }
      return any;
    };
    walk(roots);
    return { rows, matchCount };
  }

  /** @param {AttributeNode} node @param {string} query */
  function row(node, query) {
    const tagCell = h('td', { class: 'tag' });
    const cells = [tagCell];
    if (node.kind === 'element' && node.valueKind === 'items' && node.children.length > 0) {
      const open = expanded.has(node.key) || Boolean(query);
      tagCell.append(
        h('button', {
          type: 'button',
          class: 'toggle',
          'aria-expanded': String(open),
          'aria-label': `${open ? 'Collapse' : 'Expand'} ${node.keyword || node.tag} (${node.value})`,
          'data-key': node.key,
          disabled: Boolean(query),
          onclick: () => toggle(node),
        }),
      );
    }
    tagCell.append(...highlighted(node.tag, query));
    cells.push(
      h(
        'td',
        { class: 'name' },
        h('span', {}, ...highlighted(node.name, query)),
        node.keyword ? h('span', { class: 'keyword' }, ...highlighted(node.keyword, query)) : null,
      ),
      h('td', { class: 'vr', text: node.vr }),
      h(
        'td',
        { class: `value value-${node.valueKind}` },
        h('span', {}, ...(node.valueKind === 'text' ? highlighted(node.value, query) : [node.value])),
        node.note ? h('span', { class: 'note', text: node.note }) : null,
      ),
    );
    const tr = h('tr', { class: `attribute ${node.kind}`, 'data-key': node.key }, ...cells);
    // CSSOM, not a style attribute: the CSP allows no inline styles.
    tr.style.setProperty('--depth', String(Math.min(node.depth, 16)));
    return tr;
  }

  function render() {
    const query = parseQuery(options.search.value);
    const { rows, matchCount } = visibleRows(query);
    const shown = rows.slice(0, MAX_ROWS);
    options.body.replaceChildren(...shown.map((node) => row(node, query.text)));
    if (rows.length > MAX_ROWS) {
      options.body.append(
        h(
          'tr',
          {},
          h('td', { colspan: 4, class: 'empty', text: `${rows.length - MAX_ROWS} more rows: narrow the search.` }),
        ),
      );
    }
    if (query.text) {
      options.status.textContent = matchCount
        ? `${matchCount} attribute${matchCount === 1 ? '' : 's'} match “${options.search.value.trim()}”.`
        : `No attribute matches “${options.search.value.trim()}”.`;
      if (!matchCount)
        options.body.replaceChildren(h('tr', {}, h('td', { colspan: 4, class: 'empty', text: 'No match.' })));
    } else {
      options.status.textContent = `${total} attributes.`;
    }
  }

  /** @param {AttributeNode} node */
  function toggle(node) {
    if (expanded.has(node.key)) expanded.delete(node.key);
    else expanded.add(node.key);
    render();
    // The rows were rebuilt: keep the keyboard on the same toggle.
    const button = options.body.querySelector(`button[data-key="${CSS.escape(node.key)}"]`);
    if (button instanceof HTMLElement) button.focus();
  }

  options.search.addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(render, 120);
  });

  return {
    /** @param {Record<string, AttributeJson>} attributes */
    show(attributes) {
      roots = buildTree(attributes);
      total = roots.length;
      expanded.clear();
      render();
    },
    clear() {
      roots = [];
      total = 0;
      expanded.clear();
      options.body.replaceChildren();
      options.status.textContent = '';
    },
  };
}
