// `npm run fuzz`: a longer fuzzing run (FUZZ_CASES, FUZZ_SEED) that prints outcome counts and any crash seeds.
import { fuzzPipeline } from '../test/fuzz/harness.js';

const cases = Number(process.env.FUZZ_CASES ?? 100_000);
const firstSeed = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
const started = performance.now();
const report = await fuzzPipeline(firstSeed, cases);
const seconds = (performance.now() - started) / 1000;
console.log(`fuzz: ${report.cases} cases from seed ${firstSeed} in ${seconds.toFixed(1)} s`);
console.log(`fuzz: accepted ${report.accepted}; rejected ${JSON.stringify(report.rejected)}`);
console.log(`fuzz: peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
if (report.crashes.length) {
  console.log(`fuzz: ${report.crashes.length} crashes`);
  for (const crash of report.crashes.slice(0, 20)) console.log(`  seed ${crash.seed}: ${crash.error}`);
  process.exitCode = 1;
} else {
  console.log('fuzz: no crashes');
}
