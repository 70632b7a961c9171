// `-c listingIndexes=keysOnly` (LISTING_INDEXES): the same files, uploaded and processed into a table whose file
// listing indexes hold keys only, give the same answers as the default ALL indexes: listings (paged), POST
// /dicom/search, QIDO-RS instance searches and a WADO-RS series retrieve. Ids and times differ between the two runs and
// are named by upload order; everything else is compared as the client gets it.
import type { APIGatewayProxyResult } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { ENV, KEYS, LISTING_INDEXES, type ListingIndexes } from '../../lambdas/config.js';
import { handler as dicomwebRetrieve } from '../../lambdas/handlers/dicomwebRetrieve.js';
import { handler as dicomwebSearch } from '../../lambdas/handlers/dicomwebSearch.js';
import { handler as list } from '../../lambdas/handlers/list.js';
import { handler as processor } from '../../lambdas/handlers/processor.js';
import { handler as search } from '../../lambdas/handlers/search.js';
import { handler as upload } from '../../lambdas/handlers/upload.js';
import { buildDicom, imageElements, patientElements } from '../fixtures/dicom-builder.js';
import { useEmulatedStorage } from '../support/emulated-storage.js';
import { apiEvent, s3Event, uploadEvent } from '../support/events.js';

const STUDIES = ['1.2.826.0.1.3680043.10.88.1', '1.2.826.0.1.3680043.10.88.2'];

/** Seven files over two studies, two patients and two modalities (the same bytes in both runs). */
const FILES = Array.from({ length: 7 }, (_, n) => {
  const study = STUDIES[n % 2]!;
  return buildDicom(
    [
      ...patientElements({ id: n % 2 ? 'KEYS-P2' : 'KEYS-P1', modality: n % 3 ? 'CT' : 'MR' }),
      { tag: 0x0020000d, vr: 'UI', value: study },
      { tag: 0x0020000e, vr: 'UI', value: `${study}.1` },
      ...imageElements({ rows: 2, columns: 2, pixels: [n, 1, 2, 3] }),
    ],
    { sopInstanceUid: `${study}.1.${n + 1}` },
  );
});

/** Each run's answers, by request, with ids and times named the same way. */
const answers = new Map<ListingIndexes, Record<string, unknown>>();

describe.each(LISTING_INDEXES)('listing indexes %s', (listing) => {
  useEmulatedStorage(`keysonly-${listing}`, {
    [ENV.cursorSecret]: 'keys-only-test-cursor-secret-0123456789',
    [ENV.listingIndexes]: listing,
  });

  it('uploads, processes and reads the files back through every kind of listing', async () => {
    const ids: string[] = [];
    for (const bytes of FILES) {
      const response = await upload(await uploadEvent(bytes));
      expect(response.statusCode).toBe(201);
      const id = (JSON.parse(response.body) as { id: string }).id;
      ids.push(id);
      await processor(s3Event(KEYS.upload(id)));
      // Distinct creation times: the order newest first is the same in both runs.
      await new Promise((resolve) => setTimeout(resolve, 3));
    }
    /** The client's view with ids named by upload order, times and sealed cursors as placeholders. */
    const named = (response: APIGatewayProxyResult): unknown => {
      let text = response.isBase64Encoded ? Buffer.from(response.body, 'base64').toString('latin1') : response.body;
      ids.forEach((id, n) => (text = text.replaceAll(id, `file-${n}`)));
      text = text.replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z/g, 'TIME');
      const contentType = String(response.headers?.['Content-Type'] ?? '');
      const boundary = /boundary="?([^";]+)/.exec(contentType)?.[1];
      if (boundary) text = text.replaceAll(boundary, 'BOUNDARY');
      if (!contentType.includes('json')) return { status: response.statusCode, length: text.length, text };
      const body = JSON.parse(text) as Record<string, unknown>;
      if ('next_cursor' in body) body.next_cursor = body.next_cursor !== null;
      return { status: response.statusCode, body };
    };
    const pages = async (query: Record<string, string>): Promise<unknown[]> => {
      const seen: unknown[] = [];
      let cursor: string | undefined;
      do {
        const response = await list(
          apiEvent({
            method: 'GET',
            resource: '/dicom',
            path: '/dicom',
            query: { ...query, limit: '2', ...(cursor ? { cursor } : {}) },
          }),
        );
        expect(response.statusCode, JSON.stringify(query)).toBe(200);
        cursor = (JSON.parse(response.body) as { next_cursor: string | null }).next_cursor ?? undefined;
        seen.push(named(response));
      } while (cursor);
      return seen;
    };
    const qido = (resource: string, path: string, query: Record<string, string>, parameters = {}) =>
      dicomwebSearch(
        apiEvent({
          method: 'GET',
          resource,
          path,
          pathParameters: parameters,
          query,
          headers: { Accept: 'application/dicom+json' },
        }),
      );
    const [study] = STUDIES;
    const run: Record<string, unknown> = {
      all: await pages({}),
      modality: await pages({ modality: 'MR' }),
      patient: await pages({ patient_id: 'KEYS-P2' }),
      ready: await pages({ status: 'READY' }),
      study: await pages({ study_uid: study! }),
      search: named(
        await search(
          apiEvent({
            method: 'POST',
            resource: '/dicom/search',
            path: '/dicom/search',
            headers: { 'Content-Type': 'application/json' },
            body: Buffer.from(JSON.stringify({ patient_id: 'KEYS-P1', modality: 'CT', limit: 10 })),
          }),
        ),
      ),
      qidoStudy: named(
        await qido('/dicomweb/studies/{study}/instances', `/dicomweb/studies/${study}/instances`, {}, { study }),
      ),
      qidoAll: named(await qido('/dicomweb/instances', '/dicomweb/instances', { Modality: 'CT' })),
      wadoSeries: named(
        await dicomwebRetrieve(
          apiEvent({
            method: 'GET',
            resource: '/dicomweb/studies/{study}/series/{series}',
            path: `/dicomweb/studies/${study}/series/${study}.1`,
            pathParameters: { study: study!, series: `${study}.1` },
            headers: { Accept: 'multipart/related; type="application/dicom"' },
          }),
        ),
      ),
    };
    answers.set(listing, run);
  });
});

describe('keys-only listing indexes', () => {
  it('answer every listing, search and retrieve exactly as the default ALL indexes do', () => {
    const all = answers.get('all') as Record<string, any>;
    const keysOnly = answers.get('keysOnly');
    // The comparison means something: the default run found the files, filtered, paged and retrieved them.
    expect(all.all).toHaveLength(4);
    expect(all.all.flatMap((page: any) => page.body.files)).toHaveLength(7);
    expect(all.modality.flatMap((page: any) => page.body.files)).toHaveLength(3);
    expect(all.search.body.files).toHaveLength(2);
    expect(all.qidoStudy.body).toHaveLength(4);
    expect(all.qidoAll.body).toHaveLength(4);
    expect(all.wadoSeries.status).toBe(200);
    expect(all.wadoSeries.text).toContain('BOUNDARY');
    expect(keysOnly).toEqual(all);
  });
});
