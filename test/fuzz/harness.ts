// Runs mutated files through the processor's pure pipeline and classifies what happened.
import { processDicom } from '../../lambdas/dicom/process.js';
import { HttpError } from '../../lambdas/http/errors.js';
import { mutate, random, seedFiles } from './mutations.js';

export interface FuzzReport {
  cases: number;
  accepted: number;
  rejected: Record<string, number>;
  /** Seeds whose case threw something other than a 4xx HttpError: bugs. */
  crashes: { seed: number; error: string }[];
}

export async function fuzzPipeline(firstSeed: number, cases: number, deadlineMs = Infinity): Promise<FuzzReport> {
  const seeds = seedFiles();
  const report: FuzzReport = { cases: 0, accepted: 0, rejected: {}, crashes: [] };
  const stopAt = performance.now() + deadlineMs;
  for (let seed = firstSeed; seed < firstSeed + cases && performance.now() < stopAt; seed++) {
    const rand = random(seed);
    const base = seeds[Math.floor(rand() * seeds.length)]!;
    const { bytes } = mutate(base, rand);
    report.cases++;
    try {
      await processDicom(bytes);
      report.accepted++;
    } catch (error) {
      if (error instanceof HttpError && error.status >= 400 && error.status < 500) {
        report.rejected[error.code] = (report.rejected[error.code] ?? 0) + 1;
      } else {
        report.crashes.push({
          seed,
          error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
        });
      }
    }
  }
  return report;
}
