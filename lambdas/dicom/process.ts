// The processor's pure work: DICOM bytes -> attribute JSON, DICOM JSON, record summary and PNG (no storage here).
import { THUMBNAIL_MAX_PIXELS } from '../config.js';
import { buildAttributes, dicomInfo } from './attributes.js';
import { stringifyDicomJson, toDicomJson } from './dicom-json.js';
import { DicomError } from './errors.js';
import { dicomIdentifiers } from './identifiers.js';
import type { ImageState, ProcessedResult } from './model.js';
import { parseDicom, type ParsedDicom } from './parse.js';
import { loadPrivateDictionary } from './private-dictionary.js';
import { encodePng } from './png.js';
import { hasImage, renderFrameAsync, type RenderedImage } from './render.js';
import { downscale, fitWithin } from './resize.js';

/**
 * Version of what the processor derives (attributes JSON, DICOM JSON, PNG, record summary) and of how it is stored.
 * Bump it when a parser or renderer change alters that output, or the layout changes; `scripts/reprocess-all.ts`
 * then rebuilds older records.
 * 3: well-known private elements named, with their creator, and decoded with the private dictionary's VR.
 * 4: public elements newer than the main dictionary named and decoded; files cut short, items longer than their
 *    sequence, datasets in the other VR encoding read (parse.ts); JPEG colour by the stream's markers.
 * 5: the same documents, stored together in derived/<id>/documents.json (one PUT) instead of attributes.json and
 *    metadata.json; readers still read a file of an older version the old way (lambdas/store/derived-documents.ts).
 */
export const DERIVED_SCHEMA_VERSION = 5;

export interface ProcessOutcome {
  attributesJson: Uint8Array;
  /** The instance's DICOM JSON (WADO-RS metadata); BulkDataURIs relative to the instance (`bulkdata/<path>`). */
  metadataJson: Uint8Array;
  png?: Uint8Array;
  /** The default rendering fitted into THUMBNAIL_MAX_PIXELS; absent when the image is no larger. */
  thumbnail?: Uint8Array;
  result: ProcessedResult;
}

/** The thumbnail GET /png?max=256 serves: made here from the frame already rendered, so its first request is a read. */
function thumbnailOf(rendered: RenderedImage): Uint8Array | undefined {
  const size = fitWithin(rendered, { width: THUMBNAIL_MAX_PIXELS, height: THUMBNAIL_MAX_PIXELS });
  if (size.width === rendered.width && size.height === rendered.height) return undefined;
  return encodePng(downscale(rendered, size));
}

async function renderDefault(
  parsed: ParsedDicom,
): Promise<{ png?: Uint8Array; thumbnail?: Uint8Array; image: ImageState }> {
  if (!hasImage(parsed)) return { image: { state: 'NO_IMAGE' } };
  try {
    const rendered = await renderFrameAsync(parsed, 0);
    const png = encodePng(rendered);
    const thumbnail = thumbnailOf(rendered);
    return {
      png,
      ...(thumbnail ? { thumbnail } : {}),
      image: { state: 'RENDERED', png_bytes: png.length, width: rendered.width, height: rendered.height },
    };
  } catch (error) {
    // Pixel data we cannot decode leaves the attributes usable; GET /png answers 422 with this reason.
    if (error instanceof DicomError) return { image: { state: 'UNRENDERABLE', reason: error.message } };
    throw error;
  }
}

/** Throws a DicomError (NotDicom, InflatedTooLarge) when the bytes are not readable DICOM. */
export async function processDicom(bytes: Uint8Array): Promise<ProcessOutcome> {
  const parsed = parseDicom(bytes);
  const document = buildAttributes(parsed, { privateDictionary: await loadPrivateDictionary() });
  // BulkDataURIs relative to the instance (`bulkdata/<path>`): the metadata route makes them absolute.
  const dataset = toDicomJson(parsed);
  const { png, thumbnail, image } = await renderDefault(parsed);
  return {
    attributesJson: new TextEncoder().encode(JSON.stringify(document)),
    metadataJson: new TextEncoder().encode(stringifyDicomJson(dataset)),
    ...(png ? { png } : {}),
    ...(thumbnail ? { thumbnail } : {}),
    result: {
      dicom_info: dicomInfo(parsed),
      ...dicomIdentifiers(parsed, dataset),
      image,
      attribute_count: document.count,
      schema_version: DERIVED_SCHEMA_VERSION,
    },
  };
}
