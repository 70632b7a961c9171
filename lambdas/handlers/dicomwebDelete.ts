// DELETE /dicomweb/studies/{study}[/series/{series}[/instances/{instance}]] (as Orthanc, dcm4chee and Azure offer):
// every stored file of it, all copies and any status, through DELETE /dicom/{id}'s pipeline. 200 with a JSON count.
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { getStores, logger, type Stores } from '../commons.js';
import { pathUid } from '../dicomweb/http.js';
import { auditedFiles } from '../http/access.js';
import { HttpError, NotFound, ServiceUnavailable } from '../http/errors.js';
import { httpHandler } from '../http/handler.js';
import { json } from '../http/responses.js';
import { deleteFile } from '../ingest/store-file.js';
import { deleteFileObjects } from '../store/file-objects.js';
import type { FileRecord } from '../store/records.js';

/** How many files are deleted at once. */
const DELETE_CONCURRENCY = 8;
/** No file is started after this long (ms): a study too large for one request answers 503 and a repeat goes on. */
const TIME_BUDGET_MS = 15_000;

interface Target {
  studyUid: string;
  seriesUid?: string;
  sopUid?: string;
}

function targetOf(event: APIGatewayProxyEvent): Target {
  const studyUid = pathUid(event, 'study');
  if (event.pathParameters?.series === undefined) return { studyUid };
  const seriesUid = pathUid(event, 'series');
  if (event.pathParameters?.instance === undefined) return { studyUid, seriesUid };
  return { studyUid, seriesUid, sopUid: pathUid(event, 'instance') };
}

/** Ids of every record under the target: all copies of an instance, FAILED and PROCESSING ones included. */
async function filesOf({ records }: Stores, target: Target): Promise<string[]> {
  let found: FileRecord[];
  if (target.sopUid) {
    const ids = await records.findBySopInstanceUid(target.sopUid);
    found = (await Promise.all(ids.map((id) => records.get(id)))).filter((r): r is FileRecord => r !== undefined);
  } else {
    found = [];
    const filters = target.seriesUid ? { series_uid: target.seriesUid } : { study_uid: target.studyUid };
    let after: string | undefined;
    do {
      const page = await records.listFiles(filters, { limit: 1000, ...(after ? { after } : {}) });
      found.push(...page.items);
      after = page.next ?? undefined;
    } while (after);
  }
  return found
    .filter((r) => r.study_instance_uid === target.studyUid)
    .filter((r) => !target.seriesUid || r.series_instance_uid === target.seriesUid)
    .map((r) => r.id);
}

/**
 * The objects go before the record: a UID finds files only through their records, so a storage fault must leave the
 * record for the repeat to find (DELETE /dicom/{id} knows the id and needs no such care). Then DELETE /dicom/{id}'s
 * pipeline removes the record, the counts and anything the processor wrote meanwhile.
 */
async function deleteOne(stores: Stores, id: string): Promise<void> {
  try {
    await deleteFileObjects(stores.objects, id);
  } catch (error) {
    logger.error('delete storage failed', { id, error: error as Error });
    throw new ServiceUnavailable('a stored file could not be deleted; repeat the DELETE', 'STORAGE_FAILED');
  }
  await deleteFile(stores, id);
}

export const handler = httpHandler('dicomwebDelete', async (event) => {
  const target = targetOf(event);
  const stores = getStores();
  const ids = [...new Set(await filesOf(stores, target))];
  if (ids.length === 0) {
    const what = target.sopUid ? 'instance' : target.seriesUid ? 'series' : 'study';
    throw new NotFound(`no ${what} with this UID is stored`, `${what.toUpperCase()}_NOT_FOUND`);
  }
  const started = Date.now();
  let next = 0;
  const deleted: string[] = [];
  let failure: unknown;
  async function worker(): Promise<void> {
    while (next < ids.length && failure === undefined && Date.now() - started < TIME_BUDGET_MS) {
      const id = ids[next++]!;
      try {
        await deleteOne(stores, id);
        deleted.push(id);
      } catch (error) {
        failure = error;
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(DELETE_CONCURRENCY, ids.length) }, worker));
  if (failure !== undefined && !(failure instanceof ServiceUnavailable)) throw failure;
  if (deleted.length < ids.length) {
    // A storage fault, or more files than one request deletes in time: what is done stays done, a repeat goes on.
    // The audit line still names the files that went.
    throw new HttpError(
      503,
      'DELETE_INCOMPLETE',
      `${deleted.length} of ${ids.length} stored files deleted; repeat the DELETE to finish (it deletes what is left)`,
      { headers: { 'Retry-After': '1', ...auditedFiles(deleted) } },
    );
  }
  return json(200, { message: 'deleted', deleted_files: deleted.length }, auditedFiles(ids));
});
