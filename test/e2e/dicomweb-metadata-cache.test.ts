// WADO-RS series and study metadata are assembled once and read from S3 after that, and never go stale: a new
// instance, a deleted one or a reprocessed one gives a new answer (local only: it inspects the stored answers).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getStores } from '../../lambdas/commons.js';
import { KEYS } from '../../lambdas/config.js';
import { extraSlice, uniqueUidRoot } from '../support/dicomweb.js';
import { startTestRuntime, uploadForm, type TestRuntime } from '../support/runtime.js';
import { isRemote } from '../support/target.js';

describe.skipIf(isRemote)('DICOMweb metadata of a series and a study', () => {
  let api: TestRuntime;
  const root = uniqueUidRoot();
  const studyUid = `${root}.1`;
  const seriesUid = `${root}.1.1`;
  const slice = (n: number) =>
    extraSlice({
      studyUid,
      seriesUid,
      sopUid: `${seriesUid}.${n}`,
      patientId: 'CACHE',
      seriesNumber: 1,
      instanceNumber: n,
    });
  const upload = async (n: number): Promise<string> => {
    const response = await fetch(`${api.url}/dicom`, { method: 'POST', body: uploadForm(slice(n), `${n}.dcm`) });
    expect(response.status).toBe(201);
    return ((await response.json()) as { id: string }).id;
  };
  const sops = async (path: string): Promise<string[]> => {
    const response = await fetch(`${api.url}/dicomweb/studies/${studyUid}${path}/metadata`);
    expect(response.status).toBe(200);
    const datasets = (await response.json()) as Record<string, { Value?: string[] }>[];
    return datasets.map((d) => d['00080018']!.Value![0]!).sort();
  };
  const answers = async () =>
    (await getStores().objects.listKeys(KEYS.answerPrefix)).filter((k) => k.includes('metadata-'));

  beforeAll(async () => {
    api = await startTestRuntime();
  });
  afterAll(async () => {
    await api?.destroy();
  });

  it('is kept after the first request, follows new, deleted and reprocessed instances', async () => {
    const ids = [await upload(1), await upload(2)];
    await api.processorIdle();
    expect(await sops('/series/' + seriesUid)).toEqual([`${seriesUid}.1`, `${seriesUid}.2`]);
    expect(await sops('')).toEqual([`${seriesUid}.1`, `${seriesUid}.2`]);
    const kept = await answers();
    expect(kept).toHaveLength(2); // one for the series, one for the study
    // A second request reads the kept answer: nothing new is written.
    expect(await sops('/series/' + seriesUid)).toHaveLength(2);
    expect(await answers()).toEqual(kept);

    await upload(3);
    await api.processorIdle();
    expect(await sops('/series/' + seriesUid)).toEqual([1, 2, 3].map((n) => `${seriesUid}.${n}`));

    expect((await fetch(`${api.url}/dicom/${ids[0]}`, { method: 'DELETE' })).status).toBe(200);
    expect(await sops('/series/' + seriesUid)).toEqual([2, 3].map((n) => `${seriesUid}.${n}`));
    expect(await sops('')).toEqual([2, 3].map((n) => `${seriesUid}.${n}`));

    // Reprocessing an instance re-makes its metadata: the series' answer is made again.
    const before = new Set(await answers());
    expect((await fetch(`${api.url}/dicom/${ids[1]}/reprocess`, { method: 'POST' })).status).toBe(202);
    await api.processorIdle();
    expect(await sops('/series/' + seriesUid)).toEqual([2, 3].map((n) => `${seriesUid}.${n}`));
    expect((await answers()).filter((key) => !before.has(key))).toHaveLength(1);
  });
});
