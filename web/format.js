// Turns DICOM and API values into text for people: names, dates, sizes, statuses.

/**
 * A DICOM person name (`Family^Given^Middle^Prefix^Suffix`, groups `alphabetic=ideographic=phonetic`) for reading:
 * `Yamada^Tarou=山田^太郎` -> `Yamada, Tarou (山田 太郎)`.
 * @param {string | null | undefined} personName
 */
export function formatPersonName(personName) {
  if (!personName) return '';
  const groups = personName.split('=').map((group) => group.split('^').map((part) => part.trim()));
  const [alphabetic = [], ...others] = groups;
  const [family = '', given = '', middle = '', prefix = '', suffix = ''] = alphabetic;
  const givenNames = [prefix, given, middle].filter(Boolean).join(' ');
  const main = [[family, givenNames].filter(Boolean).join(', '), suffix].filter(Boolean).join(' ');
  const rest = others.map((parts) => parts.filter(Boolean).join(' ')).filter(Boolean);
  if (!main) return rest.join(' · ');
  return rest.length ? `${main} (${rest.join(' · ')})` : main;
}

/**
 * `20231215` -> `2023-12-15`; anything else as it is.
 * @param {string | null | undefined} date
 */
export function formatDicomDate(date) {
  if (!date) return '';
  const match = /^(\d{4})(\d{2})(\d{2})$/.exec(date);
  return match ? `${match[1]}-${match[2]}-${match[3]}` : date;
}

/** @param {number} bytes */
export function formatBytes(bytes) {
  if (!Number.isFinite(bytes)) return '';
  if (bytes < 1000) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** @param {string | null | undefined} iso */
export function formatTimestamp(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

/** @type {Record<string, string>} */
const STATUS_TEXT = { READY: 'Ready', PROCESSING: 'Processing', FAILED: 'Failed' };

/** @param {string | undefined} status */
export function formatStatus(status) {
  return status ? (STATUS_TEXT[status] ?? status) : 'Ready';
}
