// QIDO-RS (PS3.18 10.6): query parameters -> matching keys, and matching (PS3.4 C.2.2.2) over DICOM JSON datasets.
import type { DicomJsonAttribute, DicomJsonDataset } from '../dicom/dicom-json.js';
import { lookupTag, tagForKeyword } from '../dicom/dictionary.js';
import { INSTANCE_TAGS, SERIES_TAGS, STUDY_TAGS } from '../dicom/qido-attributes.js';
import { TAG_HEX } from '../dicom/tags.js';
import { InvalidParameter } from '../http/errors.js';

export type QueryLevel = 'study' | 'series' | 'instance';

/** Attributes the service computes rather than copies from a file (PS3.18 Table 10.6.3-3 to -5). */
export const COMPUTED = {
  specificCharacterSet: TAG_HEX.SpecificCharacterSet,
  instanceAvailability: TAG_HEX.InstanceAvailability,
  modalitiesInStudy: TAG_HEX.ModalitiesInStudy,
  retrieveUrl: TAG_HEX.RetrieveURL,
  numberOfStudyRelatedSeries: TAG_HEX.NumberOfStudyRelatedSeries,
  numberOfStudyRelatedInstances: TAG_HEX.NumberOfStudyRelatedInstances,
  numberOfSeriesRelatedInstances: TAG_HEX.NumberOfSeriesRelatedInstances,
  availableTransferSyntaxUid: TAG_HEX.AvailableTransferSyntaxUID,
} as const;

/** What each level returns without includefield: PS3.18 Table 10.6.3-3, -4 and -5 (plus StudyDescription, which every viewer lists). */
const DEFAULT_RETURN: Record<QueryLevel, readonly string[]> = {
  study: [
    '00080005',
    '00080020',
    '00080030',
    '00080050',
    '00080056',
    '00080061',
    '00080090',
    '00080201',
    '00081030',
    '00081190',
    '00100010',
    '00100020',
    '00100030',
    '00100040',
    '0020000D',
    '00200010',
    '00201206',
    '00201208',
  ],
  series: [
    '00080005',
    '00080060',
    '00080201',
    '0008103E',
    '00081190',
    '0020000D',
    '0020000E',
    '00200011',
    '00201209',
    '00400244',
    '00400245',
    '00400275',
  ],
  instance: [
    '00080005',
    '00080016',
    '00080018',
    '00080056',
    '00080201',
    '00081190',
    '0020000D',
    '0020000E',
    '00200013',
    '00280008',
    '00280010',
    '00280011',
    '00280100',
  ],
};

/** Which attributes a query at each level can match on and return (the ones the service keeps per level). */
const LEVEL_TAGS: Record<QueryLevel, ReadonlySet<string>> = {
  study: new Set([
    ...STUDY_TAGS,
    COMPUTED.modalitiesInStudy,
    COMPUTED.numberOfStudyRelatedSeries,
    COMPUTED.numberOfStudyRelatedInstances,
  ]),
  series: new Set([...SERIES_TAGS, COMPUTED.numberOfSeriesRelatedInstances]),
  instance: new Set([...INSTANCE_TAGS, COMPUTED.availableTransferSyntaxUid]),
};

/** The levels whose attributes a query of `level` sees: a series query also matches study attributes, and so on. */
const LEVELS_SEEN: Record<QueryLevel, readonly QueryLevel[]> = {
  study: ['study'],
  series: ['study', 'series'],
  instance: ['study', 'series', 'instance'],
};

const ALWAYS_RETURNED = new Set<string>([
  COMPUTED.specificCharacterSet,
  COMPUTED.instanceAvailability,
  COMPUTED.retrieveUrl,
]);

export interface Matcher {
  tag: string;
  vr: string;
  /** The raw value from the query (after URL decoding). */
  text: string;
  test(attribute: DicomJsonAttribute | undefined): boolean;
}

export interface QidoQuery {
  level: QueryLevel;
  matchers: Matcher[];
  /** Tags to return besides the defaults; `all` returns every attribute the level keeps. */
  include: Set<string> | 'all';
  limit: number;
  offset: number;
  /** Warning header values (PS3.18 10.6.3.3): fuzzy matching not applied, keys ignored, results limited. */
  warnings: string[];
}

export const MAX_RESULTS: Record<QueryLevel, number> = { study: 1000, series: 1000, instance: 5000 };

const UID = /^[0-9]+(\.[0-9]+)*$/;

/** A tag from a query key: 8 hex digits or a PS3.6 keyword; undefined when neither. */
export function tagOfKey(key: string): string | undefined {
  if (/^[0-9A-Fa-f]{8}$/.test(key)) return key.toUpperCase();
  return tagForKeyword(key);
}

function vrOf(tag: string): string {
  return lookupTag(tag)?.vr ?? 'UN';
}

/** The values of an attribute as strings (PN: the alphabetic group; numbers as written). */
export function attributeStrings(attribute: DicomJsonAttribute | undefined): string[] {
  if (!attribute?.Value) return [];
  return attribute.Value.map((value) => {
    if (value === null || value === undefined) return '';
    if (typeof value === 'object') return String((value as { Alphabetic?: unknown }).Alphabetic ?? '');
    return String(value);
  });
}

