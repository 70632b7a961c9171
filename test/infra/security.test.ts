// CDK assertions for each security control and its context flag: access control (API key, IAM, open), CORS,
// encryption and data protection, per-function IAM for every function of the template, logs, alarms, tracing, audit.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { describe, expect, it } from 'vitest';
import {
  DOWNLOAD_URL_SECONDS,
  ENV,
  FILE_LISTING_INDEXES,
  KEYS,
  TABLE,
  UPLOAD_URL_SECONDS,
} from '../../lambdas/config.js';
import { INVALID_API_KEY } from '../../lambdas/http/access.js';
import { BUCKET_CORS, CORS } from '../../lambdas/http/cors.js';
import { handlerOf, PROCESSING_FAILED, PROCESSOR, ROUTES, type StorageAccess } from '../../lambdas/routes.js';
import { ACCESS_LOG_FIELDS, PAGE_THROTTLING, THROTTLING, USAGE_PLAN } from '../../lib/constructs/api.js';
import {
  ACCESS_ACTIONS,
  AUDIT_LOG_RETENTION,
  kmsActionsFor,
  LOG_RETENTION,
  PROJECT_ROOT,
} from '../../lib/constructs/function-defaults.js';
import { API_5XX_RATE, MAX_METRICS_PER_ALARM } from '../../lib/constructs/monitoring.js';
import { RECOVERY_DAYS } from '../../lib/constructs/storage.js';
import { DicomApiStack, stackOptionsFromContext } from '../../lib/dicom-api-stack.js';
import { references } from '../support/template.js';

type Resource = {
  Type: string;
  Properties?: Record<string, any>;
  DeletionPolicy?: string;
};

interface Synth {
  stack: DicomApiStack;
  template: Template;
  resources: Record<string, Resource>;
  id(construct: { node: { defaultChild?: unknown } }): string;
}

const cdkContext = (
  JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }
).context;
const cache = new Map<string, Synth>();

/** The stack as `cdk synth -c ...` builds it from these context flags (parsed like bin/dicom-api.ts), no bundling. */
function synth(flags: Record<string, string> = {}): Synth {
  const key = JSON.stringify(flags);
  const cached = cache.get(key);
  if (cached) return cached;
  const app = new App({ context: { ...cdkContext, ...flags, 'aws:cdk:bundling-stacks': [] } });
  const stack = new DicomApiStack(
    app,
    'DicomApiTest',
    stackOptionsFromContext((k) => app.node.tryGetContext(k)),
  );
  const template = Template.fromStack(stack);
  const result: Synth = {
    stack,
    template,
    resources: template.toJSON().Resources as Record<string, Resource>,
    id: (construct) => stack.getLogicalId(construct.node.defaultChild as CfnFunction),
  };
  cache.set(key, result);
  return result;
}

function ofType(s: Synth, type: string): [string, Resource][] {
  return Object.entries(s.resources).filter(([, r]) => r.Type === type);
}

/** The API path of an AWS::ApiGateway::Method, walking its resource's parents to the root. */
function methodPath(s: Synth, method: Resource): string {
  const parts: string[] = [];
  let resourceId: unknown = method.Properties!.ResourceId;
  while (resourceId && typeof resourceId === 'object' && 'Ref' in resourceId) {
    const resource = s.resources[(resourceId as { Ref: string }).Ref]!;
    parts.unshift(resource.Properties!.PathPart as string);
    resourceId = resource.Properties!.ParentId;
  }
  return `/${parts.join('/')}`;
}

function methods(s: Synth): { method: string; path: string; props: Record<string, any> }[] {
  return ofType(s, 'AWS::ApiGateway::Method').map(([, m]) => ({
    method: m.Properties!.HttpMethod as string,
    path: methodPath(s, m),
    props: m.Properties!,
  }));
}

/** An IAM resource as readable text: `bucket`, `table`, `key` for the stack's own, else the logical id. */
function render(s: Synth, value: unknown): string {
  if (typeof value === 'string') return value;
  const record = value as Record<string, any>;
  const named: Record<string, string> = {
    [s.id(s.stack.storage.bucket)]: 'bucket',
    [s.id(s.stack.storage.table)]: 'table',
    ...(s.stack.storage.dataKey ? { [s.id(s.stack.storage.dataKey)]: 'key' } : {}),
  };
  if (record['Fn::GetAtt']) {
    const [id, attribute] = record['Fn::GetAtt'] as [string, string];
    return named[id] && attribute === 'Arn' ? named[id] : `${id}.${attribute}`;
  }
  if (record['Fn::Join'])
    return (record['Fn::Join'][1] as unknown[]).map((v) => render(s, v)).join(record['Fn::Join'][0]);
  if (record.Ref) return named[record.Ref] ?? `ref:${record.Ref}`;
  return JSON.stringify(value);
}

