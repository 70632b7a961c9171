// `npm run bench:rss`: peak RSS of processing each hostile corpus file and the largest ones, each in a
// fresh Node process (what one processor Lambda invocation would hold).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const samplesDir = resolve(process.env.DICOM_SAMPLES ?? join(import.meta.dirname, '../../shared/dicom-samples'));

if (process.argv[2] === '--one') {
  const { readFileSync } = await import('node:fs');
  const { processDicom } = await import('../lambdas/dicom/process.js');
  const baseline = process.resourceUsage().maxRSS;
  let outcome = 'ok';
  try {
    const result = await processDicom(readFileSync(process.argv[3]!));
    outcome = `image ${result.result.image.state}`;
  } catch (error) {
    outcome = `rejected: ${(error as Error).message.slice(0, 60)}`;
  }
  console.log(JSON.stringify({ baselineMb: baseline / 1024, peakMb: process.resourceUsage().maxRSS / 1024, outcome }));
} else {
  const files = readdirSync(samplesDir).filter((f) => f.endsWith('.dcm'));
  const largest = [...files]
    .sort((a, b) => statSync(join(samplesDir, b)).size - statSync(join(samplesDir, a)).size)
    .slice(0, 4);
  const chosen = [...new Set([...files.filter((f) => f.startsWith('bad-') || f.startsWith('deeply')), ...largest])];
  console.log('Peak RSS of one processDicom run per file, fresh process each (module load included):');
  for (const file of chosen) {
    const run = spawnSync(
      process.execPath,
      ['--import', 'tsx', import.meta.filename, '--one', join(samplesDir, file)],
      {
        encoding: 'utf8',
        env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'SILENT' },
      },
    );
    const line = run.stdout.trim().split('\n').pop() ?? '{}';
    const { baselineMb, peakMb, outcome } = JSON.parse(line) as { baselineMb: number; peakMb: number; outcome: string };
    const size = (statSync(join(samplesDir, file)).size / 1e6).toFixed(1);
    console.log(
      `  ${file.padEnd(30)} ${size.padStart(5)} MB file  peak ${peakMb.toFixed(0).padStart(4)} MB (after load ${baselineMb.toFixed(0)} MB)  ${outcome}`,
    );
  }
}
