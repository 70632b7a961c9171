// A frame too large for the function's memory is refused with a 422 before it is decoded, never an out-of-memory crash.
import { afterEach, describe, expect, it } from 'vitest';
import { clientError } from '../../lambdas/http/domain-errors.js';
import {
  checkBounds,
  MAX_SAMPLES_PER_FRAME,
  maxSamplesPerFrame,
  type PixelLayout,
} from '../../lambdas/dicom/pixels.js';

const layout = (rows: number, columns: number, samplesPerPixel: 1 | 3 = 1): PixelLayout => ({
  rows,
  columns,
  samplesPerPixel,
  bitsAllocated: 16,
  bitsStored: 16,
  highBit: 15,
  signed: false,
  planarConfiguration: 0,
  numberOfFrames: 1,
  photometric: samplesPerPixel === 3 ? 'RGB' : 'MONOCHROME2',
  sampleFormat: 'integer',
});

describe('maxSamplesPerFrame', () => {
  const saved = process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE;
  afterEach(() => {
    if (saved === undefined) delete process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE;
    else process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE = saved;
  });

  it('follows the Lambda memory setting, and is the fixed cap where there is none (the local runtime)', () => {
    expect(maxSamplesPerFrame({})).toBe(MAX_SAMPLES_PER_FRAME);
    const at1024 = maxSamplesPerFrame({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024' });
    const at3008 = maxSamplesPerFrame({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '3008' });
    // 1 GB renders a 8,000 x 8,000 grey frame, not a 10,000 x 10,000 one; 3 GB about three times as much.
    expect(at1024).toBeGreaterThan(8000 * 8000);
    expect(at1024).toBeLessThan(10_000 * 10_000);
    expect(at3008).toBeGreaterThan(2.5 * at1024);
  });

  it('checkBounds: 422 IMAGE_TOO_LARGE in a 1 GB function for a 12,000 x 12,000 frame, which 3 GB renders', () => {
    process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE = '1024';
    let refused: unknown;
    try {
      checkBounds(layout(12_000, 12_000), 0);
    } catch (error) {
      refused = error;
    }
    expect(clientError(refused)?.status).toBe(422);
    expect(clientError(refused)?.code).toBe('IMAGE_TOO_LARGE');
    expect(() => checkBounds(layout(4096, 4096, 3), 0)).not.toThrow();
    process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE = '3008';
    expect(() => checkBounds(layout(12_000, 12_000), 0)).not.toThrow();
  });
});