/** "action on resource" for every statement of every inline policy on the function's role (conditions as "if ..."). */
function grantsOf(s: Synth, functionId: string): string[] {
  const roleId = references(s.resources[functionId]?.Properties?.Role)[0];
  const grants = new Set<string>();
  for (const [, policy] of ofType(s, 'AWS::IAM::Policy')) {
    if (!references(policy.Properties?.Roles).includes(roleId!)) continue;
    for (const statement of policy.Properties!.PolicyDocument.Statement as Record<string, any>[]) {
      expect(statement.Effect).toBe('Allow');
      const condition = statement.Condition?.StringEquals?.['kms:ViaService'] ? ' via s3+dynamodb' : '';
      for (const action of [statement.Action].flat() as string[]) {
        for (const target of [statement.Resource].flat()) grants.add(`${action} on ${render(s, target)}${condition}`);
      }
    }
  }
  return [...grants].sort();
}

/** What `access` grants on storage, in grantsOf's form (whatever kinds of access ACCESS_ACTIONS knows). */
function storageGrants(access: StorageAccess, kms: boolean): string[] {
  const grants = new Set<string>();
  for (const [kind, actions] of Object.entries(ACCESS_ACTIONS) as [keyof StorageAccess, readonly string[]][]) {
    const value = access[kind];
    if (!value || (Array.isArray(value) && value.length === 0)) continue;
    for (const action of actions) {
      if (kind === 'tableRead') grants.add(`${action} on table`).add(`${action} on table/index/*`);
      else if (kind === 'tableWrite' || kind === 'tableBatchRead') grants.add(`${action} on table`);
      else if (action === 's3:ListBucket') grants.add(`${action} on bucket`);
      else for (const prefix of value as readonly string[]) grants.add(`${action} on bucket/${prefix}*`);
    }
  }
  if (kms) for (const action of kmsActionsFor(access)) grants.add(`${action} on key via s3+dynamodb`);
  return [...grants].sort();
}

const XRAY = ['xray:PutTelemetryRecords on *', 'xray:PutTraceSegments on *'];

/** Every function of the template and the exact grants it must hold; none may be missing or extra. */
function expectEveryFunctionLeastPrivilege(s: Synth, flags: { kms: boolean; tracing: boolean }): void {
  const dlq = s.id(s.stack.processor.deadLetterQueue);
  const expected = new Map<string, string[]>();
  const extra = flags.tracing ? XRAY : [];
  for (const route of ROUTES) {
    expected.set(s.id(s.stack.api.functions.get(route.name)!), [...storageGrants(route.access, flags.kms), ...extra]);
  }
  expected.set(s.id(s.stack.processor.function), [
    ...storageGrants(PROCESSOR.access, flags.kms),
    ...['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'].map((a) => `${a} on ${dlq}.Arn`),
    ...extra,
  ]);
  expected.set(s.id(s.stack.processor.failureFunction), [
    ...storageGrants(PROCESSING_FAILED.access, flags.kms),
    ...[
      'sqs:ChangeMessageVisibility',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
      'sqs:ReceiveMessage',
    ].map((a) => `${a} on ${dlq}.Arn`),
    ...extra,
  ]);
  // The API key authorizer reads headers only: no data grants (X-Ray when tracing).
  if (s.stack.api.authorizerFunction) expected.set(s.id(s.stack.api.authorizerFunction), [...extra]);
  const notifications = ofType(s, 'AWS::Lambda::Function').find(([id]) => id.startsWith('BucketNotificationsHandler'));
  // CDK's handler that writes the bucket's notification configuration at deploy: that one action on this bucket.
  expected.set(notifications![0], ['s3:PutBucketNotification on bucket']);
  // CDK's auto-delete provider (destroyData only) holds no inline policy: the bucket policy lets it empty the bucket.
  const autoDelete = ofType(s, 'AWS::Lambda::Function').find(([id]) => id.startsWith('CustomS3AutoDeleteObjects'));
  if (autoDelete) expected.set(autoDelete[0], []);

  const all = ofType(s, 'AWS::Lambda::Function').map(([id]) => id);
  expect(all.sort(), 'every function is accounted for').toEqual([...expected.keys()].sort());
  for (const [functionId, grants] of expected) {
    expect(grantsOf(s, functionId), functionId).toEqual([...grants].sort());
  }
}