/** `*` any run, `?` any one character; everything else literal (PS3.4 C.2.2.2.4). */
function wildcardPattern(text: string, caseInsensitive: boolean): RegExp {
  const source = [...text]
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, caseInsensitive ? 'is' : 's');
}

const DATE = /^\d{8}$/;
const TIME = /^\d{2}(\d{2}(\d{2}(\.\d{1,6})?)?)?$/;
const DATETIME = /^\d{4}(\d{2}(\d{2}(\d{2}(\d{2}(\d{2}(\.\d{1,6})?)?)?)?)?)?([+-]\d{4})?$/;

function validDate(text: string): boolean {
  if (!DATE.test(text)) return false;
  const date = new Date(`${text.slice(0, 4)}-${text.slice(4, 6)}-${text.slice(6, 8)}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10).replaceAll('-', '') === text;
}

/** Range matching for DA, TM and DT (PS3.4 C.2.2.2.5): `a`, `a-b`, `a-`, `-b`; comparisons on normalised text. */
function rangeMatcher(parameter: string, vr: 'DA' | 'TM' | 'DT', text: string): (value: string) => boolean {
  const valid = vr === 'DA' ? validDate : vr === 'TM' ? (t: string) => TIME.test(t) : (t: string) => DATETIME.test(t);
  const bad = (): InvalidParameter =>
    new InvalidParameter(
      parameter,
      `${parameter} must be a ${vr === 'DA' ? 'date YYYYMMDD' : vr === 'TM' ? 'time HHMMSS' : 'date-time'} or a range of them (a-b, a-, -b)`,
    );
  const parts = text.split('-');
  // A DT may carry a UTC offset (+hhmm / -hhmm): only a single value is accepted with one.
  if (vr === 'DT' && DATETIME.test(text)) return (value) => value.startsWith(text) || value === text;
  if (parts.length > 2) throw bad();
  const [from = '', to = ''] = parts.length === 1 ? [parts[0], parts[0]] : parts;
  if ((!from && !to) || (from && !valid(from)) || (to && !valid(to))) throw bad();
  if (from && to && from > to && parts.length === 2)
    throw new InvalidParameter(parameter, `${parameter} range must not end before it starts`);
  if (parts.length === 1 && vr === 'DA') return (value) => value === from;
  // Times compare by prefix length: 1430 matches 143000..143059.
  return (value) => {
    const v = value.replace(/[:\s]/g, '');
    if (!v) return false;
    if (from && v < from && !v.startsWith(from)) return false;
    if (to && v > to && !v.startsWith(to)) return false;
    return true;
  };
}

/** Builds the matcher of one query key (PS3.4 C.2.2.2: single value, list of UIDs, wildcard, range, universal). */
function buildMatcher(parameter: string, tag: string, text: string): Matcher {
  const vr = tag === COMPUTED.modalitiesInStudy ? 'CS' : vrOf(tag);
  const base = { tag, vr, text };
  // Universal matching: an empty value (or a lone *) matches everything and asks for the attribute to be returned.
  if (text === '' || text === '*') return { ...base, test: () => true };
  if (vr === 'UI') {
    const uids = text.split('\\');
    if (uids.some((uid) => uid.length > 64 || !UID.test(uid))) {
      throw new InvalidParameter(parameter, `${parameter} must be a UID or a backslash-separated list of UIDs`);
    }
    const set = new Set(uids);
    return { ...base, test: (a) => attributeStrings(a).some((v) => set.has(v)) };
  }
  if (vr === 'DA' || vr === 'TM' || vr === 'DT') {
    const inRange = rangeMatcher(parameter, vr, text);
    return { ...base, test: (a) => attributeStrings(a).some(inRange) };
  }
  if (['IS', 'DS', 'US', 'SS', 'UL', 'SL', 'FL', 'FD', 'UV', 'SV'].includes(vr)) {
    const wanted = Number(text);
    if (!Number.isFinite(wanted)) throw new InvalidParameter(parameter, `${parameter} must be a number`);
    return { ...base, test: (a) => attributeStrings(a).some((v) => Number(v) === wanted) };
  }
  if (text.length > 1024 || /[\u0000-\u001f]/.test(text)) {
    throw new InvalidParameter(parameter, `${parameter} must be at most 1,024 characters without control characters`);
  }
  // Person names match case-insensitively (as most archives do); other strings exactly. A CS list (CT\MR) is any of them.
  const caseInsensitive = vr === 'PN';
  const alternatives = vr === 'CS' ? text.split('\\') : [text];
  const patterns = alternatives.map((alternative) => wildcardPattern(alternative, caseInsensitive));
  return { ...base, test: (a) => attributeStrings(a).some((v) => patterns.some((p) => p.test(v))) };
}

function integerParameter(name: string, text: string, min: number): number {
  if (!/^\d{1,9}$/.test(text.trim()) || Number(text) < min) {
    throw new InvalidParameter(name, `${name} must be an integer of at least ${min}`);
  }
  return Number(text);
}

/**
 * Parses a QIDO-RS query string. `multi` holds every value of every key (includefield may repeat). Unknown keys are
 * 400 naming the key; attributes known to PS3.6 but not kept at this level are ignored with a Warning, as PS3.18 lets
 * an origin server do.
 */
export function parseQidoQuery(
  level: QueryLevel,
  multi: Record<string, readonly string[] | undefined> | null | undefined,
): QidoQuery {
  const warnings: string[] = [];
  const matchers: Matcher[] = [];
  let include: Set<string> | 'all' = new Set();
  let limit = MAX_RESULTS[level];
  let offset = 0;
  const seen = new Set(LEVELS_SEEN[level].flatMap((l) => [...LEVEL_TAGS[l]]));
  const ignored: string[] = [];
  for (const [key, values] of Object.entries(multi ?? {})) {
    for (const value of values ?? []) {
      switch (key) {
        case 'limit': {
          const asked = integerParameter('limit', value, 1);
          limit = Math.min(asked, MAX_RESULTS[level]);
          if (asked > limit)
            warnings.push(`299 dicom-api: the number of results is limited to ${limit}; page with offset`);
          continue;
        }
        case 'offset':
          offset = integerParameter('offset', value, 0);
          continue;
        case 'fuzzymatching':
          if (!/^(true|false)$/.test(value))
            throw new InvalidParameter('fuzzymatching', 'fuzzymatching must be true or false');
          if (value === 'true') {
            // PS3.18 8.3.4.1 gives this text word for word (viewers compare it).
            warnings.push(
              '299 dicom-api: The fuzzymatching parameter is not supported. Only literal matching has been performed.',
            );
          }
          continue;
        case 'includefield':
          for (const field of value.split(',').map((f) => f.trim())) {
            if (field === 'all') {
              include = 'all';
              continue;
            }
            const tag = tagOfKey(field);
            if (!tag)
              throw new InvalidParameter(
                'includefield',
                `includefield names an unknown attribute (${field.slice(0, 64)})`,
              );
            if (include !== 'all') include.add(tag);
          }
          continue;
        default:
          break;
      }
      if (key.includes('.')) {
        throw new InvalidParameter(key.slice(0, 64), 'matching on sequence attributes (dotted keys) is not supported');
      }
      const tag = tagOfKey(key);
      if (!tag)
        throw new InvalidParameter(
          key.slice(0, 64),
          `unknown query key: not a QIDO-RS parameter, DICOM keyword or tag`,
        );
      if (!seen.has(tag)) {
        ignored.push(tag);
        continue;
      }
      matchers.push(buildMatcher(key, tag, value));
    }
  }
  if (ignored.length > 0) {
    warnings.push(
      `299 dicom-api: the following attribute keys were not supported for matching and were ignored: ${ignored.join(',')}`,
    );
  }
  return { level, matchers, include, limit, offset, warnings };
}

/** A query's matching key value for `tag`, when it is a single UID (serves it from an index instead of filtering). */
export function singleUid(query: QidoQuery, tag: string): string | undefined {
  const matcher = query.matchers.find((m) => m.tag === tag && m.vr === 'UI' && m.text !== '' && m.text !== '*');
  return matcher && !matcher.text.includes('\\') ? matcher.text : undefined;
}

export function matches(query: QidoQuery, dataset: DicomJsonDataset): boolean {
  return query.matchers.every((matcher) => matcher.test(dataset[matcher.tag]));
}

/** The attributes of a match to return: the level's defaults, the matching keys, and includefield. */
export function selectReturned(query: QidoQuery, dataset: DicomJsonDataset): DicomJsonDataset {
  const wanted = new Set<string>(ALWAYS_RETURNED);
  for (const level of LEVELS_SEEN[query.level])
    for (const tag of DEFAULT_RETURN[level]) if (level === query.level || isKeyOf(level, tag)) wanted.add(tag);
  for (const matcher of query.matchers) wanted.add(matcher.tag);
  const all = query.include === 'all';
  if (query.include !== 'all') for (const tag of query.include) wanted.add(tag);
  const out: DicomJsonDataset = {};
  // A required return key the file lacks is still returned, empty (PS3.18 10.6.3.3.1: zero-length when no value);
  // keys asked for by includefield or matching that the file lacks are simply absent.
  const required = DEFAULT_RETURN[query.level];
  for (const tag of [...new Set([...Object.keys(dataset), ...required])].sort()) {
    const attribute = dataset[tag];
    if (attribute && (all || wanted.has(tag))) out[tag] = attribute;
    else if (!attribute && required.includes(tag)) out[tag] = { vr: vrOf(tag) };
  }
  return out;
}

/** The unique key of a level (StudyInstanceUID, SeriesInstanceUID): always returned with results of lower levels. */
function isKeyOf(level: QueryLevel, tag: string): boolean {
  return (
    (level === 'study' && tag === TAG_HEX.StudyInstanceUID) || (level === 'series' && tag === TAG_HEX.SeriesInstanceUID)
  );
}
