// `npm run cost -- --files N --uploads-per-day U --png-reads-per-day R [--avg-mb M] [--cold-share S]
// [--png-reads-via urls|api] [--images-per-url-call K] [-c k=v] [--json]`: the monthly bill of that workload on this
// stack, by service, with the cost per million files ingested and per million PNG reads (straight from S3 with image
// URLs, and through GET /dicom/{id}/png), and AWS HealthImaging's price for the same archive. Settings come from the synthesized stack
// (`-c` as with cdk deploy), request counts from the code run on the local runtime, prices from scripts/cost/prices.json.
import { parseArgs } from 'node:util';
import { ENV, parseListingIndexes } from '../lambdas/config.js';
import { MAX_RECORDS_PER_READ } from '../lambdas/store/records.js';
import { measure } from './cost/measure.js';
import { computeBill, type Workload } from './cost/model.js';
import { loadPrices } from './cost/prices.js';
import { jsonReport, textReport } from './cost/report.js';
import { accessLogLineBytes, readStackSettings } from './cost/stack-settings.js';

const USAGE =
  'usage: npm run cost -- --files N --uploads-per-day U --png-reads-per-day R [--avg-mb M] [--cold-share S] [--png-reads-via urls|api] [--images-per-url-call K] [-c name=value ...] [--json]';

function parse(argv: string[]): { workload: Workload; context: Record<string, string>; json: boolean } {
  const { values } = parseArgs({
    args: argv,
    options: {
      files: { type: 'string' },
      'uploads-per-day': { type: 'string' },
      'png-reads-per-day': { type: 'string' },
      'avg-mb': { type: 'string', default: '0.5' },
      'cold-share': { type: 'string' },
      'png-reads-via': { type: 'string' },
      'images-per-url-call': { type: 'string' },
      context: { type: 'string', short: 'c', multiple: true },
      json: { type: 'boolean', default: false },
    },
  });
  const number = (name: keyof typeof values, min = 0, max = Infinity): number | undefined => {
    const text = values[name];
    if (text === undefined) return undefined;
    const n = Number(String(text).replaceAll('_', '').replaceAll(',', ''));
    if (!Number.isFinite(n) || n < min || n > max)
      throw new Error(`--${name}=${String(text)}: not a number in range\n${USAGE}`);
    return n;
  };
  const files = number('files');
  const uploadsPerDay = number('uploads-per-day');
  const pngReadsPerDay = number('png-reads-per-day');
  if (files === undefined || uploadsPerDay === undefined || pngReadsPerDay === undefined) throw new Error(USAGE);
  const coldShare = number('cold-share', 0, 0.999);
  const via = values['png-reads-via']?.toLowerCase();
  if (via !== undefined && via !== 'urls' && via !== 'api') throw new Error(`--png-reads-via=${via}: use urls or api`);
  const perCall = number('images-per-url-call', 1, MAX_RECORDS_PER_READ);
  if (perCall !== undefined && !Number.isInteger(perCall))
    throw new Error(`--images-per-url-call=${perCall}: a whole number from 1 to ${MAX_RECORDS_PER_READ}`);
  const context = Object.fromEntries(
    (values.context ?? []).map((pair) => {
      const at = pair.indexOf('=');
      if (at < 1) throw new Error(`-c ${pair}: use -c name=value`);
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );
  return {
    workload: {
      files,
      uploadsPerDay,
      pngReadsPerDay,
      avgMb: number('avg-mb', 0.001)!,
      ...(coldShare !== undefined ? { coldShare } : {}),
      ...(via ? { pngReadsVia: via } : {}),
      ...(perCall !== undefined ? { imagesPerUrlCall: perCall } : {}),
    },
    context,
    json: values.json ?? false,
  };
}

async function main(): Promise<void> {
  const { workload, context, json } = parse(process.argv.slice(2));
  const prices = loadPrices();
  const stack = await readStackSettings(context);
  // The code is measured on a table indexed as the stack's (`-c listingIndexes=keysOnly`: keys-only listing indexes,
  // so a listing page's BatchGetItem is in its read units and its round trips).
  const listing = parseListingIndexes(context.listingIndexes);
  if (listing) process.env[ENV.listingIndexes] = listing;
  const measured = await measure(workload.avgMb);
  const bill = computeBill(workload, stack, { ...measured, accessLogLineBytes: accessLogLineBytes() }, prices);
  if (json) console.log(JSON.stringify(jsonReport(bill, workload, stack, measured, prices), null, 2));
  else console.log(textReport(bill, workload, stack, measured, prices));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