describe('access control: the API key by default', () => {
  it('every non-public method requires the API key; the page routes and the API description, nothing else, are open', () => {
    const s = synth();
    const all = methods(s);
    expect(all.map((m) => `${m.method} ${m.path}`).sort()).toEqual(ROUTES.map((r) => `${r.method} ${r.path}`).sort());
    for (const route of ROUTES) {
      const method = all.find((m) => m.method === route.method && m.path === route.path)!;
      expect(method.props.ApiKeyRequired, route.name).toBe(!route.public);
      // The key may come as x-api-key or a Bearer token: the authorizer hands it to API Gateway's key check.
      expect(method.props.AuthorizationType, route.name).toBe(route.public ? 'NONE' : 'CUSTOM');
      if (!route.public)
        expect(references(method.props.AuthorizerId), route.name).toEqual([s.id(s.stack.api.authorizer!)]);
    }
    expect(ROUTES.filter((r) => r.public).map((r) => r.name)).toEqual(['web', 'webAsset', 'openapi']);
    const api = ofType(s, 'AWS::ApiGateway::RestApi')[0]![1];
    expect(api.Properties!.ApiKeySourceType).toBe('AUTHORIZER');
    const [[, authorizer]] = ofType(s, 'AWS::ApiGateway::Authorizer') as [[string, Resource]];
    expect(authorizer.Properties).toMatchObject({ Type: 'REQUEST', AuthorizerResultTtlInSeconds: 0 });
    // The authorizer touches no data: its role has no S3 or DynamoDB grant.
    expect(grantsOf(s, s.id(s.stack.api.authorizerFunction!))).toEqual([]);
  });

  it('a usage plan with rate, burst and a daily quota covers the stage, and holds the one key', () => {
    const s = synth();
    const [[planId, plan]] = ofType(s, 'AWS::ApiGateway::UsagePlan') as [[string, Resource]];
    expect(plan.Properties).toMatchObject({
      Throttle: { RateLimit: USAGE_PLAN.rateLimit, BurstLimit: USAGE_PLAN.burstLimit },
      Quota: { Limit: USAGE_PLAN.quotaPerDay, Period: 'DAY' },
    });
    const [stage] = plan.Properties!.ApiStages as { ApiId: unknown; Stage: unknown }[];
    expect(references(stage!.ApiId)).toEqual([s.id(s.stack.api.restApi)]);
    expect(references(stage!.Stage)).toEqual([s.id(s.stack.api.restApi.deploymentStage)]);
    const [[keyId, key]] = ofType(s, 'AWS::ApiGateway::ApiKey') as [[string, Resource]];
    expect(key.Properties!.Enabled).toBe(true);
    // No value in the template: API Gateway generates it; README shows how to read it.
    expect(key.Properties!.Value).toBeUndefined();
    s.template.hasResourceProperties('AWS::ApiGateway::UsagePlanKey', {
      KeyId: { Ref: keyId },
      KeyType: 'API_KEY',
      UsagePlanId: { Ref: planId },
    });
    expect((s.template.toJSON().Outputs as Record<string, { Value: unknown }>).ApiKeyId!.Value).toEqual({ Ref: keyId });
  });

  it('the limits carry 100,000 uploads and 1,000,000 reads a day by default, and follow -c apiRateLimit/apiBurstLimit/apiQuotaPerDay', () => {
    // 1,100,000 requests a day, 12.7/s on average: under the quota and the rate, with room for peaks.
    expect(USAGE_PLAN.quotaPerDay).toBeGreaterThanOrEqual(1_100_000);
    expect(USAGE_PLAN.rateLimit).toBeGreaterThanOrEqual(7 * (1_100_000 / 86_400));
    const s = synth({ apiRateLimit: '20', apiBurstLimit: '40', apiQuotaPerDay: '5000' });
    const [[, plan]] = ofType(s, 'AWS::ApiGateway::UsagePlan') as [[string, Resource]];
    expect(plan.Properties).toMatchObject({
      Throttle: { RateLimit: 20, BurstLimit: 40 },
      Quota: { Limit: 5000, Period: 'DAY' },
    });
    const [[, stage]] = ofType(s, 'AWS::ApiGateway::Stage') as [[string, Resource]];
    expect(
      (stage.Properties!.MethodSettings as Record<string, unknown>[]).find((m) => m.ResourcePath === '/*'),
    ).toMatchObject({
      ThrottlingRateLimit: 20,
      ThrottlingBurstLimit: 40,
    });
    const unlimited = ofType(synth({ apiQuotaPerDay: 'none' }), 'AWS::ApiGateway::UsagePlan')[0]![1];
    expect(unlimited.Properties!.Quota).toBeUndefined();
    const options = (context: Record<string, string>) => stackOptionsFromContext((key) => context[key]);
    expect(() => options({ apiQuotaPerDay: '0' })).toThrow(/apiQuotaPerDay=0/);
    expect(() => options({ apiRateLimit: 'fast' })).toThrow(/apiRateLimit=fast/);
  });

  it("the keyless page methods are throttled apart: they cannot spend the data routes' rate", () => {
    for (const flags of [{}, { auth: 'iam' }, { auth: 'none' }] as Record<string, string>[]) {
      const s = synth(flags);
      const [[, stage]] = ofType(s, 'AWS::ApiGateway::Stage') as [[string, Resource]];
      const settings = stage.Properties!.MethodSettings as Record<string, unknown>[];
      const throttle = (resourcePath: string, httpMethod: string) =>
        settings.find((m) => m.ResourcePath === resourcePath && m.HttpMethod === httpMethod);
      // The stage default every data route inherits (no data route has an override of its own).
      expect(throttle('/*', '*')).toMatchObject({
        ThrottlingRateLimit: THROTTLING.rateLimit,
        ThrottlingBurstLimit: THROTTLING.burstLimit,
      });
      const pages = ROUTES.filter((r) => r.public);
      expect(pages.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /', 'GET /web/{file}', 'GET /openapi.json']);
      for (const route of pages) {
        // CloudFormation's form of a resource path: "/" stays, "/web/{file}" is "/~1web~1{file}".
        const resourcePath = route.path === '/' ? '/' : `/${route.path.replaceAll('/', '~1')}`;
        expect(throttle(resourcePath, route.method), route.name).toMatchObject({
          ThrottlingRateLimit: PAGE_THROTTLING.rateLimit,
          ThrottlingBurstLimit: PAGE_THROTTLING.burstLimit,
        });
      }
      expect(settings.filter((m) => m.ResourcePath !== '/*').length, 'overrides for the page methods only').toBe(
        pages.length,
      );
      expect(PAGE_THROTTLING.rateLimit).toBeLessThan(THROTTLING.rateLimit);
    }
  });

  it('a missing or wrong key is 403 JSON, the same body the local runtime gives', () => {
    synth().template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'INVALID_API_KEY',
      StatusCode: '403',
      ResponseTemplates: {
        'application/json': `{"error": ${JSON.stringify(INVALID_API_KEY.error)}, "code": "${INVALID_API_KEY.code}"}`,
      },
    });
  });
});

