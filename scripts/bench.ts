// `npm run bench`: prints numbers (never asserts): PNG encoder comparison and upload-to-PNG latency.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { constants } from 'node:zlib';
import { encode as fastPngEncode } from 'fast-png';
import UPNG from 'upng-js';
import { buildAttributes } from '../lambdas/dicom/attributes.js';
import { parseDicom } from '../lambdas/dicom/parse.js';
import { encodePng } from '../lambdas/dicom/png.js';
import { renderFrameAsync, type RenderedImage } from '../lambdas/dicom/render.js';
import { median } from './bench-stats.js';

const samplesDir = resolve(process.env.DICOM_SAMPLES ?? join(import.meta.dirname, '../../shared/dicom-samples'));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;
}

function toRgba(image: RenderedImage): ArrayBuffer {
  const rgba = new Uint8Array(image.width * image.height * 4);
  for (let i = 0, j = 0; i < image.width * image.height; i++, j += 4) {
    const o = i * image.channels;
    rgba[j] = image.data[o]!;
    rgba[j + 1] = image.data[o + (image.channels === 3 ? 1 : 0)]!;
    rgba[j + 2] = image.data[o + (image.channels === 3 ? 2 : 0)]!;
    rgba[j + 3] = 255;
  }
  return rgba.buffer;
}

async function renderedCorpus(): Promise<{ file: string; image: RenderedImage }[]> {
  const out: { file: string; image: RenderedImage }[] = [];
  for (const file of readdirSync(samplesDir).filter((f) => f.endsWith('.dcm'))) {
    try {
      out.push({ file, image: await renderFrameAsync(parseDicom(readFileSync(join(samplesDir, file))), 0) });
    } catch {
      // not renderable (yet): not part of the encoder comparison
    }
  }
  return out;
}

async function benchEncoders(): Promise<void> {
  const images = await renderedCorpus();
  const totals = {
    ours: 0,
    fastPng: 0,
    upng: 0,
    level3: 0,
    oursBytes: 0,
    fastPngBytes: 0,
    upngBytes: 0,
    level3Bytes: 0,
  };
  for (const { image } of images) {
    let t = performance.now();
    totals.oursBytes += encodePng(image).length;
    totals.ours += performance.now() - t;
    t = performance.now();
    totals.level3Bytes += encodePng(image, { level: 3, strategy: constants.Z_DEFAULT_STRATEGY }).length;
    totals.level3 += performance.now() - t;
    t = performance.now();
    totals.fastPngBytes += fastPngEncode({
      width: image.width,
      height: image.height,
      data: image.data,
      channels: image.channels,
      depth: 8,
    }).length;
    totals.fastPng += performance.now() - t;
    t = performance.now();
    totals.upngBytes += (UPNG.encode([toRgba(image)], image.width, image.height, 0) as ArrayBuffer).byteLength;
    totals.upng += performance.now() - t;
  }
  console.log(`PNG encoders over ${images.length} rendered corpus images (frame 1):`);
  console.log(
    `  encodePng (ours)  ${totals.ours.toFixed(0).padStart(6)} ms  ${(totals.oursBytes / 1e6).toFixed(2)} MB  (zlib Z_RLE)`,
  );
  console.log(
    `  zlib level 3      ${totals.level3.toFixed(0).padStart(6)} ms  ${(totals.level3Bytes / 1e6).toFixed(2)} MB  (default strategy)`,
  );
  console.log(
    `  fast-png          ${totals.fastPng.toFixed(0).padStart(6)} ms  ${(totals.fastPngBytes / 1e6).toFixed(2)} MB`,
  );
  console.log(
    `  upng-js (RGBA)    ${totals.upng.toFixed(0).padStart(6)} ms  ${(totals.upngBytes / 1e6).toFixed(2)} MB`,
  );
}

/** Parse + attribute JSON per corpus file: the processor's attribute step and the upload's validation. */
function benchAttributes(): void {
  console.log('Attribute extraction (parse + attributes JSON), median of 5, per file:');
  let totalMs = 0;
  let totalBytes = 0;
  for (const file of readdirSync(samplesDir).filter((f) => f.endsWith('.dcm'))) {
    const bytes = readFileSync(join(samplesDir, file));
    const times: number[] = [];
    let keys = 0;
    try {
      for (let i = 0; i < 5; i++) {
        const started = performance.now();
        const document = buildAttributes(parseDicom(bytes));
        JSON.stringify(document);
        times.push(performance.now() - started);
        keys = document.count;
      }
    } catch {
      continue; // not DICOM: rejected at upload, nothing to extract
    }
    const ms = median(times);
    totalMs += ms;
    totalBytes += bytes.length;
    console.log(
      `  ${file.padEnd(34)} ${ms.toFixed(2).padStart(7)} ms  ${(ms / (bytes.length / 1e6)).toFixed(2).padStart(7)} ms/MB  ${keys} attributes`,
    );
  }
  console.log(
    `  all files: ${totalMs.toFixed(1)} ms for ${(totalBytes / 1e6).toFixed(1)} MB = ${(totalMs / (totalBytes / 1e6)).toFixed(2)} ms/MB`,
  );
}

