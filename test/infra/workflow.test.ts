// The GitHub workflow cannot run here: check its shape and that everything it calls exists.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = join(import.meta.dirname, '../..');
interface Step {
  run?: string;
  uses?: string;
  with?: Record<string, unknown>;
}
interface Job {
  needs?: string;
  steps: Step[];
  services?: Record<string, { image: string; env?: Record<string, string>; ports?: string[]; volumes?: string[] }>;
  env?: Record<string, string>;
}
const workflow = parse(readFileSync(join(root, '.github/workflows/ci.yml'), 'utf8')) as { jobs: Record<string, Job> };
const scripts = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> })
  .scripts;

function runs(job: Job): string[] {
  return job.steps.flatMap((step) => (step.run ? [step.run.trim()] : []));
}

describe('.github/workflows/ci.yml', () => {
  it('job 1 installs from the lock file and runs npm test', () => {
    expect(runs(workflow.jobs.test!)).toEqual(['npm ci', 'npm test']);
  });

  it('job 2 starts a pinned LocalStack with the token from a secret, deploys with deploy:local, runs test:e2e', () => {
    const job = workflow.jobs.localstack!;
    expect(job.needs).toBe('test');
    const service = job.services!.localstack!;
    expect(service.image).toMatch(/^localstack\/localstack:\d{4}\.\d{2}\.\d+$/);
    expect(service.env!.LOCALSTACK_AUTH_TOKEN).toBe('${{ secrets.LOCALSTACK_AUTH_TOKEN }}');
    expect(service.ports).toContain('4566:4566');
    expect(service.volumes).toContain('/var/run/docker.sock:/var/run/docker.sock');
    expect(job.env!.AWS_ENDPOINT_URL).toBe('http://localhost:4566');
    expect(runs(job)).toEqual(['npm ci', 'npm run deploy:local', 'npm run test:e2e']);
  });

  it('deploy:local hands the e2e step the API URL and, with the default API-key access control, the key', () => {
    const script = readFileSync(join(root, 'scripts/deploy-local.ts'), 'utf8');
    expect(script).toMatch(/GITHUB_ENV, `API_URL=/);
    // The stack requires a key by default: deploy:local reads it as README shows, masks it, exports API_KEY.
    expect(script).toContain("'apigateway', 'get-api-key'");
    expect(script).toContain('--include-value');
    expect(script).toMatch(/::add-mask::/);
    expect(script).toMatch(/GITHUB_ENV, `API_KEY=/);
  });

  it('every npm script the workflow calls exists, and the files they run are in the repo', () => {
    const called = Object.values(workflow.jobs)
      .flatMap(runs)
      .flatMap((line) => [...line.matchAll(/npm (?:run )?([\w:-]+)/g)].map((m) => m[1]!))
      .filter((name) => name !== 'ci');
    expect(called.length).toBeGreaterThan(2);
    for (const name of called) {
      expect(scripts[name], `npm script ${name}`).toBeDefined();
      for (const file of scripts[name]!.match(/[\w/.-]+\.(?:ts|mjs|js)\b/g) ?? []) {
        expect(existsSync(join(root, file)), `${name} runs ${file}`).toBe(true);
      }
    }
  });
});
