// DICOMweb e2e support: a small synthetic corpus (2 patients, 3 studies, 5 series) and a multipart/related reader.
import { randomInt } from 'node:crypto';
import {
  buildDicom,
  buildEncapsulatedDicom,
  encodeRleFrame,
  imageElements,
  TS,
  type FixtureElement,
  pixelModuleElements,
} from '../fixtures/dicom-builder.js';

export interface CorpusInstance {
  label: string;
  bytes: Uint8Array;
  studyUid: string;
  seriesUid: string;
  sopUid: string;
  modality: string;
  /** Native Pixel Data bytes as stored (the BulkDataURI's content). */
  pixelData?: Uint8Array;
  /** Each frame's native pixels (decoded, for compressed files). */
  framePixels?: Uint8Array[];
  /** Each frame's bytes as stored (the RLE fragments). */
  storedFrames?: Uint8Array[];
}

export interface CorpusSeries {
  uid: string;
  modality: string;
  instances: CorpusInstance[];
}

export interface CorpusStudy {
  uid: string;
  patientId: string;
  patientName: string;
  studyDate: string;
  series: CorpusSeries[];
}

export interface Corpus {
  studies: CorpusStudy[];
  instances: CorpusInstance[];
  /** PatientIDs unique to this run (a deployed stage holds other files too). */
  patientIds: [string, string];
  /** A UID root unique to this run, for UIDs made by the tests themselves. */
  uidRoot: string;
}

/** A UID root no other run shares: 2.25 (UUID-derived) plus 18 random digits. */
export function uniqueUidRoot(): string {
  return `2.25.${randomInt(1, 2 ** 47)}${String(randomInt(0, 1_000_000)).padStart(6, '0')}`;
}

const text = (tag: number, vr: string, value: string): FixtureElement => ({ tag, vr, value });

interface Identity {
  patient: { name: string | Uint8Array; id: string; charset: string };
  study: { uid: string; date: string; time: string; accession: string; description: string };
  series: { uid: string; number: number; modality: string; description: string };
  instanceNumber: number;
}

function identityElements(o: Identity): FixtureElement[] {
  return [
    { tag: 0x00080005, vr: 'CS', value: o.patient.charset },
    { tag: 0x00100010, vr: 'PN', value: o.patient.name },
    text(0x00100020, 'LO', o.patient.id),
    text(0x00100040, 'CS', 'O'),
    text(0x00080020, 'DA', o.study.date),
    text(0x00080030, 'TM', o.study.time),
    text(0x00080050, 'SH', o.study.accession),
    text(0x00081030, 'LO', o.study.description),
    text(0x0020000d, 'UI', o.study.uid),
    text(0x00200010, 'SH', 'S1'),
    text(0x0020000e, 'UI', o.series.uid),
    text(0x00200011, 'IS', String(o.series.number)),
    text(0x00080060, 'CS', o.series.modality),
    text(0x0008103e, 'LO', o.series.description),
    text(0x00200013, 'IS', String(o.instanceNumber)),
  ];
}

/** A 32x32 16-bit CT slice (2 KB of Pixel Data: above the 1 KB inline limit, so it is a BulkDataURI). */
function ctSlice(
  identity: Identity,
  sopUid: string,
  seed: number,
  sopClassUid: string,
): { bytes: Uint8Array; pixelData: Uint8Array } {
  const pixels: number[] = [];
  for (let i = 0; i < 32 * 32; i++) pixels.push((i * 2 + seed * 7) % 2048);
  const image = imageElements({
    rows: 32,
    columns: 32,
    pixels,
    rescale: { slope: 1, intercept: -1024 },
    window: { center: 40, width: 400 },
  });
  const pixelData = image.find((e) => e.tag === 0x7fe00010)!.value as Uint8Array;
  return {
    bytes: buildDicom([...identityElements(identity), ...image], { sopInstanceUid: sopUid, sopClassUid }),
    pixelData,
  };
}