describe('access control: -c auth=iam and -c auth=none', () => {
  it('auth=iam: every non-public method needs SigV4 (AWS_IAM), no key or usage plan, an invoke ARN output', () => {
    const s = synth({ auth: 'iam' });
    for (const route of ROUTES) {
      const method = methods(s).find((m) => m.method === route.method && m.path === route.path)!;
      expect(method.props.AuthorizationType, route.name).toBe(route.public ? 'NONE' : 'AWS_IAM');
      expect(method.props.ApiKeyRequired, route.name).toBe(false);
    }
    s.template.resourceCountIs('AWS::ApiGateway::ApiKey', 0);
    s.template.resourceCountIs('AWS::ApiGateway::UsagePlan', 0);
    // An unsigned request and an unknown route look alike to API Gateway: 403, not a misleading 404.
    s.template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'MISSING_AUTHENTICATION_TOKEN',
      StatusCode: '403',
    });
    expect(Object.keys(s.template.toJSON().Outputs as object)).toContain('ApiInvokeArn');
  });

  it('auth=none opens every method, explicitly', () => {
    const s = synth({ auth: 'none' });
    for (const method of methods(s)) {
      expect(method.props.ApiKeyRequired).toBe(false);
      expect(method.props.AuthorizationType).toBe('NONE');
    }
    s.template.resourceCountIs('AWS::ApiGateway::ApiKey', 0);
    expect(Object.keys(s.template.toJSON().Outputs as object)).not.toContain('ApiKeyId');
  });

  it('refuses flag values it does not know rather than guessing (a typo must not open the API)', () => {
    const options = (context: Record<string, string>) => stackOptionsFromContext((key) => context[key]);
    expect(options({}).auth).toBe('apiKey');
    expect(options({ auth: 'IAM' }).auth).toBe('iam');
    expect(() => options({ auth: 'open' })).toThrow(/auth=open/);
    expect(() => options({ kms: 'yes' })).toThrow(/kms=yes/);
    expect(() => options({ corsOrigins: '*' })).toThrow(/not an origin/);
    expect(() => options({ corsOrigins: 'https://a.example/path' })).toThrow(/not an origin/);
    expect(() => options({ alarmEmail: 'nobody' })).toThrow(/alarmEmail/);
    expect(options({ corsOrigins: 'https://a.example, https://b.example:8443' }).corsOrigins).toEqual([
      'https://a.example',
      'https://b.example:8443',
    ]);
  });
});

