// PS3.6 data dictionary lookups (name, keyword, VR) built once from @iwharris/dicom-data-dictionary.
import dictionaryPackage from '@iwharris/dicom-data-dictionary';

export interface DictionaryEntry {
  /** The attribute name as PS3.6 spells it, e.g. "Patient's Name". */
  readonly name: string;
  readonly keyword: string;
  /** The VR; for "OB or OW" style entries the first one. */
  readonly vr: string;
  readonly retired: boolean;
}

interface RawElement {
  tag: string;
  name: string;
  keyword: string;
  vr: string;
  isRetired?: boolean;
}

let byTag: Map<string, DictionaryEntry> | undefined;
let byKeyword: Map<string, string> | undefined;
/** Repeating-group entries, keyed by mask "GGxxEEEE" (e.g. "60xx3000"). */
let repeating: Map<string, DictionaryEntry> | undefined;

/** The package's names are HTML-escaped and some carry zero-width spaces. */
function cleanText(text: string): string {
  return text
    .replace(/&#x([0-9a-f]+);/gi, (_, hex: string) => String.fromCodePoint(parseInt(hex, 16)))
    .replace(/&#(\d+);/g, (_, dec: string) => String.fromCodePoint(parseInt(dec, 10)))
    .replace(/&amp;/g, '&')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/[\u200b-\u200d\ufeff]/g, '')
    .trim();
}

function load(): void {
  if (byTag) return;
  byTag = new Map();
  byKeyword = new Map();
  repeating = new Map();
  const elements = (dictionaryPackage as unknown as { elements: Record<string, RawElement> }).elements;
  for (const raw of Object.values(elements)) {
    const hex = raw.tag.replace(/[(),]/g, '').toUpperCase();
    const keyword = cleanText(raw.keyword);
    const entry: DictionaryEntry = {
      name: cleanText(raw.name),
      keyword,
      vr: (cleanText(raw.vr).split(/\s+or\s+/)[0] ?? 'UN').trim() || 'UN',
      retired: raw.isRetired === true,
    };
    if (hex.includes('X')) repeating.set(hex, entry);
    else byTag.set(hex, entry);
    if (keyword) byKeyword.set(keyword, hex);
  }
}

/** Dictionary entry of a tag given as 8 upper-case hex digits ("00100010"), incl. repeating groups. */
export function lookupTag(tagHex: string): DictionaryEntry | undefined {
  load();
  const exact = byTag!.get(tagHex);
  if (exact) return exact;
  // Repeating groups (50xx, 60xx, ...) are even groups; an odd group is private, never a match.
  if (parseInt(tagHex.slice(3, 4), 16) % 2 === 1) return undefined;
  for (const mask of [`${tagHex.slice(0, 2)}XX${tagHex.slice(4)}`, `${tagHex.slice(0, 4)}XX${tagHex.slice(6)}`]) {
    const entry = repeating!.get(mask);
    if (entry) return entry;
  }
  return undefined;
}

/** Tag (8 upper-case hex digits) of a PS3.6 keyword, or undefined. Repeating groups resolve to their first group. */
export function tagForKeyword(keyword: string): string | undefined {
  load();
  return byKeyword!.get(keyword)?.replace(/X/g, '0');
}

/** The dictionary's VR for a tag (used to parse implicit VR and to decode UN of known tags). */
export function vrForTag(tagHex: string): string | undefined {
  return lookupTag(tagHex)?.vr;
}
