// Starts the embedded local runtime on a free port in a fresh temporary data folder, for e2e tests.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalRuntime, type LocalRuntime, type LocalRuntimeOptions } from '../../local/runtime.js';

export interface TestRuntime extends LocalRuntime {
  /** Closes the runtime and removes its data folder. */
  destroy(): Promise<void>;
}

export function tempDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'dicom-api-test-'));
}

/** `access`: the API key and CORS origins to enforce, as deployed (default: open, no CORS). */
export async function startTestRuntime(
  dataDir = tempDataDir(),
  access: Pick<LocalRuntimeOptions, 'apiKey' | 'corsOrigins'> = {},
): Promise<TestRuntime> {
  const runtime = await startLocalRuntime({ port: 0, dataDir, processorWorkers: 1, ...access });
  return {
    ...runtime,
    async destroy() {
      await runtime.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A multipart/form-data body with one file part, as curl -F builds it. */
export function uploadForm(bytes: Uint8Array, filename = 'sample.dcm', field = 'file'): FormData {
  const form = new FormData();
  form.append(field, new Blob([bytes], { type: 'application/dicom' }), filename);
  return form;
}