describe('CORS', () => {
  const apiOrigin = (s: Synth) => ({
    'Fn::Join': [
      '',
      [
        'https://',
        { Ref: s.id(s.stack.api.restApi) },
        '.execute-api.',
        { Ref: 'AWS::Region' },
        '.',
        { Ref: 'AWS::URLSuffix' },
      ],
    ],
  });

  it('off by default: no preflight methods, no allowed origins, no CORS headers on gateway errors; the bucket admits only the page', () => {
    const s = synth();
    expect(methods(s).filter((m) => m.method === 'OPTIONS')).toEqual([]);
    for (const [, fn] of ofType(s, 'AWS::Lambda::Function')) {
      expect(fn.Properties!.Environment?.Variables?.[ENV.corsOrigins]).toBeUndefined();
    }
    for (const [, response] of ofType(s, 'AWS::ApiGateway::GatewayResponse')) {
      expect(Object.keys(response.Properties!.ResponseParameters).join()).not.toContain('Access-Control');
    }
    const bucket = s.resources[s.id(s.stack.storage.bucket)]!.Properties!;
    expect(bucket.CorsConfiguration.CorsRules).toEqual([
      {
        AllowedOrigins: [apiOrigin(s)],
        AllowedMethods: [...BUCKET_CORS.allowedMethods],
        AllowedHeaders: [...BUCKET_CORS.allowedHeaders],
        ExposedHeaders: ['ETag'],
        MaxAge: BUCKET_CORS.maxAgeSeconds,
      },
      // Presigned GETs reached through a redirect (a viewer's frames, large metadata) arrive with `Origin: null`.
      {
        AllowedOrigins: ['*'],
        AllowedMethods: ['GET', 'HEAD'],
        AllowedHeaders: ['*'],
        ExposedHeaders: ['ETag'],
        MaxAge: BUCKET_CORS.maxAgeSeconds,
      },
    ]);
  });

  it('-c corsOrigins=<one>: a keyless preflight on every resource, the origin in every function and gateway error, and in the bucket rule', () => {
    const s = synth({ corsOrigins: 'https://a.example' });
    const preflights = methods(s).filter((m) => m.method === 'OPTIONS');
    // Every API Gateway resource: each route's path and every path above it, down to the root.
    const resources = new Set(
      ROUTES.flatMap((r) => r.path.split('/').map((_, i, segments) => segments.slice(0, i + 1).join('/') || '/')),
    );
    expect(new Set(preflights.map((m) => m.path))).toEqual(resources);
    for (const preflight of preflights) {
      expect(preflight.props.ApiKeyRequired).toBe(false);
      expect(preflight.props.AuthorizationType).toBe('NONE');
      expect(preflight.props.Integration.Type).toBe('MOCK');
      const headers = preflight.props.Integration.IntegrationResponses[0].ResponseParameters as Record<string, string>;
      expect(headers['method.response.header.Access-Control-Allow-Origin']).toBe("'https://a.example'");
      expect(headers['method.response.header.Access-Control-Allow-Headers']).toContain('X-Api-Key');
    }
    for (const route of ROUTES) {
      const fn = s.resources[s.id(s.stack.api.functions.get(route.name)!)]!;
      expect(fn.Properties!.Environment.Variables[ENV.corsOrigins], route.name).toBe('https://a.example');
    }
    for (const [, response] of ofType(s, 'AWS::ApiGateway::GatewayResponse')) {
      expect(response.Properties!.ResponseParameters).toMatchObject({
        'gatewayresponse.header.Access-Control-Allow-Origin': "'https://a.example'",
        'gatewayresponse.header.Access-Control-Expose-Headers': `'${CORS.exposeHeaders.join(',')}'`,
      });
    }
    const bucket = s.resources[s.id(s.stack.storage.bucket)]!.Properties!;
    expect(bucket.CorsConfiguration.CorsRules[0].AllowedOrigins).toEqual([apiOrigin(s), 'https://a.example']);
  });

  it('-c corsOrigins=<two>: the preflight answers each, gateway errors echo the Origin (they hold no data)', () => {
    const s = synth({ corsOrigins: 'https://a.example,https://b.example' });
    const preflight = methods(s).find((m) => m.method === 'OPTIONS' && m.path === '/dicom')!;
    const template = preflight.props.Integration.IntegrationResponses[0].ResponseTemplates[
      'application/json'
    ] as string;
    expect(template).toContain('$origin == "https://b.example"');
    for (const [, response] of ofType(s, 'AWS::ApiGateway::GatewayResponse')) {
      expect(response.Properties!.ResponseParameters['gatewayresponse.header.Access-Control-Allow-Origin']).toBe(
        'method.request.header.origin',
      );
    }
  });
});

describe('storage: encryption, TLS, versions and what a delete means', () => {
  it('default: SSE-S3, versioned, noncurrent versions and delete markers expire, PITR as far back, deletion protection', () => {
    const s = synth();
    s.template.resourceCountIs('AWS::KMS::Key', 0);
    const bucket = s.resources[s.id(s.stack.storage.bucket)]!;
    expect(bucket.Properties!.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(bucket.Properties!.LifecycleConfiguration.Rules).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ NoncurrentVersionExpiration: { NoncurrentDays: RECOVERY_DAYS }, Status: 'Enabled' }),
        expect.objectContaining({ ExpiredObjectDeleteMarker: true, Status: 'Enabled' }),
      ]),
    );
    expect(bucket.Properties!.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
    const table = s.resources[s.id(s.stack.storage.table)]!;
    expect(table.DeletionPolicy).toBe('Retain');
    expect(table.Properties).toMatchObject({
      DeletionProtectionEnabled: true,
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true, RecoveryPeriodInDays: RECOVERY_DAYS },
      SSESpecification: { SSEEnabled: true },
    });
    expect(table.Properties!.SSESpecification.KMSMasterKeyId).toBeUndefined();
  });

  it('originals move to Glacier Instant Retrieval after 30 days; -c archiveOriginals and archiveAfterDays change or stop it', () => {
    const rule = (flags: Record<string, string>) => {
      const s = synth(flags);
      const rules = s.resources[s.id(s.stack.storage.bucket)]!.Properties!.LifecycleConfiguration.Rules;
      return (rules as Record<string, any>[]).find((r) => r.Id === 'archive-originals');
    };
    // Only the originals: derived PNGs and JSON are what reads touch, and stay in Standard.
    expect(rule({})).toEqual({
      Id: 'archive-originals',
      Prefix: KEYS.uploadPrefix,
      Status: 'Enabled',
      Transitions: [{ StorageClass: 'GLACIER_IR', TransitionInDays: 30 }],
    });
    expect(rule({ archiveOriginals: 'intelligentTiering', archiveAfterDays: '0' })!.Transitions).toEqual([
      { StorageClass: 'INTELLIGENT_TIERING', TransitionInDays: 0 },
    ]);
    expect(rule({ archiveOriginals: 'off' })).toBeUndefined();
    expect(() => stackOptionsFromContext((key) => (key === 'archiveOriginals' ? 'glacier' : undefined))).toThrow(
      /archiveOriginals=glacier/,
    );
  });

  it('-c kms=true: one rotating customer key, retained, encrypts bucket (bucket key) and table', () => {
    const s = synth({ kms: 'true' });
    const keyId = s.id(s.stack.storage.dataKey!);
    s.template.resourceCountIs('AWS::KMS::Key', 1);
    s.template.hasResource('AWS::KMS::Key', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({ EnableKeyRotation: true }),
    });
    s.template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: {
              SSEAlgorithm: 'aws:kms',
              KMSMasterKeyID: { 'Fn::GetAtt': [keyId, 'Arn'] },
            },
          },
        ],
      },
    });
    s.template.hasResourceProperties('AWS::DynamoDB::Table', {
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } },
    });
  });

  it('-c destroyData=true: table deletable (no deletion protection), key deletable', () => {
    const s = synth({ destroyData: 'true', kms: 'true' });
    s.template.hasResourceProperties('AWS::DynamoDB::Table', { DeletionProtectionEnabled: false });
    s.template.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Delete' });
  });

  it('presigned URLs are short-lived (minutes for downloads, an hour for uploads) and name one object key', async () => {
    expect(DOWNLOAD_URL_SECONDS).toBeLessThanOrEqual(300);
    expect(UPLOAD_URL_SECONDS).toBeLessThanOrEqual(3600);
    const { S3Client } = await import('@aws-sdk/client-s3');
    const { S3ObjectStore } = await import('../../lambdas/store/s3-object-store.js');
    const client = new S3Client({
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' },
    });
    const store = new S3ObjectStore(client, 'bucket-1');
    const url = new URL(await store.presignGet('uploads/5efb7e40-5880-4a82-88c3-b52644c4f703', DOWNLOAD_URL_SECONDS));
    expect(url.searchParams.get('X-Amz-Expires')).toBe(String(DOWNLOAD_URL_SECONDS));
    expect(url.pathname).toMatch(/\/uploads\/5efb7e40-5880-4a82-88c3-b52644c4f703$/);
    client.destroy();
  });
});

