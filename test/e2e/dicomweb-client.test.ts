// The DICOMweb routes as OHIF's client library (dicomweb-client) calls them: the local runtime, or API_URL's stage.
import { decode } from 'fast-png';
import { api as dicomwebClient } from 'dicomweb-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCorpus, type Corpus, type CorpusInstance } from '../support/dicomweb.js';
import { installXmlHttpRequest } from '../support/dicomweb-xhr.js';
import { uploadForm } from '../support/runtime.js';
import { startTarget, type ApiTarget } from '../support/target.js';

type Dataset = Record<string, { vr: string; Value?: unknown[]; BulkDataURI?: string }>;

/** The client's typings ask for options it does not need (request, singlepart...): call it through this shape. */
interface Client {
  searchForStudies(options: { queryParams?: Record<string, string> }): Promise<Dataset[]>;
  searchForSeries(options: { studyInstanceUID?: string; queryParams?: Record<string, string> }): Promise<Dataset[]>;
  searchForInstances(options: {
    studyInstanceUID?: string;
    seriesInstanceUID?: string;
    queryParams?: Record<string, string>;
  }): Promise<Dataset[]>;
  retrieveStudyMetadata(options: { studyInstanceUID: string }): Promise<Dataset[]>;
  retrieveSeriesMetadata(options: { studyInstanceUID: string; seriesInstanceUID: string }): Promise<Dataset[]>;
  retrieveInstanceMetadata(options: Uids): Promise<Dataset[]>;
  retrieveInstanceFrames(
    options: Uids & { frameNumbers: number[]; mediaTypes?: { mediaType: string; transferSyntaxUID?: string }[] },
  ): Promise<ArrayBuffer[]>;
  /** A single-part answer comes back as [ArrayBuffer] (whatever the typings say). */
  retrieveInstanceRendered(options: Uids & { mediaTypes?: { mediaType: string }[] }): Promise<ArrayBuffer[]>;
  retrieveInstance(options: Uids): Promise<ArrayBuffer>;
  retrieveBulkData(options: { BulkDataURI: string }): Promise<ArrayBuffer[]>;
}

interface Uids {
  studyInstanceUID: string;
  seriesInstanceUID: string;
  sopInstanceUID: string;
}

let api: ApiTarget;
let corpus: Corpus;
let client: Client;
let uninstall: () => void;

const uids = (instance: CorpusInstance): Uids => ({
  studyInstanceUID: instance.studyUid,
  seriesInstanceUID: instance.seriesUid,
  sopInstanceUID: instance.sopUid,
});
const byLabel = (label: string): CorpusInstance => corpus.instances.find((i) => i.label === label)!;
const first = (dataset: Dataset | undefined, tag: string): unknown => dataset?.[tag]?.Value?.[0];
const uidsOf = (datasets: Dataset[], tag: string): string[] => datasets.map((d) => String(first(d, tag))).sort();
const same = (a: ArrayBuffer | Uint8Array, b: Uint8Array): boolean => Buffer.from(a as ArrayBuffer).equals(b);

beforeAll(async () => {
  uninstall = installXmlHttpRequest();
  api = await startTarget();
  corpus = buildCorpus();
  await Promise.all(
    corpus.instances.map(async (instance) => {
      const response = await api.fetch('/dicom', { method: 'POST', body: uploadForm(instance.bytes) });
      expect(response.status).toBe(201);
      api.track(((await response.json()) as { id: string }).id);
    }),
  );
  const apiKey = process.env.API_KEY;
  client = new dicomwebClient.DICOMwebClient({
    url: `${api.url}/dicomweb`,
    headers: apiKey ? { 'x-api-key': apiKey } : {},
    singlepart: false,
    verbose: false,
  }) as unknown as Client;
});
afterAll(async () => {
  await api?.close();
  uninstall?.();
});

