// Keeps a file record within DynamoDB's 400 KB item limit: long text values from a file are shortened, never refused.
import type { FileRecord } from './records.js';

/** Longest text value kept in a record's dicom_info (the full value stays in the attributes JSON). */
export const MAX_RECORD_TEXT_CHARS = 1024;
/** Largest QIDO-RS attributes JSON a record keeps; beyond it (after shortening its texts) it is dropped. */
export const MAX_RECORD_DICOMWEB_CHARS = 64 * 1024;

/** The text cut to `max` characters (whole code points) with an ellipsis saying it was cut. */
export function shortened(text: string, max = MAX_RECORD_TEXT_CHARS): string {
  if (text.length <= max) return text;
  return `${Array.from(text.slice(0, max)).slice(0, -1).join('')}…`;
}

function shortenStrings(value: unknown): unknown {
  if (typeof value === 'string') return shortened(value);
  if (Array.isArray(value)) return value.map(shortenStrings);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, shortenStrings(inner)]));
  }
  return value;
}

/** The `dicomweb` JSON text within its bound: texts shortened, and dropped if still too large. */
function boundedDicomweb(text: string): string | undefined {
  if (text.length <= MAX_RECORD_DICOMWEB_CHARS) return text;
  let shortenedText: string;
  try {
    shortenedText = JSON.stringify(shortenStrings(JSON.parse(text)));
  } catch {
    return undefined;
  }
  return shortenedText.length <= MAX_RECORD_DICOMWEB_CHARS ? shortenedText : undefined;
}

/**
 * The fields a file contributes to its record, with every text a client controls bounded: a
 * description of 500 KB would make the item too large for DynamoDB, and the upload would fail forever.
 */
export function withinItemSize<T extends Partial<Pick<FileRecord, 'dicom_info' | 'dicomweb'>>>(fields: T): T {
  const out = { ...fields };
  if (fields.dicom_info) {
    out.dicom_info = Object.fromEntries(
      Object.entries(fields.dicom_info).map(([key, value]) => [
        key,
        typeof value === 'string' ? shortened(value) : value,
      ]),
    ) as typeof fields.dicom_info;
  }
  if (typeof fields.dicomweb === 'string') {
    const bounded = boundedDicomweb(fields.dicomweb);
    if (bounded === undefined) delete out.dicomweb;
    else out.dicomweb = bounded;
  }
  return out;
}
