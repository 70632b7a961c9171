// Every index serves its readers from what it projects: each listing, search and look-up answers, read through its
// index, exactly what the same reader makes of the whole stored item (GET /dicom/{id}, GetItem), and the projections
// stay within DynamoDB's limits (a template breaking them synthesizes fine and fails only at deploy). Both projections
// of the file listing indexes (`-c listingIndexes=`, LISTING_INDEXES) are checked: keysOnly readers fetch the items.
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { getStores } from '../../lambdas/commons.js';
import {
  ENV,
  FILE_LISTING_INDEXES,
  LISTING_INDEXES,
  TABLE,
  tableIndexes,
  type IndexDefinition,
  type ListingIndexes,
} from '../../lambdas/config.js';
import { instanceDataset } from '../../lambdas/dicomweb/search.js';
import { planFileQuery } from '../../lambdas/store/dynamo-queries.js';
import { DynamoRecordStore } from '../../lambdas/store/dynamo-record-store.js';
import { toFileRecordJson } from '../../lambdas/store/record-json.js';
import type { FileFilters, FileRecord } from '../../lambdas/store/records.js';
import { emulatorDynamoClient } from '../../local/emulators.js';
import { useEmulatedStorage } from '../support/emulated-storage.js';

const STUDY = '1.2.826.0.1.3680043.10.77.1';
const SERIES = `${STUDY}.1`;
const ROOT = 'https://example.test/dicomweb';

/** A record with every field a reader may use set (QIDO attributes, image state, object version, duplicates). */
function record(n: number, status: FileRecord['status'], sop = `${SERIES}.${n}`): FileRecord {
  const created = new Date(Date.UTC(2025, 2, 1, 10, 0, n)).toISOString();
  return {
    id: `00000000-0000-4000-8000-0000000000${String(n).padStart(2, '0')}`,
    filename: `slice-${n}.dcm`,
    size_bytes: 1000 + n,
    created_at: created,
    modified_at: created,
    status,
    ...(status === 'FAILED' ? { error: 'the pixel data is truncated' } : {}),
    ...(status === 'PROCESSING' ? { processing_deadline: new Date(Date.now() + 3_600_000).toISOString() } : {}),
    dicom_info: {
      PatientName: 'PROJECTION^TEST',
      PatientID: 'PROJ-1',
      StudyDate: '20250301',
      StudyDescription: 'HEAD',
      Modality: 'CT',
      ImageDimensions: { rows: 2, columns: 2 },
    },
    patient_id: 'PROJ-1',
    modality: 'CT',
    study_date: '20250301',
    sop_instance_uid: sop,
    sop_class_uid: '1.2.840.10008.5.1.4.1.1.2',
    study_instance_uid: STUDY,
    series_instance_uid: SERIES,
    transfer_syntax_uid: '1.2.840.10008.1.2.1',
    number_of_frames: 1,
    image: { state: 'RENDERED', png_bytes: 90, width: 2, height: 2 },
    sha256: `${String(n).padStart(2, '0')}${'ab'.repeat(31)}`,
    object_version: `version-${n}`,
    schema_version: 3,
    dicomweb: JSON.stringify({
      study: { '00081030': { vr: 'LO', Value: ['HEAD'] } },
      series: { '00200011': { vr: 'IS', Value: [n] }, '00080060': { vr: 'CS', Value: ['CT'] } },
      instance: { '00200013': { vr: 'IS', Value: [n] } },
    }),
  };
}

/** One filter set per file listing index: planFileQuery picks the index, so the routes are the real ones. */
const ROUTES: FileFilters[] = [
  {},
  { study_date: { from: '20250101', to: null } },
  { modality: 'CT' },
  { modality: 'CT', study_date: { from: '20250101', to: null } },
  { status: 'FAILED' },
  { status: 'PROCESSING', study_date: { from: '20250101', to: null } },
  { patient_id: 'PROJ-1' },
  { patient_id: 'PROJ-1', study_date: { from: '20250101', to: null } },
  { study_uid: STUDY },
  { series_uid: SERIES },
];

/** The DynamoDB store the handlers use (its duplicate linking is the processor's step). */
function dynamoStore(): DynamoRecordStore {
  const records = getStores().records;
  if (!(records instanceof DynamoRecordStore)) throw new Error('the handlers are not on DynamoDB');
  return records;
}

async function stored(): Promise<FileRecord[]> {
  const records = dynamoStore();
  const written = [record(1, 'READY'), record(2, 'READY', `${SERIES}.1`), record(3, 'FAILED'), record(4, 'PROCESSING')];
  for (const r of written) {
    await records.create(r);
    await records.linkToCopies(r);
  }
  return written;
}