describe('dicomweb-client against /dicomweb', () => {
  it('searchForStudies, searchForSeries and searchForInstances with queryParams', async () => {
    const [a, b, c] = corpus.studies;
    const studies = await client.searchForStudies({ queryParams: { PatientID: corpus.patientIds[0] } });
    expect(uidsOf(studies, '0020000D')).toEqual([a!.uid, b!.uid].sort());
    const named = await client.searchForStudies({
      queryParams: { PatientName: 'ström*', PatientID: corpus.patientIds[1] },
    });
    expect(uidsOf(named, '0020000D')).toEqual([c!.uid]);

    const series = await client.searchForSeries({ studyInstanceUID: b!.uid, queryParams: { Modality: 'XA' } });
    expect(uidsOf(series, '0020000E')).toEqual([b!.series[1]!.uid]);
    expect(first(series[0], '00201209')).toBe(2);

    const instances = await client.searchForInstances({
      studyInstanceUID: a!.uid,
      seriesInstanceUID: a!.series[0]!.uid,
      queryParams: { includefield: 'all', limit: '2' },
    });
    expect(instances).toHaveLength(2);
    const anywhere = await client.searchForInstances({ queryParams: { PatientID: corpus.patientIds[1] } });
    expect(uidsOf(anywhere, '00080018')).toEqual(c!.series[0]!.instances.map((i) => i.sopUid).sort());
  });

  it('retrieveStudyMetadata, retrieveSeriesMetadata and retrieveInstanceMetadata', async () => {
    const study = corpus.studies[1]!;
    const all = await client.retrieveStudyMetadata({ studyInstanceUID: study.uid });
    expect(uidsOf(all, '00080018')).toEqual(study.series.flatMap((s) => s.instances.map((i) => i.sopUid)).sort());
    const xa = study.series[1]!;
    const series = await client.retrieveSeriesMetadata({ studyInstanceUID: study.uid, seriesInstanceUID: xa.uid });
    expect(series).toHaveLength(2);
    const rle = byLabel('rle frames');
    const [instance] = await client.retrieveInstanceMetadata(uids(rle));
    expect(first(instance, '00080018')).toBe(rle.sopUid);
    expect(first(instance, '00280008')).toBe(3);
    expect(first(instance, '00100010')).toEqual({ Alphabetic: 'Müller^Jürgen' });
  });

  it('retrieveInstanceFrames as stored (octet-stream, transfer syntax *) for native and RLE', async () => {
    for (const label of ['native frames', 'rle frames']) {
      const instance = byLabel(label);
      const frames = await client.retrieveInstanceFrames({
        ...uids(instance),
        frameNumbers: [1, 3],
        mediaTypes: [{ mediaType: 'application/octet-stream', transferSyntaxUID: '*' }],
      });
      expect(frames, label).toHaveLength(2);
      expect(same(frames[0]!, instance.storedFrames![0]!), label).toBe(true);
      expect(same(frames[1]!, instance.storedFrames![2]!), label).toBe(true);
    }
  });

  it('retrieveInstanceRendered as PNG and JPEG', async () => {
    const ct = corpus.studies[0]!.series[0]!.instances[0]!;
    const [png] = await client.retrieveInstanceRendered({ ...uids(ct), mediaTypes: [{ mediaType: 'image/png' }] });
    const image = decode(new Uint8Array(png!));
    expect([image.width, image.height]).toEqual([32, 32]);
    const [jpeg] = await client.retrieveInstanceRendered({ ...uids(ct), mediaTypes: [{ mediaType: 'image/jpeg' }] });
    expect([...new Uint8Array(jpeg!).subarray(0, 2)]).toEqual([0xff, 0xd8]);
  });

  it('retrieveInstance gives the uploaded file back', async () => {
    const rle = byLabel('rle frames');
    expect(same(await client.retrieveInstance(uids(rle)), rle.bytes)).toBe(true);
  });

  it('retrieveBulkData with the BulkDataURI from metadata gives the Pixel Data', async () => {
    const ct = corpus.studies[0]!.series[0]!.instances[1]!;
    const [metadata] = await client.retrieveInstanceMetadata(uids(ct));
    const uri = metadata!['7FE00010']!.BulkDataURI!;
    const parts = await client.retrieveBulkData({ BulkDataURI: uri });
    expect(parts).toHaveLength(1);
    expect(same(parts[0]!, ct.pixelData!)).toBe(true);
  });
});
