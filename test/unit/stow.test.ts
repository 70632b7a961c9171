// STOW-RS request reading and response shape, and its storage faults (and DICOMweb DELETE's) on the emulators.
import { describe, expect, it } from 'vitest';
import { getStores, setStores } from '../../lambdas/commons.js';
import { KEYS } from '../../lambdas/config.js';
import { stowBoundary, stowParts, stowResponse, stowStatus, type StowOutcome } from '../../lambdas/dicomweb/stow.js';
import { handler as dicomwebDelete } from '../../lambdas/handlers/dicomwebDelete.js';
import { handler as store } from '../../lambdas/handlers/dicomwebStore.js';
import { buildDicom, imageElements, patientElements } from '../fixtures/dicom-builder.js';
import { useEmulatedStorage } from '../support/emulated-storage.js';
import { apiEvent } from '../support/events.js';

useEmulatedStorage('stow');

const ROOT = 'http://127.0.0.1:5000/dicomweb';

describe('stowBoundary', () => {
  it('reads type and boundary quoted or bare; refuses other media types (415) and a missing boundary (400)', () => {
    expect(stowBoundary('multipart/related; type="application/dicom"; boundary="a b"')).toBe('a b');
    expect(stowBoundary('multipart/related;type=application/dicom;boundary=xyz')).toBe('xyz');
    expect(stowBoundary('MULTIPART/RELATED; boundary=xyz')).toBe('xyz');
    for (const type of [
      undefined,
      'application/dicom',
      'multipart/mixed; boundary=x',
      'multipart/related; type=application/dicom+xml; boundary=x',
    ]) {
      expect(() => stowBoundary(type), String(type)).toThrow(expect.objectContaining({ status: 415 }));
    }
    expect(() => stowBoundary('multipart/related; type="application/dicom"')).toThrow(
      expect.objectContaining({ status: 400 }),
    );
  });
});

describe('stowParts', () => {
  it('splits a body with or without a leading CRLF (dicomweb-client sends one); 400 when it is not multipart', () => {
    const body = Buffer.from(
      '\r\n--b\r\nContent-Type: application/dicom\r\n\r\nONE\r\n--b\r\nContent-Type: application/dicom\r\n\r\nTWO\r\n--b--',
    );
    expect(stowParts('b', body).map((p) => Buffer.from(p.bytes).toString())).toEqual(['ONE', 'TWO']);
    expect(() => stowParts('b', Buffer.from('no parts'))).toThrow(expect.objectContaining({ status: 400 }));
    expect(() => stowParts('b', Buffer.from('--b\r\n\r\nunterminated'))).toThrow(
      expect.objectContaining({ status: 400 }),
    );
    expect(() => stowParts('b', Buffer.from('--b--\r\n'))).toThrow(expect.objectContaining({ code: 'NO_INSTANCES' }));
  });
});

describe('stowResponse', () => {
  const ok: StowOutcome = {
    kind: 'stored',
    id: 'x',
    sopClassUid: '1.2.3',
    sopInstanceUid: '1.5.6.7',
    studyUid: '1.5',
    seriesUid: '1.5.6',
  };
  const bad: StowOutcome = { kind: 'failed', reason: 0xc000, why: 'NOT_DICOM' };

  it('200 / 202 / 409 from the outcomes; sequences only when they have items', () => {
    expect(stowStatus([ok])).toBe(200);
    expect(stowStatus([ok, bad])).toBe(202);
    expect(stowStatus([bad])).toBe(409);
    expect(stowResponse(ROOT, [ok, bad])).toEqual({
      '00081190': { vr: 'UR', Value: [`${ROOT}/studies/1.5`] },
      '00081198': { vr: 'SQ', Value: [{ '00081197': { vr: 'US', Value: [0xc000] } }] },
      '00081199': {
        vr: 'SQ',
        Value: [
          {
            '00081150': { vr: 'UI', Value: ['1.2.3'] },
            '00081155': { vr: 'UI', Value: ['1.5.6.7'] },
            '00081190': { vr: 'UR', Value: [`${ROOT}/studies/1.5/series/1.5.6/instances/1.5.6.7`] },
          },
        ],
      },
    });
    expect(stowResponse(ROOT, [bad])['00081199']).toBeUndefined();
    // Instances of several studies: the study's Retrieve URL (Type 2) is present and empty.
    expect(stowResponse(ROOT, [ok, { ...ok, studyUid: '1.9' }])['00081190']).toEqual({ vr: 'UR' });
  });
});