describe.each(LISTING_INDEXES)('index projections, listing indexes %s', (listing: ListingIndexes) => {
  const storage = useEmulatedStorage(`projections-${listing}`, { [ENV.listingIndexes]: listing });

  it('stay within DynamoDB limits: at most 20 attributes an INCLUDE index, 100 over all of them', () => {
    const included = tableIndexes(listing).map((index) =>
      index.projection === 'INCLUDE' ? (index.nonKeyAttributes ?? []) : [],
    );
    for (const attributes of included) expect(attributes.length).toBeLessThanOrEqual(20);
    expect(included.flat().length).toBeLessThanOrEqual(100);
    for (const index of tableIndexes(listing)) {
      if (index.projection !== 'INCLUDE') expect(index.nonKeyAttributes).toBeUndefined();
    }
  });

  it('the table is made with the listing projection asked for', async () => {
    const client = emulatorDynamoClient(storage.emulators);
    const { Table } = await client.send(new DescribeTableCommand({ TableName: `projections-${listing}-table` }));
    client.destroy();
    const projections = Object.fromEntries(
      (Table?.GlobalSecondaryIndexes ?? []).map((i) => [i.IndexName, i.Projection?.ProjectionType]),
    );
    for (const key of FILE_LISTING_INDEXES) {
      expect(projections[TABLE.indexes[key].name], key).toBe(listing === 'keysOnly' ? 'KEYS_ONLY' : 'ALL');
    }
  });

  it('every index answers its readers what they make of the whole item', async () => {
    const records = dynamoStore();
    const written = await stored();
    const read = new Set<string>();
    const whole = new Map<string, FileRecord>();
    for (const r of written) whole.set(r.id, (await records.get(r.id))!);

    // GET /dicom, POST /dicom/search and the study's files: the file record JSON; QIDO instances and WADO (the same
    // study, series and all-files indexes): the instance dataset and the original's version.
    const now = new Date().toISOString();
    // The filters QIDO-RS instance searches, WADO-RS, DICOMweb deletes and recounts list files by (search.ts,
    // retrieve.ts): whole study, one series, or every file.
    const dicomweb = new Set(
      [{}, { study_uid: STUDY }, { series_uid: SERIES }].map((f) => planFileQuery(f, now).index),
    );
    for (const filters of ROUTES) {
      const page = await records.listFiles(filters, { limit: 100 });
      read.add(planFileQuery(filters, now).index);
      expect(page.items.length, JSON.stringify(filters)).toBeGreaterThan(0);
      for (const listed of page.items) {
        const full = whole.get(listed.id)!;
        expect(toFileRecordJson(listed), page.index).toEqual(toFileRecordJson(full));
        if (!dicomweb.has(page.index)) continue;
        expect(instanceDataset(listed, ROOT), page.index).toEqual(instanceDataset(full, ROOT));
        expect(listed.object_version, page.index).toBe(full.object_version);
      }
    }

    // GET /studies and QIDO studies; a study's series and every series (QIDO series, GET /studies/{uid}/series).
    const studies = await records.listStudies({ limit: 10 });
    read.add(studies.index);
    expect(studies.items).toEqual([await records.getStudy(STUDY)]);
    for (const scope of [STUDY, undefined]) {
      const series = await records.listSeries({ limit: 10 }, scope);
      read.add(series.index);
      expect(series.items).toEqual([await records.getSeries(SERIES)]);
    }

    // Duplicate look-ups: ids only (by SOP Instance UID; by hash for a file without one).
    const copies = await records.findBySopInstanceUid(`${SERIES}.1`);
    read.add(TABLE.indexes.filesBySopInstance.name);
    expect(copies).toEqual([written[0]!.id, written[1]!.id]);
    const hash = 'ff'.repeat(32);
    const [a, b] = [record(5, 'READY'), record(6, 'READY')].map((r) => ({
      ...r,
      sop_instance_uid: null,
      sha256: hash,
    }));
    for (const r of [a!, b!]) {
      await records.create(r);
      await records.linkToCopies(r);
    }
    read.add(TABLE.indexes.filesBySha256.name);
    expect((await records.get(a!.id))?.duplicate_of).toEqual([b!.id]);
    expect((await records.get(b!.id))?.duplicate_of).toEqual([a!.id]);

    // Every index of the table was read here: a new index comes with its readers' check.
    const all = tableIndexes().map((index: IndexDefinition) => index.name);
    expect([...read].sort()).toEqual([...all].sort());
  });
});