describe('IAM: every function of the template holds exactly what it uses', () => {
  it('default stack', () => expectEveryFunctionLeastPrivilege(synth(), { kms: false, tracing: false }));

  it('-c kms=true: each function may use the key only through S3 and DynamoDB, only for its own access', () =>
    expectEveryFunctionLeastPrivilege(synth({ kms: 'true' }), { kms: true, tracing: false }));

  it('-c destroyData=true adds only CDK auto-delete, whose rights are in the bucket policy, on this bucket', () => {
    const s = synth({ destroyData: 'true' });
    expectEveryFunctionLeastPrivilege(s, { kms: false, tracing: false });
    const policy = ofType(s, 'AWS::S3::BucketPolicy')[0]![1].Properties!.PolicyDocument.Statement as Record<
      string,
      any
    >[];
    const allow = policy.filter((st) => st.Effect === 'Allow');
    expect(allow).toHaveLength(1);
    expect(allow[0]!.Action).toEqual(['s3:DeleteObject*', 's3:GetBucket*', 's3:List*', 's3:PutBucketPolicy']);
  });

  it('-c tracing=true adds only the X-Ray writes', () =>
    expectEveryFunctionLeastPrivilege(synth({ tracing: 'true' }), { kms: false, tracing: true }));
});

describe('observability without PHI', () => {
  it('the access log is JSON by route template: request id, key id, IAM ARN, status; never the path, query or body', () => {
    const s = synth();
    const [[, stage]] = ofType(s, 'AWS::ApiGateway::Stage') as [[string, Resource]];
    const format = JSON.parse(stage.Properties!.AccessLogSetting.Format as string) as Record<string, string>;
    expect(format).toEqual(ACCESS_LOG_FIELDS);
    expect(Object.values(format)).toEqual(
      expect.arrayContaining([
        '$context.requestId',
        '$context.resourcePath',
        '$context.status',
        '$context.identity.apiKeyId',
        '$context.identity.userArn',
      ]),
    );
    for (const value of Object.values(format)) expect(value).not.toMatch(/^\$context\.path$|querystring|\$input|body/i);
    expect(
      references(stage.Properties!.AccessLogSetting.DestinationArn).filter((id) => !id.startsWith('AWS::')),
    ).toEqual([s.id(s.stack.api.accessLogs)]);
    s.template.hasResource('AWS::Logs::LogGroup', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({ RetentionInDays: AUDIT_LOG_RETENTION }),
    });
  });

  it('alarms: dead letters, errors and throttles of every function, the 5xx rate; no actions without -c alarmEmail', () => {
    const s = synth();
    const alarms = ofType(s, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties!);
    // Messages sent to the dead-letter queue, not visible ones: its consumer empties it within seconds.
    const dlq = alarms.filter((a) => references(a.Dimensions).includes(s.id(s.stack.processor.deadLetterQueue)));
    expect(dlq).toHaveLength(1);
    expect(references(dlq[0]!.Dimensions)).toEqual([s.id(s.stack.processor.deadLetterQueue)]);
    expect(dlq[0]).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'NumberOfMessagesSent',
      Statistic: 'Sum',
      Period: 300,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
    const functionIds = ofType(s, 'AWS::Lambda::Function')
      .filter(([, fn]) => fn.Properties!.Architectures)
      .map(([id]) => id);
    // Ten functions to an alarm (CloudWatch's limit for metric math): each function's errors and throttles watched
    // exactly once, summed with missing points as 0, and the alarm's description names the functions it watches.
    const functionAlarms = alarms.filter((a) => a.Metrics);
    for (const metric of ['Errors', 'Throttles']) {
      const mine = functionAlarms.filter((a) =>
        a.Metrics.some(
          (m: { MetricStat?: { Metric: { MetricName: string } } }) => m.MetricStat?.Metric.MetricName === metric,
        ),
      );
      const watched = mine.flatMap((a) =>
        a.Metrics.filter((m: { MetricStat?: unknown }) => m.MetricStat).flatMap(
          (m: { MetricStat: { Metric: { MetricName: string; Dimensions: unknown } } }) => {
            expect(m.MetricStat.Metric.MetricName).toBe(metric);
            return references(m.MetricStat.Metric.Dimensions);
          },
        ),
      );
      expect([...new Set(watched)].sort(), metric).toEqual([...functionIds].sort());
      expect(watched, `each function's ${metric} watched once`).toHaveLength(functionIds.length);
      expect(mine, `${metric}: as few alarms as the limit allows`).toHaveLength(
        Math.ceil(functionIds.length / MAX_METRICS_PER_ALARM),
      );
      for (const alarm of mine) {
        const metrics = alarm.Metrics.filter((m: { MetricStat?: unknown }) => m.MetricStat);
        expect(metrics.length).toBeLessThanOrEqual(MAX_METRICS_PER_ALARM);
        const [expression] = alarm.Metrics.filter((m: { Expression?: string }) => m.Expression);
        expect(expression.Expression).toMatch(/^SUM\(\[FILL\(m0, 0\)/);
        expect(expression.Expression.match(/FILL/g)).toHaveLength(metrics.length);
        expect(alarm).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
        expect(alarm.AlarmDescription).toMatch(/^Lambda (invocation errors|throttled invocations) in: \w+/);
      }
    }
    expect(alarms, 'dead letters, 5xx rate, and the function alarms').toHaveLength(2 + functionAlarms.length);
    const api = alarms.filter((a) => a.MetricName === '5XXError');
    expect(api).toHaveLength(1);
    expect(api[0]).toMatchObject({ Statistic: 'Average', Threshold: API_5XX_RATE, Namespace: 'AWS/ApiGateway' });
    for (const alarm of alarms) expect(alarm.AlarmActions).toBeUndefined();
    s.template.resourceCountIs('AWS::SNS::Topic', 0);
  });

  it('-c alarmEmail: every alarm notifies one TLS-only topic with that e-mail subscribed', () => {
    const s = synth({ alarmEmail: 'ops@example.org' });
    const [[topicId]] = ofType(s, 'AWS::SNS::Topic') as [[string, Resource]];
    s.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.org',
      TopicArn: { Ref: topicId },
    });
    s.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    for (const [, alarm] of ofType(s, 'AWS::CloudWatch::Alarm'))
      expect(alarm.Properties!.AlarmActions).toEqual([{ Ref: topicId }]);
  });

  it('tracing is off by default, and -c tracing=true traces the stage and every function', () => {
    const plain = synth();
    for (const [, fn] of ofType(plain, 'AWS::Lambda::Function')) expect(fn.Properties!.TracingConfig).toBeUndefined();
    plain.template.hasResourceProperties('AWS::ApiGateway::Stage', { TracingEnabled: false });
    const traced = synth({ tracing: 'true' });
    for (const [, fn] of ofType(traced, 'AWS::Lambda::Function').filter(([, f]) => f.Properties!.Architectures)) {
      expect(fn.Properties!.TracingConfig).toEqual({ Mode: 'Active' });
    }
    traced.template.hasResourceProperties('AWS::ApiGateway::Stage', { TracingEnabled: true });
  });
});

