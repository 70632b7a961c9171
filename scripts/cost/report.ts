// The bill as text for a person (by service, then the unit costs, the comparison and the capacity checks) and as JSON.
import { ASSUMPTIONS, fmt, type Bill, type Prices, type Workload } from './model.js';
import type { Measurement } from './measure.js';
import type { StackSettings } from './stack-settings.js';

const usd = (n: number): string =>
  n >= 100 ? `$${fmt(n)}` : n >= 1 ? `$${n.toFixed(2)}` : n >= 0.01 ? `$${n.toFixed(3)}` : `$${n.toPrecision(2)}`;

function describeStack(stack: StackSettings): string[] {
  const f = stack.functions;
  const fn = (name: string, s?: { memoryMb: number; architecture: string }) =>
    s ? `${name} ${s.memoryMb} MB` : undefined;
  const projections = new Map<string, number>();
  for (const index of stack.table.indexes)
    projections.set(index.projection, (projections.get(index.projection) ?? 0) + 1);
  const transition = stack.originals[0];
  const plan = stack.usagePlan;
  return [
    `Lambda (${f.processor.architecture}): ${[fn('processor', f.processor), fn('upload', f.upload), fn('png', f.png), fn('authorizer', f.authorizer)].filter(Boolean).join(', ')}`,
    `DynamoDB: ${stack.table.indexes.length} indexes (${[...projections].map(([p, n]) => `${n} ${p}`).join(', ')})${stack.pointInTimeRecovery ? ', point-in-time recovery' : ''}`,
    `originals: ${transition ? `${transition.storageClass} after ${transition.days} days` : 'S3 Standard, never moved'}`,
    `PNG reads: ${f.imageUrls ? `straight from S3 (${stack.derivedStorageClass}) with URLs from GET /dicom/image-urls (${f.imageUrls.memoryMb} MB), or GET /dicom/{id}/png` : 'GET /dicom/{id}/png through API Gateway and Lambda'}`,
    `API: auth ${stack.auth}${plan ? `, usage plan ${plan.rateLimit}/s burst ${plan.burstLimit}${plan.quotaPerDay !== undefined ? `, ${fmt(plan.quotaPerDay)} requests a day` : ', no quota'}` : ''}${stack.stageThrottle ? `, stage ${stack.stageThrottle.rateLimit}/s` : ''}`,
  ];
}