const CT_IMAGE = '1.2.840.10008.5.1.4.1.1.2';
const MR_IMAGE = '1.2.840.10008.5.1.4.1.1.4';
const XA_IMAGE = '1.2.840.10008.5.1.4.1.1.12.1';
const BASIC_TEXT_SR = '1.2.840.10008.5.1.4.1.1.88.11';

/** An 8-bit 16x16 frame: a gradient shifted by the frame number (every frame and pixel tell apart). */
function framePixels(frame: number): Uint8Array {
  const pixels = new Uint8Array(16 * 16);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i + frame * 40) & 0xff;
  return pixels;
}

function multiFrameElements(frames: number): FixtureElement[] {
  return [
    ...pixelModuleElements({ rows: 16, columns: 16, frames }),
    text(0x00281050, 'DS', '128'),
    text(0x00281051, 'DS', '256'),
  ];
}

/**
 * Patient A (UTF-8 name): study 1 (CT: 3 slices + an SR without pixel data), study 2 (MR: 2 slices; XA: a native and
 * an RLE multi-frame of 3 frames each). Patient B (Latin-1 name): study 3 (CT: 2 slices). 10 instances in all.
 */
export function buildCorpus(): Corpus {
  const root = uniqueUidRoot();
  const patientIds: [string, string] = [`PA-${root.slice(-10)}`, `PB-${root.slice(-10)}`];
  const patientA = { name: 'Müller^Jürgen', id: patientIds[0], charset: 'ISO_IR 192' };
  const patientB = {
    name: new Uint8Array(Buffer.from('Ström^Åsa', 'latin1')),
    id: patientIds[1],
    charset: 'ISO_IR 100',
  };
  const studies: CorpusStudy[] = [];
  const instances: CorpusInstance[] = [];
  const plan = [
    {
      patient: patientA,
      patientName: 'Müller^Jürgen',
      date: '20230110',
      time: '081500',
      series: [
        { modality: 'CT', kinds: ['ct', 'ct', 'ct'] },
        { modality: 'SR', kinds: ['sr'] },
      ],
    },
    {
      patient: patientA,
      patientName: 'Müller^Jürgen',
      date: '20230615',
      time: '143000',
      series: [
        { modality: 'MR', kinds: ['ct', 'ct'] },
        { modality: 'XA', kinds: ['native-frames', 'rle-frames'] },
      ],
    },
    {
      patient: patientB,
      patientName: 'Ström^Åsa',
      date: '20240301',
      time: '091000',
      series: [{ modality: 'CT', kinds: ['ct', 'ct'] }],
    },
  ] as const;
  plan.forEach((studyPlan, s) => {
    const studyUid = `${root}.${s + 1}`;
    const study: CorpusStudy = {
      uid: studyUid,
      patientId: studyPlan.patient.id,
      patientName: studyPlan.patientName,
      studyDate: studyPlan.date,
      series: [],
    };
    studyPlan.series.forEach((seriesPlan, r) => {
      const seriesUid = `${studyUid}.${r + 1}`;
      const series: CorpusSeries = { uid: seriesUid, modality: seriesPlan.modality, instances: [] };
      seriesPlan.kinds.forEach((kind, i) => {
        const sopUid = `${seriesUid}.${i + 1}`;
        const identity: Identity = {
          patient: studyPlan.patient,
          study: {
            uid: studyUid,
            date: studyPlan.date,
            time: studyPlan.time,
            accession: `ACC${s + 1}`,
            description: `STUDY ${s + 1}`,
          },
          series: { uid: seriesUid, number: r + 1, modality: seriesPlan.modality, description: `SERIES ${r + 1}` },
          instanceNumber: i + 1,
        };
        const base = { studyUid, seriesUid, sopUid, modality: seriesPlan.modality };
        let instance: CorpusInstance;
        if (kind === 'ct') {
          const sopClass = seriesPlan.modality === 'MR' ? MR_IMAGE : CT_IMAGE;
          const slice = ctSlice(identity, sopUid, s * 10 + r * 3 + i, sopClass);
          instance = { ...base, label: `image ${s + 1}.${r + 1}.${i + 1}`, ...slice };
        } else if (kind === 'sr') {
          const bytes = buildDicom(
            [
              ...identityElements(identity),
              text(0x0040a491, 'CS', 'COMPLETE'),
              text(0x0040a493, 'CS', 'UNVERIFIED'),
              text(0x0040a040, 'CS', 'CONTAINER'),
            ],
            { sopInstanceUid: sopUid, sopClassUid: BASIC_TEXT_SR },
          );
          instance = { ...base, label: 'sr', bytes };
        } else {
          const frames = [0, 1, 2].map(framePixels);
          const elements = [...identityElements(identity), ...multiFrameElements(frames.length)];
          if (kind === 'native-frames') {
            const pixelData = new Uint8Array(frames.length * 256);
            frames.forEach((frame, f) => pixelData.set(frame, f * 256));
            const bytes = buildDicom([...elements, { tag: 0x7fe00010, vr: 'OB', value: pixelData }], {
              sopInstanceUid: sopUid,
              sopClassUid: XA_IMAGE,
            });
            instance = { ...base, label: 'native frames', bytes, pixelData, framePixels: frames, storedFrames: frames };
          } else {
            const storedFrames = frames.map((frame) =>
              encodeRleFrame(frame, { rows: 16, columns: 16, bitsAllocated: 8 }),
            );
            const bytes = buildEncapsulatedDicom(
              elements,
              storedFrames.map((frame) => [frame]),
              { transferSyntax: TS.rle, sopInstanceUid: sopUid, sopClassUid: XA_IMAGE },
            );
            instance = { ...base, label: 'rle frames', bytes, framePixels: frames, storedFrames };
          }
        }
        series.instances.push(instance);
        instances.push(instance);
      });
      study.series.push(series);
    });
    studies.push(study);
  });
  return { studies, instances, patientIds, uidRoot: root };
}

