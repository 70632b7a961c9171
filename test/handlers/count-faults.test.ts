// Counts stay exact when their bookkeeping is cut short: a fault at any counting step of an upload (then its undo) or
// of the processor's markReady (then Lambda's retry) leaves the study, series and instance counts equal to a recount.
import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { getStores } from '../../lambdas/commons.js';
import { ENV } from '../../lambdas/config.js';
import { DynamoRecordStore } from '../../lambdas/store/dynamo-record-store.js';
import type { FileRecord, ProcessedResult } from '../../lambdas/store/records.js';
import { useEmulatedStorage } from '../support/emulated-storage.js';

useEmulatedStorage('count-faults');

/** A DynamoDB client whose `failAt`-th UpdateItem on a counter item (study, series, instance) throws. */
function faultyStore(failAt: number): { store: DynamoRecordStore; counterUpdates: () => number } {
  const client = new DynamoDBClient({});
  let seen = 0;
  const send = client.send.bind(client) as (command: unknown) => Promise<unknown>;
  (client as unknown as { send: (command: unknown) => Promise<unknown> }).send = async (command: unknown) => {
    if (command instanceof UpdateItemCommand) {
      const id = command.input.Key?.id?.S ?? '';
      if (/^(STUDY|SERIES|SOP)#/.test(id) && ++seen === failAt)
        throw new Error(`injected fault at counter update ${seen}`);
    }
    return send(command);
  };
  return { store: new DynamoRecordStore(client, process.env[ENV.tableName]!), counterUpdates: () => seen };
}

let serial = 0;
function identifiers(
  study: string,
  series: string,
  sop: string,
): Pick<
  FileRecord,
  | 'study_instance_uid'
  | 'series_instance_uid'
  | 'sop_instance_uid'
  | 'modality'
  | 'patient_id'
  | 'study_date'
  | 'sop_class_uid'
  | 'transfer_syntax_uid'
  | 'number_of_frames'
> {
  return {
    study_instance_uid: study,
    series_instance_uid: series,
    sop_instance_uid: sop,
    modality: 'CT',
    patient_id: 'P',
    study_date: '20240101',
    sop_class_uid: '1.2.840.10008.5.1.4.1.1.2',
    transfer_syntax_uid: '1.2.840.10008.1.2.1',
    number_of_frames: 1,
  };
}

function newRecord(ids: Partial<FileRecord> = {}): FileRecord {
  serial++;
  const now = new Date(Date.UTC(2026, 0, 1, 0, 0, serial)).toISOString();
  return {
    id: `00000000-0000-4000-8000-${String(serial).padStart(12, '0')}`,
    filename: `f${serial}.dcm`,
    size_bytes: 10,
    created_at: now,
    modified_at: now,
    status: 'PROCESSING',
    dicom_info: {
      PatientName: null,
      PatientID: 'P',
      StudyDate: null,
      StudyDescription: null,
      Modality: 'CT',
      ImageDimensions: null,
    },
    patient_id: null,
    modality: null,
    study_date: null,
    sop_instance_uid: null,
    sop_class_uid: null,
    study_instance_uid: null,
    series_instance_uid: null,
    transfer_syntax_uid: null,
    number_of_frames: null,
    ...ids,
  };
}

function result(ids: ReturnType<typeof identifiers>): ProcessedResult {
  return {
    ...ids,
    dicom_info: {
      PatientName: null,
      PatientID: 'P',
      StudyDate: '20240101',
      StudyDescription: null,
      Modality: 'CT',
      ImageDimensions: null,
    },
    image: { state: 'NO_IMAGE' },
    attribute_count: 1,
    schema_version: 2,
  };
}

/** What the study and its series report, and what their records say they should (a full recount). */
async function countsOf(study: string, series: string[]) {
  const records = getStores().records;
  const files: FileRecord[] = [];
  let after: string | undefined;
  do {
    const page = await records.listFiles({ study_uid: study }, { limit: 1000, ...(after ? { after } : {}) });
    files.push(...page.items);
    after = page.next ?? undefined;
  } while (after);
  const counted = files.filter((f) => f.status !== 'FAILED');
  const summary = await records.getStudy(study);
  const reported = {
    instances: summary?.number_of_instances ?? 0,
    series: summary?.number_of_series ?? 0,
    perSeries: await Promise.all(series.map(async (uid) => (await records.getSeries(uid))?.number_of_instances ?? 0)),
  };
  const expected = {
    instances: new Set(counted.map((f) => f.sop_instance_uid)).size,
    series: new Set(counted.map((f) => f.series_instance_uid)).size,
    perSeries: series.map(
      (uid) => new Set(counted.filter((f) => f.series_instance_uid === uid).map((f) => f.sop_instance_uid)).size,
    ),
  };
  return { reported, expected };
}

describe('counts under faults', () => {
  // Counting one new instance makes 3 counter updates: its copies, its study, its series.
  for (const failAt of [1, 2, 3]) {
    it(`processor: a fault at counter update ${failAt} of markReady, then the retry: exact counts`, async () => {
      const study = `1.2.3.${failAt}00`;
      const series = `${study}.1`;
      const real = getStores().records;
      // Two files already counted in the study, one arriving through the large-file route (no identifiers yet).
      for (const n of [1, 2]) await real.create(newRecord(identifiers(study, series, `${series}.${n}`)));
      const arriving = newRecord();
      await real.create(arriving);
      const faulty = faultyStore(failAt);
      await expect(
        faulty.store.markReady(arriving.id, result(identifiers(study, series, `${series}.3`)), arriving),
      ).rejects.toThrow(/injected fault/);
      const { reported: before } = await countsOf(study, [series]);
      // Lambda retries the event: the processor finds the record READY with its counting unfinished.
      const stored = (await real.get(arriving.id))!;
      expect(stored.counts_pending).toBe(true);
      await real.repairCounts(stored);
      const { reported, expected } = await countsOf(study, [series]);
      expect(reported).toEqual(expected);
      expect(reported.instances).toBe(3);
      expect((await real.get(arriving.id))!.counts_pending).toBeUndefined();
      // The fault really cut the counting short (else this test proves nothing).
      expect(before).not.toEqual(expected);
    });

    it(`upload: a fault at counter update ${failAt} of create, then its undo: exact counts`, async () => {
      const study = `1.2.4.${failAt}00`;
      const series = `${study}.1`;
      const real = getStores().records;
      await real.create(newRecord(identifiers(study, series, `${series}.1`)));
      const failing = newRecord(identifiers(study, `${study}.2`, `${study}.2.1`));
      await expect(faultyStore(failAt).store.create(failing)).rejects.toThrow(/injected fault/);
      // The upload handler undoes: it deletes the record (nothing of the file stays).
      expect(await real.delete(failing.id)).toBe(true);
      const { reported, expected } = await countsOf(study, [series, `${study}.2`]);
      expect(reported).toEqual(expected);
      expect(reported).toEqual({ instances: 1, series: 1, perSeries: [1, 0] });
    });
  }
});