export function textReport(
  bill: Bill,
  workload: Workload,
  stack: StackSettings,
  measured: Measurement,
  prices: Prices,
): string {
  const out: string[] = [];
  const d = bill.details;
  out.push(
    `Monthly bill (${prices.region} list prices of ${prices.as_of}, scripts/cost/prices.json; data transfer out not included)`,
    `workload: ${fmt(workload.files)} files of ${workload.avgMb} MB, ${fmt(workload.uploadsPerDay)} uploads and ${fmt(workload.pngReadsPerDay)} PNG reads a day (${d.png_reads_via === 'urls' ? `straight from S3, ${d.images_per_url_call} images per GET /dicom/image-urls` : 'each through GET /dicom/{id}/png'}); ${Math.round(d.cold_share * 100)}% of the files older than 30 days, ${Math.round(d.moved_share * 100)}% of the originals moved by the lifecycle`,
    ...describeStack(stack).map((line) => `stack: ${line}`),
    ...(Object.keys(stack.context).length
      ? [
          `context: ${Object.entries(stack.context)
            .map(([k, v]) => `-c ${k}=${v}`)
            .join(' ')}`,
        ]
      : []),
    '',
  );

  // By service, each with its largest items.
  const byItem = new Map<string, { service: string; usd: number }>();
  for (const line of bill.lines) {
    const key = `${line.service}\u0000${line.item.replace(/ \(\d+ MB [^)]*\)/, '')}`;
    byItem.set(key, { service: line.service, usd: (byItem.get(key)?.usd ?? 0) + line.usd });
  }
  const services = Object.entries(bill.by_service).sort((a, b) => b[1] - a[1]);
  for (const [service, total] of services) {
    out.push(`${service.padEnd(34)} ${usd(total).padStart(10)}`);
    const items = [...byItem]
      .filter(([, v]) => v.service === service && v.usd >= 0.005)
      .sort((a, b) => b[1].usd - a[1].usd)
      .slice(0, 6);
    for (const [key, v] of items) out.push(`  ${key.split('\u0000')[1]!.padEnd(50)} ${usd(v.usd).padStart(10)}`);
  }
  out.push(`${'total a month'.padEnd(34)} ${usd(bill.monthly_usd_total).padStart(10)}`, '');

  const wu = d.write_units_per_file;
  const share = (n: number) => `${Math.round((n / Math.max(1e-9, wu.table + wu.indexes)) * 100)}%`;
  out.push(
    `per million files ingested:  ${usd(bill.usd_per_million_ingested)} (${wu.table + wu.indexes} write units a file, ${share(wu.indexes)} of them in indexes)`,
    `per million PNG reads:       ${usd(bill.usd_per_million_png_reads)}${
      bill.usd_per_million_png_reads_via_urls !== undefined
        ? ` (image URLs, ${d.images_per_url_call} a call: ${usd(bill.usd_per_million_png_reads_via_urls)}; GET /dicom/{id}/png: ${usd(bill.usd_per_million_png_reads_via_api)})`
        : ''
    }`,
    `per million listing pages:   ${usd(bill.usd_per_million_listing_pages)} (not in the total)`,
    `AWS HealthImaging, same archive and calls: ${usd(bill.healthimaging.monthly_usd_total)} a month (storage ${usd(bill.healthimaging.storage_usd)}, API calls ${usd(bill.healthimaging.calls_usd)})`,
    '',
  );
  for (const check of bill.capacity)
    out.push(`${check.fits ? 'fits' : 'DOES NOT FIT'}: ${check.check}: ${check.detail}`);

  const calls = (c: Record<string, number>) =>
    Object.entries(c)
      .map(([name, n]) => `${name}${n > 1 ? ` x${n}` : ''}`)
      .join(', ');
  out.push(
    '',
    `measured on the local runtime (round-trips.ts, this machine): upload ${calls(measured.upload.calls)}; processing ${calls(measured.processing.calls)}; PNG read ${calls(measured.png.calls)}; image URLs for ${measured.imageUrlsImages} files ${calls(measured.imageUrls.calls)}`,
    `  write units by index per file: ${Object.entries(wu.by_index)
      .map(([name, n]) => `${name} ${n}`)
      .join(', ')}`,
    `  processor DICOM work ${measured.processingCpuMs.toFixed(1)} ms on ${measured.representative.source}; Lambda ms billed as measured / vCPU share + ${ASSUMPTIONS.s3RequestMs} ms per S3 and ${ASSUMPTIONS.dynamodbRequestMs} ms per DynamoDB request (assumed in-region latencies): upload ${d.lambda_ms.upload}, processor ${d.lambda_ms.processor}, png ${d.lambda_ms.png}${d.lambda_ms.image_urls !== undefined ? `, image-urls ${d.lambda_ms.image_urls} (a call of ${d.images_per_url_call} images: measured for ${measured.imageUrlsImages}, scaled)` : ''}`,
  );
  return out.join('\n');
}

export function jsonReport(
  bill: Bill,
  workload: Workload,
  stack: StackSettings,
  measured: Measurement,
  prices: Prices,
): Record<string, unknown> {
  return {
    monthly_usd_total: round(bill.monthly_usd_total),
    usd_per_million_ingested: round(bill.usd_per_million_ingested),
    usd_per_million_png_reads: round(bill.usd_per_million_png_reads),
    usd_per_million_png_reads_via_api: round(bill.usd_per_million_png_reads_via_api),
    ...(bill.usd_per_million_png_reads_via_urls !== undefined
      ? { usd_per_million_png_reads_via_urls: round(bill.usd_per_million_png_reads_via_urls) }
      : {}),
    png_reads_via: bill.details.png_reads_via,
    images_per_url_call: bill.details.images_per_url_call,
    usd_per_million_listing_pages: round(bill.usd_per_million_listing_pages),
    by_service: Object.fromEntries(Object.entries(bill.by_service).map(([k, v]) => [k, round(v)])),
    healthimaging: {
      monthly_usd_total: round(bill.healthimaging.monthly_usd_total),
      storage_usd: round(bill.healthimaging.storage_usd),
      calls_usd: round(bill.healthimaging.calls_usd),
    },
    capacity: bill.capacity,
    workload,
    stack,
    write_units_per_file: bill.details.write_units_per_file,
    stored_bytes_per_file: bill.details.stored_bytes_per_file,
    lambda_ms: bill.details.lambda_ms,
    cold_share: bill.details.cold_share,
    moved_share: bill.details.moved_share,
    measured: {
      upload: measured.upload,
      processing: measured.processing,
      png: measured.png,
      listing_page: measured.listingPage,
      image_urls: { ...measured.imageUrls, images: measured.imageUrlsImages },
      processing_cpu_ms: measured.processingCpuMs,
      representative: measured.representative,
      derived_bytes: measured.derivedBytes,
    },
    lines: bill.lines.map((line) => ({ ...line, usd: round(line.usd) })),
    prices_as_of: prices.as_of,
    assumptions: ASSUMPTIONS,
  };
}

const round = (n: number): number => Math.round(n * 100) / 100;