/** The parts of a multipart/related body, with each part's headers (lower-case names) and bytes. */
export function parseMultipartRelated(
  contentType: string | null,
  body: Uint8Array,
): { headers: Record<string, string>; bytes: Uint8Array }[] {
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType ?? '')?.[1];
  if (!boundary) throw new Error(`no boundary in ${contentType}`);
  const buffer = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const delimiter = Buffer.from(`--${boundary}`, 'latin1');
  const parts: { headers: Record<string, string>; bytes: Uint8Array }[] = [];
  let at = buffer.indexOf(delimiter);
  if (at !== 0) throw new Error('the body does not start with the boundary');
  for (;;) {
    const afterDelimiter = at + delimiter.length;
    if (buffer.subarray(afterDelimiter, afterDelimiter + 2).toString('latin1') === '--') return parts;
    const headersEnd = buffer.indexOf('\r\n\r\n', afterDelimiter, 'latin1');
    const headers: Record<string, string> = {};
    for (const line of buffer
      .subarray(afterDelimiter + 2, headersEnd)
      .toString('latin1')
      .split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const next = buffer.indexOf(Buffer.concat([Buffer.from('\r\n', 'latin1'), delimiter]), headersEnd + 4);
    if (next < 0) throw new Error('a part is not closed by the boundary');
    parts.push({ headers, bytes: new Uint8Array(buffer.subarray(headersEnd + 4, next)) });
    at = next + 2;
  }
}

/** One more CT slice in a study and series of the test's choosing (for the count and delete tests). */
export function extraSlice(o: {
  studyUid: string;
  seriesUid: string;
  sopUid: string;
  patientId: string;
  seriesNumber: number;
  instanceNumber: number;
}): Uint8Array {
  const identity: Identity = {
    patient: { name: 'COUNT^TEST', id: o.patientId, charset: 'ISO_IR 192' },
    study: { uid: o.studyUid, date: '20220202', time: '120000', accession: 'ACCC', description: 'COUNTS' },
    series: { uid: o.seriesUid, number: o.seriesNumber, modality: 'CT', description: `SERIES ${o.seriesNumber}` },
    instanceNumber: o.instanceNumber,
  };
  return ctSlice(identity, o.sopUid, o.instanceNumber, CT_IMAGE).bytes;
}
