// Handler tests: the emulators started for one test file, with the Lambda environment pointed at them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { setStores } from '../../lambdas/commons.js';
import { ENV } from '../../lambdas/config.js';
import { startEmulators, storageEnvironment, type Emulators } from '../../local/emulators.js';

export interface EmulatedStorage {
  readonly emulators: Emulators;
  readonly dataDir: string;
}

/**
 * Registers the file's hooks: start emulators with a bucket and table named after `name`, set the
 * environment the handlers read (plus `extraEnv`), fresh store adapters per test, clean up after.
 */
export function useEmulatedStorage(name: string, extraEnv: Record<string, string> = {}): EmulatedStorage {
  const state = {} as { emulators: Emulators; dataDir: string };
  beforeAll(async () => {
    state.dataDir = mkdtempSync(join(tmpdir(), `dicom-api-${name}-`));
    // Set first too: the table is made as the environment says (LISTING_INDEXES).
    Object.assign(process.env, extraEnv);
    state.emulators = await startEmulators(state.dataDir, `${name}-bucket`, `${name}-table`);
    Object.assign(process.env, storageEnvironment(state.emulators, `${name}-bucket`, `${name}-table`), {
      [ENV.processingWaitMs]: '100',
      ...extraEnv,
    });
  });
  afterAll(async () => {
    setStores(undefined);
    await state.emulators?.close();
    if (state.dataDir) rmSync(state.dataDir, { recursive: true, force: true });
  });
  beforeEach(() => setStores(undefined));
  return state;
}