function ct(study: string, sop: string): Uint8Array {
  return buildDicom(
    [
      ...patientElements({ modality: 'CT' }),
      { tag: 0x0020000d, vr: 'UI', value: study },
      { tag: 0x0020000e, vr: 'UI', value: `${study}.1` },
      ...imageElements({ rows: 2, columns: 2, pixels: [1, 2, 3, 4] }),
    ],
    { sopInstanceUid: sop },
  );
}

function stowEvent(parts: Uint8Array[]) {
  const chunks = parts.flatMap((p) => [
    Buffer.from('--b\r\nContent-Type: application/dicom\r\n\r\n'),
    p,
    Buffer.from('\r\n'),
  ]);
  return apiEvent({
    method: 'POST',
    resource: '/dicomweb/studies',
    path: '/dicomweb/studies',
    headers: { 'Content-Type': 'multipart/related; type="application/dicom"; boundary=b', Host: '127.0.0.1:5000' },
    body: Buffer.concat([...chunks, Buffer.from('--b--\r\n')]),
  });
}

describe('storage faults', () => {
  it('a part whose storage fails is refused 0xA700 and leaves no record or object; the others are stored', async () => {
    const study = '1.2.826.0.1.3680043.8.498.77';
    const real = getStores();
    let puts = 0;
    setStores({
      records: real.records,
      objects: {
        ...real.objects,
        put: (...args: Parameters<typeof real.objects.put>) =>
          ++puts === 2 ? Promise.reject(new Error('S3 is down')) : real.objects.put(...args),
      },
    } as typeof real);
    const response = await store(stowEvent([1, 2, 3].map((i) => ct(study, `${study}.1.${i}`))));
    setStores(real);
    expect(response.statusCode).toBe(202);
    const body = JSON.parse(response.body) as Record<string, { Value: Record<string, { Value: unknown[] }>[] }>;
    expect(body['00081198']!.Value.map((item) => item['00081197']!.Value[0])).toEqual([0xa700]);
    expect(body['00081199']!.Value).toHaveLength(2);
    const files = (await real.records.listFiles({ study_uid: study }, { limit: 100 })).items;
    expect(files).toHaveLength(2);
    const keys = await real.objects.listKeys('uploads/');
    expect(keys.sort()).toEqual(files.map((f) => KEYS.upload(f.id)).sort());
  });

  it('a DICOMweb DELETE cut short by S3 answers 503 and keeps the records; a repeat finishes the job', async () => {
    const study = '1.2.826.0.1.3680043.8.498.78';
    expect((await store(stowEvent([1, 2].map((i) => ct(study, `${study}.1.${i}`))))).statusCode).toBe(200);
    const real = getStores();
    const ids = (await real.records.listFiles({ study_uid: study }, { limit: 100 })).items.map((f) => f.id);
    setStores({
      records: real.records,
      objects: { ...real.objects, delete: () => Promise.reject(new Error('S3 is down')) },
    } as typeof real);
    const event = () =>
      apiEvent({
        method: 'DELETE',
        resource: '/dicomweb/studies/{study}',
        path: `/dicomweb/studies/${study}`,
        pathParameters: { study },
      });
    const cut = await dicomwebDelete(event());
    setStores(real);
    expect(cut.statusCode).toBe(503);
    // The record that was not deleted is still found by its UID: the repeat can finish.
    expect((await real.records.listFiles({ study_uid: study }, { limit: 100 })).items.length).toBeGreaterThan(0);
    const repeat = await dicomwebDelete(event());
    expect(repeat.statusCode).toBe(200);
    expect((await real.records.listFiles({ study_uid: study }, { limit: 100 })).items).toEqual([]);
    const left = await real.objects.listKeys('uploads/');
    expect(ids.filter((id) => left.includes(KEYS.upload(id)))).toEqual([]);
    expect((await dicomwebDelete(event())).statusCode).toBe(404);
  });
});
