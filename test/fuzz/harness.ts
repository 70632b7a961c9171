// Runs mutated files through the processor's pure pipeline and classifies what happened.
import { processDicom } from '../../lambdas/dicom/process.js';
import { clientError } from '../../lambdas/http/domain-errors.js';
import { mutate, random, seedFiles } from './mutations.js';

export interface FuzzReport {
  cases: number;
  accepted: number;
  rejected: Record<string, number>;
  /** Seeds whose case threw something other than a 4xx error answer: bugs. */
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
      const answer = clientError(error);
      if (answer && answer.status >= 400 && answer.status < 500) {
        report.rejected[answer.code] = (report.rejected[answer.code] ?? 0) + 1;
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
