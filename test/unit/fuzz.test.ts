// Bounded fuzzing of the parse -> attributes -> render -> PNG pipeline: only 4xx rejections, never a crash.
import { describe, expect, it } from 'vitest';
import { fuzzPipeline } from '../fuzz/harness.js';

describe('fuzzing the processing pipeline', () => {
  it('3,000 mutated files (flips, cuts, inflated lengths, deep nesting, corrupt codecs) never crash it', async () => {
    const report = await fuzzPipeline(1, 3000, 40_000);
    expect(report.crashes).toEqual([]);
    expect(report.cases).toBeGreaterThan(500);
    // The mutations must exercise both outcomes, or the test proves nothing.
    expect(report.accepted).toBeGreaterThan(50);
    expect(Object.values(report.rejected).reduce((a, b) => a + b, 0)).toBeGreaterThan(50);
  }, 60_000);
});