describe('the audit trail in the stack', () => {
  // Each audited function's log group once (routes sharing a handler share its function).
  const auditedGroups = (s: Synth) => [
    ...new Set(
      ROUTES.filter((r) => r.audit).map((r) => {
        const fn = s.resources[s.id(s.stack.api.functions.get(r.name)! as NodejsFunction)]!;
        return references(fn.Properties!.LoggingConfig.LogGroup)[0]!;
      }),
    ),
  ];

  it('every route that reads, downloads, deletes, uploads or reprocesses a file writes audit lines', () => {
    const audited = Object.fromEntries(ROUTES.filter((r) => r.audit).map((r) => [r.name, r.audit]));
    expect(audited).toMatchObject({
      get: 'read',
      attributes: 'read',
      png: 'read',
      file: 'download',
      delete: 'delete',
      upload: 'upload',
      largeUpload: 'upload',
      reprocess: 'reprocess',
      list: 'list',
      search: 'list',
    });
    expect(ROUTES.filter((r) => !r.audit).map((r) => r.name)).toEqual(['web', 'webAsset', 'openapi']);
  });

  it('their log groups are kept six years and survive the stack; others keep a month', () => {
    const s = synth();
    const audited = new Set(auditedGroups(s));
    for (const [id, group] of ofType(s, 'AWS::Logs::LogGroup')) {
      if (audited.has(id)) {
        expect(group.Properties!.RetentionInDays, id).toBe(AUDIT_LOG_RETENTION);
        expect(group.DeletionPolicy, id).toBe('Retain');
      } else if (id !== s.id(s.stack.api.accessLogs)) {
        expect(group.Properties!.RetentionInDays, id).toBe(LOG_RETENTION);
      }
    }
  });

  it('a saved Logs Insights query over all of them, and a count of audit events per action', () => {
    const s = synth();
    const groups = auditedGroups(s);
    s.template.hasResourceProperties('AWS::Logs::QueryDefinition', {
      Name: 'dicom-api/audit-trail',
      QueryString: Match.stringLikeRegexp('filter audit = 1'),
      LogGroupNames: groups.map((id) => ({ Ref: id })),
    });
    const filters = ofType(s, 'AWS::Logs::MetricFilter').map(([, f]) => f.Properties!);
    expect(filters.map((f) => references(f.LogGroupName)[0]).sort()).toEqual([...groups].sort());
    for (const filter of filters) {
      expect(filter.FilterPattern).toBe('{ $.audit IS TRUE }');
      expect(filter.MetricTransformations[0]).toMatchObject({
        MetricName: 'AuditEvents',
        Dimensions: [{ Key: 'action', Value: '$.action' }],
      });
    }
  });
});

