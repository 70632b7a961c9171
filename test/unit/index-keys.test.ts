// How a file record is stored: its QIDO-RS attributes deflated (they are copied into every ALL-projection index).
import { describe, expect, it } from 'vitest';
import { fromFileItem, keyUpdates, toFileItem } from '../../lambdas/store/index-keys.js';
import type { FileRecord } from '../../lambdas/store/records.js';

const dicomweb = JSON.stringify({
  study: {
    '00100010': { vr: 'PN', Value: [{ Alphabetic: 'DOE^JANE' }] },
    '00080020': { vr: 'DA', Value: ['20240101'] },
  },
  series: { '00080060': { vr: 'CS', Value: ['CT'] }, '0020000E': { vr: 'UI', Value: ['1.2.3.4'] } },
  instance: {
    '00080018': { vr: 'UI', Value: ['1.2.3.4.5'] },
    '00080016': { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.2'] },
  },
});

const record: FileRecord = {
  id: '00000000-0000-4000-8000-000000000001',
  filename: 'a.dcm',
  size_bytes: 10,
  created_at: '2026-01-01T00:00:00.000Z',
  modified_at: '2026-01-01T00:00:00.000Z',
  status: 'READY',
  dicom_info: {
    PatientName: 'DOE^JANE',
    PatientID: 'P1',
    StudyDate: '20240101',
    StudyDescription: null,
    Modality: 'CT',
    ImageDimensions: null,
  },
  patient_id: 'P1',
  modality: 'CT',
  study_date: '20240101',
  sop_instance_uid: '1.2.3.4.5',
  sop_class_uid: '1.2.840.10008.5.1.4.1.1.2',
  study_instance_uid: '1.2.3',
  series_instance_uid: '1.2.3.4',
  transfer_syntax_uid: '1.2.840.10008.1.2.1',
  number_of_frames: 1,
  dicomweb,
};

describe('file items', () => {
  it('store the QIDO-RS attributes deflated and read them back as the same text', () => {
    const item = toFileItem(record);
    expect(item.dicomweb).toBeUndefined();
    expect(item.dicomweb_z).toBeInstanceOf(Uint8Array);
    expect((item.dicomweb_z as Uint8Array).length).toBeLessThan(dicomweb.length);
    expect(fromFileItem(item)).toEqual(record);
  });

  it('read an item written before (the text as it was) unchanged', () => {
    const legacy = { ...toFileItem(record), dicomweb } as Record<string, unknown>;
    delete legacy.dicomweb_z;
    expect(fromFileItem(legacy).dicomweb).toBe(dicomweb);
  });

  it('an update sets the deflated form and removes the text an older write left', () => {
    const { set, remove } = keyUpdates({ dicomweb, status: 'READY' }, record);
    expect(set.dicomweb).toBeUndefined();
    expect(fromFileItem({ ...set, id: record.id }).dicomweb).toBe(dicomweb);
    expect(remove).toContain('dicomweb');
  });
});
