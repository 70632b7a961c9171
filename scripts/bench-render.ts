// `npm run bench:render`: per transfer syntax, decode / render / encode ms per megapixel over the corpus,
// beside a naive pipeline (min-max to 8 bits, no LUTs), and the peak RSS of the run.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseDicom } from '../lambdas/dicom/parse.js';
import { decodeFrameAsync, describeTransferSyntax, type DecodedFrame } from '../lambdas/dicom/pixels.js';
import { encodePng } from '../lambdas/dicom/png.js';
import { renderDecodedFrame, type RenderedImage } from '../lambdas/dicom/render.js';
import { median } from './bench-stats.js';

const samplesDir = resolve(process.env.DICOM_SAMPLES ?? join(import.meta.dirname, '../../shared/dicom-samples'));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

/** The pipeline a naive service runs: sample min-max to 0..255, nothing the file asks for. */
function naiveRender(frame: DecodedFrame): RenderedImage {
  const { samples, layout } = frame;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < samples.length; i++) {
    const v = samples[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const scale = max > min ? 255 / (max - min) : 0;
  const data = new Uint8Array(samples.length);
  for (let i = 0; i < samples.length; i++) data[i] = (samples[i]! - min) * scale;
  return { width: layout.columns, height: layout.rows, channels: layout.samplesPerPixel === 3 ? 3 : 1, data };
}

interface Totals {
  files: number;
  megapixels: number;
  decode: number;
  render: number;
  encode: number;
  naiveRender: number;
  naiveEncode: number;
}

const bySyntax = new Map<string, Totals>();
for (const file of readdirSync(samplesDir).filter((f) => f.endsWith('.dcm'))) {
  let parsed;
  try {
    parsed = parseDicom(readFileSync(join(samplesDir, file)));
    await decodeFrameAsync(parsed, 0); // first decode loads the codec: not what a warm Lambda pays
  } catch {
    continue; // not DICOM, no image, or not decodable: nothing to time
  }
  const times = {
    decode: [] as number[],
    render: [] as number[],
    encode: [] as number[],
    naiveRender: [] as number[],
    naiveEncode: [] as number[],
  };
  let megapixels = 0;
  for (let round = 0; round < ROUNDS; round++) {
    let started = performance.now();
    const frame = await decodeFrameAsync(parsed, 0);
    times.decode.push(performance.now() - started);
    started = performance.now();
    const image = renderDecodedFrame(parsed, frame, 0);
    times.render.push(performance.now() - started);
    started = performance.now();
    encodePng(image);
    times.encode.push(performance.now() - started);
    started = performance.now();
    const naive = naiveRender(frame);
    times.naiveRender.push(performance.now() - started);
    started = performance.now();
    encodePng(naive);
    times.naiveEncode.push(performance.now() - started);
    megapixels = (image.width * image.height) / 1e6;
  }
  const syntax = describeTransferSyntax(parsed.transferSyntaxUid);
  const totals = bySyntax.get(syntax) ?? {
    files: 0,
    megapixels: 0,
    decode: 0,
    render: 0,
    encode: 0,
    naiveRender: 0,
    naiveEncode: 0,
  };
  totals.files++;
  totals.megapixels += megapixels;
  for (const key of ['decode', 'render', 'encode', 'naiveRender', 'naiveEncode'] as const)
    totals[key] += median(times[key]);
  bySyntax.set(syntax, totals);
}

const perMp = (ms: number, mp: number): string => (ms / mp).toFixed(1).padStart(8);
console.log(`Frame 1 of each corpus image, median of ${ROUNDS}, codecs warm; ms per megapixel:`);
console.log(`${'transfer syntax'.padEnd(52)} files    MP  decode  render  encode | naive render  encode`);
for (const [syntax, t] of [...bySyntax.entries()].sort()) {
  console.log(
    `${syntax.slice(0, 52).padEnd(52)} ${String(t.files).padStart(5)} ${t.megapixels.toFixed(1).padStart(5)}${perMp(t.decode, t.megapixels)}${perMp(t.render, t.megapixels)}${perMp(t.encode, t.megapixels)} |${perMp(t.naiveRender, t.megapixels)}${perMp(t.naiveEncode, t.megapixels)}`,
  );
}
console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
