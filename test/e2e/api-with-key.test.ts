// The whole HTTP suite again with API_KEY set: the local runtime then requires the key (as a deployed stage does)
// and every call of the suite goes through that check. Against a remote stage (API_URL) api.test.ts already runs.
import { afterAll, it, vi } from 'vitest';

if (process.env.API_URL) {
  it.skip('runs only against the local runtime (API_URL is set)', () => {});
} else {
  vi.stubEnv('API_KEY', process.env.API_KEY || 'e2e-local-key-4f1c9a');
  afterAll(() => {
    vi.unstubAllEnvs();
  });
  await import('./api.test.js');
}
