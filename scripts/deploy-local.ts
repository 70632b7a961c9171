// `npm run deploy:local`: deploys the same stack to a running LocalStack with cdklocal and prints the API URL in
// LocalStack's form; with the default API-key access control it reads the key's value too (the way README shows
// for AWS) so `npm run test:e2e` sends it. Inside GitHub Actions both are exported (API_URL, API_KEY, the key masked).
import { spawnSync } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';

const OUTPUTS = 'cdk-outputs.local.json';
const edge = process.env.AWS_ENDPOINT_URL ?? 'http://localhost:4566';
// LocalStack accepts any credentials; cdklocal reads these like the AWS CLI does.
const env = {
  ...process.env,
  AWS_ENDPOINT_URL: edge,
  // cdklocal insists on an S3 endpoint too; LocalStack serves virtual-hosted S3 on this name.
  AWS_ENDPOINT_URL_S3:
    process.env.AWS_ENDPOINT_URL_S3 ?? edge.replace('://localhost', '://s3.localhost.localstack.cloud'),
  AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'test',
  AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'test',
  AWS_REGION: process.env.AWS_REGION ?? 'us-east-1',
  AWS_DEFAULT_REGION: process.env.AWS_REGION ?? 'us-east-1',
  CDK_DISABLE_CLI_TELEMETRY: 'true',
};

function run(args: string[]): void {
  console.log(`$ npx ${args.join(' ')}`);
  const result = spawnSync('npx', args, { stdio: 'inherit', env });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

run(['cdklocal', 'bootstrap', '--no-notices']);
run([
  'cdklocal',
  'deploy',
  '--no-notices',
  '--require-approval',
  'never',
  '--outputs-file',
  OUTPUTS,
  ...process.argv.slice(2),
]);

const outputs = JSON.parse(readFileSync(OUTPUTS, 'utf8')) as Record<string, Record<string, string>>;
const deployedUrl = new URL(outputs.DicomApi!.ApiUrl!);
// The API id is the first label of the execute-api host CloudFormation reports; LocalStack serves it
// at <id>.execute-api.localhost.localstack.cloud on its edge port.
const apiId = deployedUrl.hostname.split('.')[0]!;
const stage = deployedUrl.pathname.replace(/\/+$/, '');
const edgeUrl = new URL(edge);
const apiUrl = `${edgeUrl.protocol}//${apiId}.execute-api.localhost.localstack.cloud:${edgeUrl.port || '4566'}${stage}`;
console.log(`API_URL=${apiUrl}`);
if (process.env.GITHUB_ENV) appendFileSync(process.env.GITHUB_ENV, `API_URL=${apiUrl}\n`);

// `-c auth=iam|none` deploys have no key output; otherwise the e2e suite needs the key's value.
const apiKeyId = outputs.DicomApi!.ApiKeyId;
if (apiKeyId) {
  const read = spawnSync(
    'aws',
    ['apigateway', 'get-api-key', '--api-key', apiKeyId, '--include-value', '--query', 'value', '--output', 'text'],
    { env, encoding: 'utf8' },
  );
  const apiKey = read.status === 0 ? read.stdout.trim() : '';
  if (!apiKey) {
    console.error(
      `could not read the API key (${read.error?.message ?? read.stderr.trim()}); install the AWS CLI, or deploy ` +
        'with `npm run deploy:local -- -c auth=none`',
    );
    process.exit(1);
  }
  console.log(`API_KEY is the value of API key ${apiKeyId}`);
  if (process.env.GITHUB_ENV) {
    // Masked in the job's log, then exported for the e2e step.
    console.log(`::add-mask::${apiKey}`);
    appendFileSync(process.env.GITHUB_ENV, `API_KEY=${apiKey}\n`);
  }
}
