// WADO-RS instances (PS3.18 10.4.1.1.1): the stored files of a study, series or instance as multipart/related
// application/dicom, and bulk data (10.4.1.1.5) that the metadata's BulkDataURIs name.
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { getStores, processingWaitMs } from '../commons.js';
import { KEYS } from '../config.js';
import { acceptedRanges, admits, MAX_INLINE_ANSWER_BYTES, NotAcceptable, pathUid } from '../dicomweb/http.js';
import { bulkData, instanceRecord, instancesOf, settled } from '../dicomweb/retrieve.js';
import { auditedFiles } from '../http/access.js';
import { NotFound } from '../http/errors.js';
import { httpHandler } from '../http/handler.js';
import { multipartRelated } from '../http/multipart-related.js';
import { processedRecord, stillProcessing } from '../http/processing-state.js';
import { binary, redirect } from '../http/responses.js';
import type { FileRecord } from '../store/records.js';

const DOWNLOAD_URL_SECONDS = 300;

/**
 * 406 unless Accept allows multipart/related of `partType`. Files are served as stored: a transfer-syntax other
 * than `*` or the stored one cannot be produced (no transcoding), which the caller checks per file.
 */
function acceptedSyntax(event: APIGatewayProxyEvent, partType: string): string {
  for (const range of acceptedRanges(event)) {
    if (range.type === '*/*') return '*';
    if (!admits(range, 'multipart/related')) continue;
    if ((range.params.type ?? partType).toLowerCase() !== partType) continue;
    return range.params['transfer-syntax'] ?? '*';
  }
  throw new NotAcceptable(
    `this resource is multipart/related; type="${partType}"; the Accept header does not allow it`,
  );
}

function requireStoredSyntax(wanted: string, records: FileRecord[]): void {
  if (wanted === '*') return;
  const other = records.find((record) => (record.transfer_syntax_uid ?? '') !== wanted);
  if (other) {
    throw new NotAcceptable(
      `instances are served in the transfer syntax they were stored in (${other.transfer_syntax_uid ?? 'unknown'}); ask for transfer-syntax=*`,
    );
  }
}

export const handler = httpHandler('dicomwebRetrieve', async (event) => {
  const studyUid = pathUid(event, 'study');
  const seriesUid = event.pathParameters?.series !== undefined ? pathUid(event, 'series') : undefined;
  const sopUid = event.pathParameters?.instance !== undefined ? pathUid(event, 'instance') : undefined;
  const { objects, records } = getStores();
  const waitMs = processingWaitMs();

  if (event.pathParameters?.path !== undefined) {
    acceptedSyntax(event, 'application/octet-stream');
    const found = await instanceRecord(records, { studyUid, seriesUid: seriesUid!, sopUid: sopUid! }, waitMs);
    if (found.state === 'processing') return stillProcessing(found.record.id);
    const record = processedRecord(found);
    const bytes = await bulkData(objects, record, event.pathParameters.path);
    const { body, contentType } = multipartRelated(
      [{ contentType: 'application/octet-stream', bytes }],
      'application/octet-stream',
    );
    if (body.length > MAX_INLINE_ANSWER_BYTES) {
      throw new NotAcceptable(
        `this bulk data is ${bytes.length} bytes, more than one answer carries; for Pixel Data retrieve the frames (.../frames/1)`,
      );
    }
    return binary(200, body, contentType, auditedFiles([record.id]));
  }

  const wanted = acceptedSyntax(event, 'application/dicom');
  let chosen: FileRecord[];
  if (seriesUid && sopUid) {
    const found = await instanceRecord(records, { studyUid, seriesUid, sopUid }, waitMs);
    if (found.state === 'processing') return stillProcessing(found.record.id);
    chosen = [processedRecord(found)];
  } else {
    chosen = await settled(
      records,
      await instancesOf(records, { studyUid, ...(seriesUid ? { seriesUid } : {}) }),
      waitMs,
    );
  }
  requireStoredSyntax(wanted, chosen);
  const total = chosen.reduce((sum, record) => sum + record.size_bytes, 0);
  if (total > MAX_INLINE_ANSWER_BYTES) {
    if (chosen.length === 1) {
      // One file too large for a Lambda answer: its stored bytes, straight from S3 for a few minutes.
      const only = chosen[0]!;
      const location = await objects.presignGet(
        KEYS.upload(only.id),
        DOWNLOAD_URL_SECONDS,
        undefined,
        only.object_version,
      );
      const answer = redirect(location);
      return { ...answer, headers: { ...answer.headers, ...auditedFiles([chosen[0]!.id]) } };
    }
    throw new NotAcceptable(
      `these ${chosen.length} instances make ${total} bytes, more than one answer carries (${MAX_INLINE_ANSWER_BYTES}); retrieve them one instance at a time`,
    );
  }
  const parts = await Promise.all(
    chosen.map(async (record) => {
      const bytes = await objects.get(KEYS.upload(record.id), record.object_version);
      if (!bytes) throw new NotFound('an instance was deleted meanwhile; retry', 'INSTANCE_NOT_FOUND');
      const syntax = record.transfer_syntax_uid ? `; transfer-syntax=${record.transfer_syntax_uid}` : '';
      return { contentType: `application/dicom${syntax}`, bytes };
    }),
  );
  const { body, contentType } = multipartRelated(parts, 'application/dicom');
  return binary(200, body, contentType, auditedFiles(chosen.map((record) => record.id)));
});