async function benchUploadToPng(): Promise<void> {
  process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT'; // numbers only: the audit trail (INFO unless SILENT) would drown them
  const { startTestRuntime, uploadForm } = await import('../test/support/runtime.js');
  const api = await startTestRuntime();
  const files = [
    'ct-explicit-le-window.dcm',
    'us-rgb-planar0.dcm',
    'ct-jpeg-lossless-70.dcm',
    'mr-enhanced-multiframe.dcm',
  ];
  try {
    for (const file of files) {
      const bytes = readFileSync(join(samplesDir, file));
      const times: number[] = [];
      let status = 0;
      for (let round = 0; round < ROUNDS + 1; round++) {
        const started = performance.now();
        const upload = (await (
          await fetch(`${api.url}/dicom`, { method: 'POST', body: uploadForm(bytes, file) })
        ).json()) as { id: string };
        const png = await fetch(`${api.url}/dicom/${upload.id}/png`);
        await png.arrayBuffer();
        status = png.status;
        if (round > 0) times.push(performance.now() - started); // round 0 warms the worker
        await fetch(`${api.url}/dicom/${upload.id}`, { method: 'DELETE' });
      }
      console.log(
        `  ${file.padEnd(30)} PNG ${status}  median ${median(times).toFixed(1)} ms  p95 ${percentile(times, 0.95).toFixed(1)} ms  (${ROUNDS} rounds)`,
      );
    }
  } finally {
    await api.destroy();
  }
}

/** Upload -> READY through POST /dicom/uploads (presigned PUT to the embedded S3), synthetic multi-frame files. */
async function benchLargeUploads(): Promise<void> {
  process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT'; // numbers only: the audit trail (INFO unless SILENT) would drown them
  const { startTestRuntime } = await import('../test/support/runtime.js');
  const { multiFrameMono8 } = await import('../test/fixtures/dicom-builder.js');
  const api = await startTestRuntime();
  const files = [
    {
      label: '0.5 MB (512 x 512 x 2 frames)',
      bytes: multiFrameMono8({ rows: 512, columns: 512, frames: 2 }),
      rounds: 20,
    },
    {
      label: '50 MB (1024 x 1024 x 48 frames)',
      bytes: multiFrameMono8({ rows: 1024, columns: 1024, frames: 48 }),
      rounds: 8,
    },
  ];
  try {
    for (const { label, bytes, rounds } of files) {
      const total: number[] = [];
      const afterPut: number[] = [];
      for (let round = 0; round < rounds + 1; round++) {
        const started = performance.now();
        const start = (await (
          await fetch(`${api.url}/dicom/uploads`, {
            method: 'POST',
            body: JSON.stringify({ filename: 'bench.dcm', size_bytes: bytes.length, multipart: false }),
          })
        ).json()) as { id: string; upload_url: string; upload_headers: Record<string, string> };
        await fetch(start.upload_url, { method: 'PUT', body: bytes, headers: start.upload_headers });
        const uploaded = performance.now();
        let status = 'PROCESSING';
        while (status === 'PROCESSING') {
          // A short pause: s3rver shares this thread with the HTTP server being polled.
          await new Promise((resolve) => setTimeout(resolve, 5));
          status = ((await (await fetch(`${api.url}/dicom/${start.id}`)).json()) as { status: string }).status;
        }
        if (status !== 'READY') throw new Error(`bench file ended ${status}`);
        if (round > 0) {
          // round 0 warms the worker
          total.push(performance.now() - started);
          afterPut.push(performance.now() - uploaded);
        }
        await fetch(`${api.url}/dicom/${start.id}`, { method: 'DELETE' });
      }
      console.log(
        `  ${label.padEnd(32)} POST+PUT->READY p50 ${median(total).toFixed(0)} ms  p95 ${percentile(total, 0.95).toFixed(0)} ms` +
          `  (after the PUT: p50 ${median(afterPut).toFixed(0)} ms, p95 ${percentile(afterPut, 0.95).toFixed(0)} ms; ${rounds} rounds)`,
      );
    }
  } finally {
    await api.destroy();
  }
}

/**
 * GET /png with parameters on the local runtime: the first request of a process (loads the render
 * pipeline and the codec), then misses (cached rendering deleted first: read + decode + render +
 * store) and hits (read from the cache). The CR goes through the large-file route, as it must (7.2 MB).
 */
