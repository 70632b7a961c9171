// The API an e2e test talks to: the local runtime it starts itself, or any deployed stage given by API_URL.
import type { TestRuntime } from './runtime.js';

/** Set API_URL (and API_KEY when the stage requires one) to run the e2e suite against a deployment. */
export const remoteUrl = process.env.API_URL?.replace(/\/+$/, '');
export const isRemote = Boolean(remoteUrl);

export interface ApiTarget {
  url: string;
  /** Present only for the local runtime: tests that inspect storage or restart it need it. */
  local?: TestRuntime;
  /** fetch against the target, with the API key when one is configured. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** Remembers an id to delete when the suite ends (tests clean up what they create). */
  track(id: string): string;
  close(): Promise<void>;
}

export async function startTarget(): Promise<ApiTarget> {
  const apiKey = process.env.API_KEY;
  // Locally, API_KEY also switches the runtime's key check on: the suite then runs through it, as against a stage.
  const local = isRemote
    ? undefined
    : await (await import('./runtime.js')).startTestRuntime(undefined, apiKey ? { apiKey } : {});
  const url = remoteUrl ?? local!.url;
  const created = new Set<string>();
  const target: ApiTarget = {
    url,
    ...(local ? { local } : {}),
    fetch(path, init = {}) {
      const headers = new Headers(init.headers);
      if (apiKey && !headers.has('x-api-key')) headers.set('x-api-key', apiKey);
      return fetch(`${target.url}${path}`, { ...init, headers, redirect: init.redirect ?? 'follow' });
    },
    track(id) {
      created.add(id);
      return id;
    },
    async close() {
      // Against a shared stage, leave nothing behind; locally the data folder goes anyway.
      if (isRemote) await Promise.all([...created].map((id) => target.fetch(`/dicom/${id}`, { method: 'DELETE' })));
      await target.local?.destroy();
    },
  };
  return target;
}

/** Polls `check` until it returns a value or the deadline passes (async results are never slept for). */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let delay = 50;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 1000);
  }
}
