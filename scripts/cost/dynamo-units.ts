// DynamoDB's billing arithmetic for one write or read: item sizes as DynamoDB counts them, what each index holds of
// an item (its projection), and the write units a put, update or delete costs in the table and in every index.
import { isDeepStrictEqual } from 'node:util';

/** An item in DynamoDB's wire form: `{ name: { S: 'text' } }`. */
export type WireItem = Record<string, Record<string, unknown>>;

/** One global secondary index as the synthesized table declares it. */
export interface IndexShape {
  readonly name: string;
  readonly partitionKey: string;
  readonly sortKey?: string;
  readonly projection: 'ALL' | 'KEYS_ONLY' | 'INCLUDE';
  /** INCLUDE only: the attributes copied besides the keys. */
  readonly nonKeyAttributes?: readonly string[];
}

export interface TableShape {
  readonly partitionKey: string;
  readonly sortKey?: string;
  readonly indexes: readonly IndexShape[];
}

/** Bytes of a number as DynamoDB stores it: about one byte per two significant digits, plus one. */
function numberSize(text: string): number {
  const digits = text
    .replace(/^[-+]/, '')
    .replace(/[eE].*$/, '')
    .replace('.', '')
    .replace(/^0+/, '')
    .replace(/0+$/, '');
  return digits.length === 0 ? 1 : Math.ceil(digits.length / 2) + 1 + (text.startsWith('-') ? 1 : 0);
}

/** The size of one attribute value (AWS "Item sizes and formats"): UTF-8 strings, 3 bytes per list or map, 1 per element. */
export function valueSize(value: Record<string, unknown>): number {
  const [type, inner] = Object.entries(value)[0] ?? ['NULL', true];
  switch (type) {
    case 'S':
      return Buffer.byteLength(String(inner), 'utf8');
    case 'N':
      return numberSize(String(inner));
    case 'B':
      return typeof inner === 'string' ? Buffer.from(inner, 'base64').length : (inner as Uint8Array).length;
    case 'SS':
      return (inner as string[]).reduce((sum, text) => sum + Buffer.byteLength(text, 'utf8'), 0);
    case 'NS':
      return (inner as string[]).reduce((sum, text) => sum + numberSize(text), 0);
    case 'BS':
      return (inner as string[]).reduce((sum, text) => sum + Buffer.from(text, 'base64').length, 0);
    case 'L':
      return 3 + (inner as Record<string, unknown>[]).reduce((sum, element) => sum + 1 + valueSize(element), 0);
    case 'M':
      return 3 + Object.entries(inner as WireItem).reduce((sum, [name, v]) => sum + 1 + attributeSize(name, v), 0);
    default:
      return 1; // NULL, BOOL
  }
}

function attributeSize(name: string, value: Record<string, unknown>): number {
  return Buffer.byteLength(name, 'utf8') + valueSize(value);
}

/** An item's size in bytes: every attribute name plus its value. */
export function itemSize(item: WireItem): number {
  return Object.entries(item).reduce((sum, [name, value]) => sum + attributeSize(name, value), 0);
}

/** Write units of `bytes`: one per KB started, at least one. */
export const writeUnitsOf = (bytes: number): number => Math.max(1, Math.ceil(bytes / 1024));

/** Whether the item appears in the index: a GSI holds only items that carry its key attributes. */
export function inIndex(item: WireItem | undefined, index: IndexShape): boolean {
  return Boolean(item && item[index.partitionKey] && (!index.sortKey || item[index.sortKey]));
}

/** What the index holds of the item: its keys, the table's keys and the projected attributes. */
export function projected(item: WireItem, index: IndexShape, table: TableShape): WireItem {
  if (index.projection === 'ALL') return item;
  const names = [table.partitionKey, table.sortKey, index.partitionKey, index.sortKey];
  if (index.projection === 'INCLUDE') names.push(...(index.nonKeyAttributes ?? []));
  const out: WireItem = {};
  for (const name of names) if (name && item[name]) out[name] = item[name];
  return out;
}

export interface WriteUnits {
  readonly table: number;
  /** Write units by index name (indexes the write does not touch are absent). */
  readonly indexes: Record<string, number>;
}

/**
 * The write units of one write, from the item before and after (undefined: absent), as DynamoDB bills them: the
 * table the larger of the two images; each index that gains the item a put, that loses it a delete, whose keys
 * change both, whose projected copy changes a put, and nothing when its copy stays the same.
 */
export function writeUnits(before: WireItem | undefined, after: WireItem | undefined, table: TableShape): WriteUnits {
  const tableUnits = writeUnitsOf(Math.max(before ? itemSize(before) : 0, after ? itemSize(after) : 0));
  const indexes: Record<string, number> = {};
  for (const index of table.indexes) {
    const was = inIndex(before, index) ? projected(before!, index, table) : undefined;
    const is = inIndex(after, index) ? projected(after!, index, table) : undefined;
    let units = 0;
    if (was && is) {
      const keysMoved =
        !isDeepStrictEqual(was[index.partitionKey], is[index.partitionKey]) ||
        (index.sortKey !== undefined && !isDeepStrictEqual(was[index.sortKey], is[index.sortKey]));
      if (keysMoved) units = writeUnitsOf(itemSize(was)) + writeUnitsOf(itemSize(is));
      else if (!isDeepStrictEqual(was, is)) units = writeUnitsOf(itemSize(is));
    } else if (is) units = writeUnitsOf(itemSize(is));
    else if (was) units = writeUnitsOf(itemSize(was));
    if (units > 0) indexes[index.name] = units;
  }
  return { table: tableUnits, indexes };
}

/** DynamoDB's per-item storage overhead (table and every index copy), in bytes. */
export const ITEM_OVERHEAD_BYTES = 100;

/** Bytes an item occupies with its index copies: what storage and point-in-time recovery are billed on. */
export function storedBytes(item: WireItem, table: TableShape): { table: number; indexes: number } {
  let indexes = 0;
  for (const index of table.indexes) {
    if (inIndex(item, index)) indexes += itemSize(projected(item, index, table)) + ITEM_OVERHEAD_BYTES;
  }
  return { table: itemSize(item) + ITEM_OVERHEAD_BYTES, indexes };
}