async function benchRenderings(): Promise<void> {
  process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT'; // numbers only: the audit trail (INFO unless SILENT) would drown them
  const { startTestRuntime, uploadForm } = await import('../test/support/runtime.js');
  const { getStores } = await import('../lambdas/commons.js');
  const { resolveRendering } = await import('../lambdas/http/png-query.js');
  const { readFrameForRendering } = await import('../lambdas/dicom/frame-source.js');
  const api = await startTestRuntime();
  const cases = [
    { file: 'xa-multiframe-96-jpeg.dcm', query: { frame: 50 }, search: 'frame=50' },
    { file: 'ct-explicit-le-window.dcm', query: { window: { center: -600, width: 1500 } }, search: 'window=-600,1500' },
    { file: 'cr-large-uncompressed.dcm', query: { box: { width: 256, height: 256 } }, search: 'max=256' },
    { file: 'cr-large-uncompressed.dcm', query: { box: { width: 1024, height: 1024 } }, search: 'max=1024' },
  ];
  const ids = new Map<string, string>();
  async function store(file: string, bytes: Uint8Array): Promise<string> {
    if (bytes.length < 4_000_000) {
      const response = await fetch(`${api.url}/dicom`, { method: 'POST', body: uploadForm(bytes, file) });
      return ((await response.json()) as { id: string }).id;
    }
    const start = (await (
      await fetch(`${api.url}/dicom/uploads`, {
        method: 'POST',
        body: JSON.stringify({ filename: file, size_bytes: bytes.length, multipart: false }),
      })
    ).json()) as { id: string; upload_url: string; upload_headers: Record<string, string> };
    await fetch(start.upload_url, { method: 'PUT', body: bytes, headers: start.upload_headers });
    return start.id;
  }
  async function timed(path: string): Promise<number> {
    const started = performance.now();
    const response = await fetch(`${api.url}${path}`);
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`${path}: ${response.status}`);
    return performance.now() - started;
  }
  try {
    for (const { file, query, search } of cases) {
      const bytes = new Uint8Array(readFileSync(join(samplesDir, file)));
      let id = ids.get(file);
      if (!id) {
        id = await store(file, bytes);
        ids.set(file, id);
        await timed(`/dicom/${id}/png`); // waits for the processor
      }
      const record = (await (await fetch(`${api.url}/dicom/${id}`)).json()) as {
        number_of_frames: number | null;
        dicom_info: { ImageDimensions: { rows: number; columns: number } };
      };
      const { rows, columns } = record.dicom_info.ImageDimensions;
      const rendering = resolveRendering(id, query, {
        width: columns,
        height: rows,
        frames: record.number_of_frames ?? 1,
      });
      const path = `/dicom/${id}/png?${search}`;
      const first = await timed(path);
      const misses: number[] = [];
      const hits: number[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        await getStores().objects.delete([rendering.key]);
        misses.push(await timed(path));
        hits.push(await timed(path));
      }
      const source = {
        read: async (start: number, end: number) => ({ bytes: bytes.subarray(start, end), size: bytes.length }),
      };
      const { bytesRead } = await readFrameForRendering(source, rendering.frameIndex);
      const label = `${file} ?${search}`;
      console.log(
        `  ${label.padEnd(44)} first ${first.toFixed(0).padStart(4)} ms (${rendering.source})  ` +
          `miss p50 ${median(misses).toFixed(0).padStart(4)} ms  hit p50 ${median(hits).toFixed(1).padStart(5)} ms  ` +
          `read ${(bytesRead / 1024).toFixed(0)} of ${(bytes.length / 1024).toFixed(0)} KB  (${ROUNDS} rounds)`,
      );
    }
  } finally {
    await api.destroy();
  }
}

console.log(
  'Listing and search on the local runtime (scripts/bench-listing.ts; records written through the RecordStore):',
);
await (await import('./bench-listing.js')).benchListing();

console.log(
  'DICOMweb on the local runtime (scripts/bench-dicomweb.ts; QIDO from the indexes, WADO metadata made at ingest):',
);
await (await import('./bench-dicomweb.js')).benchDicomweb();

console.log('Large-file route: upload -> READY on the local runtime (presigned PUT, sequential):');
await benchLargeUploads();

if (!existsSync(samplesDir)) {
  console.log(`bench: no corpus at ${samplesDir} (set DICOM_SAMPLES)`);
} else {
  benchAttributes();
  await benchEncoders();
  console.log('Upload -> PNG on the local runtime (sequential, emulated S3 + DynamoDB in the path):');
  await benchUploadToPng();
  console.log('On-demand renderings on the local runtime (GET /png with parameters; a miss renders and stores):');
  await benchRenderings();
}