describe('listing indexes: -c listingIndexes=keysOnly', () => {
  /** Each index's projection in the template. */
  const projections = (s: Synth): Record<string, string> => {
    const [, table] = ofType(s, 'AWS::DynamoDB::Table')[0]!;
    return Object.fromEntries(
      (table.Properties!.GlobalSecondaryIndexes as { IndexName: string; Projection: { ProjectionType: string } }[]).map(
        (i) => [i.IndexName, i.Projection.ProjectionType],
      ),
    );
  };
  /** Whether the function's role may call `action`, and its environment. */
  const fnOf = (s: Synth, fn: NodejsFunction): { may: (action: string) => boolean; env: Record<string, string> } => {
    const resource = s.resources[s.id(fn)]!;
    const role = references(resource.Properties!.Role)[0];
    const actions = ofType(s, 'AWS::IAM::Policy')
      .filter(([, r]) => references(r.Properties!.Roles).includes(role!))
      .flatMap(([, r]) => r.Properties!.PolicyDocument.Statement as { Action: string | string[] }[])
      .flatMap((statement) => [statement.Action].flat());
    return {
      may: (action) => actions.includes(action),
      env: (resource.Properties!.Environment?.Variables ?? {}) as Record<string, string>,
    };
  };
  const listing = new Set(ROUTES.filter((r) => r.access.listingRead).map(handlerOf));

  it('by default every file listing index projects ALL and no listing function may BatchGetItem', () => {
    const s = synth();
    const wanted = projections(s);
    for (const key of FILE_LISTING_INDEXES) expect(wanted[TABLE.indexes[key].name], key).toBe('ALL');
    for (const [name, fn] of s.stack.api.handlerFunctions) {
      const f = fnOf(s, fn);
      if (listing.has(name)) expect(f.may('dynamodb:BatchGetItem'), name).toBe(false);
      expect(f.env[ENV.listingIndexes], name).toBeUndefined();
    }
  });

  it('keysOnly makes the ten KEYS_ONLY, keeps the others, and lets exactly the listing functions read by key', () => {
    const before = projections(synth());
    const s = synth({ listingIndexes: 'keysOnly' });
    const after = projections(s);
    const listingNames = FILE_LISTING_INDEXES.map((key) => TABLE.indexes[key].name);
    expect(listingNames).toHaveLength(10);
    for (const [name, projection] of Object.entries(after)) {
      expect(projection, name).toBe((listingNames as string[]).includes(name) ? 'KEYS_ONLY' : before[name]);
    }
    expect(Object.keys(after).sort()).toEqual(Object.keys(before).sort());
    for (const [name, fn] of s.stack.api.handlerFunctions) {
      const f = fnOf(s, fn);
      expect(f.env[ENV.listingIndexes], name).toBe('keysOnly');
      // imageUrls reads records by key anyway (tableBatchRead).
      if (name !== 'imageUrls') expect(f.may('dynamodb:BatchGetItem'), name).toBe(listing.has(name));
    }
    for (const name of ['list', 'search', 'dicomwebSearch', 'dicomwebRetrieve']) expect(listing.has(name)).toBe(true);
    expect(fnOf(s, s.stack.processor.function).may('dynamodb:BatchGetItem')).toBe(true);
  });

  it('an unknown value stops the synth with the values it takes', () => {
    expect(() => stackOptionsFromContext((key) => (key === 'listingIndexes' ? 'keys' : undefined))).toThrow(
      '-c listingIndexes=keys: use all (default) or keysOnly',
    );
    expect(stackOptionsFromContext((key) => (key === 'listingIndexes' ? 'KEYSONLY' : undefined)).listingIndexes).toBe(
      'keysOnly',
    );
  });
});
