// The settings that decide the bill, read from the stack as `cdk synth` builds it (cdk.json's context plus any
// `-c name=value` given): Lambda memory and architecture, the table's indexes and projections, the bucket's
// lifecycle, the usage plan and stage throttles, and the fixed-price resources.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { App, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ACCESS_LOG_FIELDS } from '../../lib/constructs/api.js';
import { PROJECT_ROOT } from '../../lib/constructs/function-defaults.js';
import { DicomApiStack, stackOptionsFromContext } from '../../lib/dicom-api-stack.js';
import type { IndexShape, TableShape } from './dynamo-units.js';

export interface FunctionSettings {
  readonly memoryMb: number;
  readonly architecture: 'arm64' | 'x86_64';
}

/** A lifecycle transition of the originals: after `days`, to `storageClass` (S3's name, e.g. GLACIER_IR). */
export interface Transition {
  readonly days: number;
  readonly storageClass: string;
}

export interface Throttle {
  readonly rateLimit: number;
  readonly burstLimit: number;
}

export interface StackSettings {
  /** The context the stack was built with (beyond cdk.json's feature flags). */
  readonly context: Readonly<Record<string, string>>;
  readonly auth: 'apiKey' | 'iam' | 'none';
  /** The Lambdas on the measured paths; `authorizer` only with `auth: apiKey`. */
  readonly functions: {
    readonly upload: FunctionSettings;
    readonly png: FunctionSettings;
    readonly processor: FunctionSettings;
    readonly authorizer?: FunctionSettings;
    /** GET /dicom/image-urls, when the stack has it: PNG reads can then go straight to S3. */
    readonly imageUrls?: FunctionSettings;
  };
  readonly table: TableShape;
  readonly pointInTimeRecovery: boolean;
  /** Lifecycle transitions that apply to `uploads/` (the originals), earliest first; none: S3 Standard forever. */
  readonly originals: readonly Transition[];
  /** The S3 storage class processed images (`derived/`) are read from: STANDARD unless a lifecycle rule moves them. */
  readonly derivedStorageClass: string;
  readonly usagePlan?: Throttle & { readonly quotaPerDay?: number };
  readonly stageThrottle?: Throttle;
  /** Resources billed by the month whatever the traffic. */
  readonly fixed: { readonly secrets: number; readonly alarms: number; readonly kmsKeys: number };
}

type Resource = { Type: string; Properties?: Record<string, any> };

/** The stack exactly as `cdk synth` builds it with this context, without bundling the Lambdas (not needed here). */
export function synthesize(context: Record<string, string>): { stack: DicomApiStack; template: Template } {
  const cdkJson = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  };
  const app = new App({ context: { ...cdkJson.context, ...context, 'aws:cdk:bundling-stacks': [] } });
  const stack = new DicomApiStack(
    app,
    'DicomApiCost',
    stackOptionsFromContext((k) => app.node.tryGetContext(k)),
  );
  return { stack, template: Template.fromStack(stack) };
}

/** Reads the bill's settings from a synthesized DicomApiStack. */
export async function readStackSettings(context: Record<string, string> = {}): Promise<StackSettings> {
  const { stack, template } = synthesize(context);
  const { api, processor, storage } = stack;
  const resources = template.toJSON().Resources as Record<string, Resource>;
  const idOf = (construct: { node: { defaultChild?: unknown } }) =>
    stack.getLogicalId(construct.node.defaultChild as Parameters<Stack['getLogicalId']>[0]);
  const functionSettings = (construct: { node: { defaultChild?: unknown } }): FunctionSettings => {
    const props = resources[idOf(construct)]!.Properties!;
    return {
      memoryMb: Number(props.MemorySize ?? 128),
      architecture: (props.Architectures?.[0] ?? 'x86_64') as FunctionSettings['architecture'],
    };
  };

  const tableProps = resources[idOf(storage.table)]!.Properties!;
  const keyOf = (schema: { AttributeName: string; KeyType: string }[], type: string) =>
    schema.find((k) => k.KeyType === type)?.AttributeName;
  const indexes: IndexShape[] = (tableProps.GlobalSecondaryIndexes ?? []).map((gsi: Record<string, any>) => ({
    name: gsi.IndexName,
    partitionKey: keyOf(gsi.KeySchema, 'HASH')!,
    sortKey: keyOf(gsi.KeySchema, 'RANGE'),
    projection: gsi.Projection.ProjectionType,
    ...(gsi.Projection.NonKeyAttributes ? { nonKeyAttributes: gsi.Projection.NonKeyAttributes } : {}),
  }));

  const bucketProps = resources[idOf(storage.bucket)]!.Properties!;
  const rules = (bucketProps.LifecycleConfiguration?.Rules ?? []) as Record<string, any>[];
  const transitionsOf = (prefix: string): Transition[] =>
    rules
      .filter((rule) => rule.Status === 'Enabled')
      .filter((rule) => prefix.startsWith(rule.Prefix ?? rule.Filter?.Prefix ?? ''))
      .flatMap((rule) => [...(rule.Transitions ?? []), ...(rule.Transition ? [rule.Transition] : [])])
      .map((t: Record<string, any>) => ({
        days: Number(t.TransitionInDays ?? 0),
        storageClass: String(t.StorageClass),
      }))
      .sort((a, b) => a.days - b.days);
  const originals = transitionsOf('uploads/');
  // Priced as if every derived object were where a rule would move it (none does in this stack).
  const derivedStorageClass = transitionsOf('derived/')[0]?.storageClass ?? 'STANDARD';
  const imageUrls = api.functions.get('imageUrls');

  const ofType = (type: string) => Object.values(resources).filter((r) => r.Type === type);
  const plan = ofType('AWS::ApiGateway::UsagePlan')[0]?.Properties;
  const stage = ofType('AWS::ApiGateway::Stage')[0]?.Properties;
  const stageDefault = (stage?.MethodSettings as Record<string, any>[] | undefined)?.find(
    (m) => m.ResourcePath === '/*' && m.HttpMethod === '*',
  );

  return {
    context,
    auth: api.auth,
    functions: {
      upload: functionSettings(api.functions.get('upload')!),
      png: functionSettings(api.functions.get('png')!),
      processor: functionSettings(processor.function),
      ...(api.authorizerFunction ? { authorizer: functionSettings(api.authorizerFunction) } : {}),
      ...(imageUrls ? { imageUrls: functionSettings(imageUrls) } : {}),
    },
    table: { partitionKey: keyOf(tableProps.KeySchema, 'HASH')!, indexes },
    pointInTimeRecovery: Boolean(tableProps.PointInTimeRecoverySpecification?.PointInTimeRecoveryEnabled),
    originals,
    derivedStorageClass,
    ...(plan
      ? {
          usagePlan: {
            rateLimit: Number(plan.Throttle?.RateLimit ?? Infinity),
            burstLimit: Number(plan.Throttle?.BurstLimit ?? Infinity),
            ...(plan.Quota ? { quotaPerDay: quotaPerDay(plan.Quota) } : {}),
          },
        }
      : {}),
    ...(stageDefault
      ? {
          stageThrottle: {
            rateLimit: Number(stageDefault.ThrottlingRateLimit ?? Infinity),
            burstLimit: Number(stageDefault.ThrottlingBurstLimit ?? Infinity),
          },
        }
      : {}),
    fixed: {
      secrets: ofType('AWS::SecretsManager::Secret').length,
      alarms: ofType('AWS::CloudWatch::Alarm').length,
      kmsKeys: ofType('AWS::KMS::Key').length,
    },
  };
}

/** A usage plan quota as requests per day (a weekly or monthly quota spread evenly). */
function quotaPerDay(quota: { Limit: number; Period: string }): number {
  const days = { DAY: 1, WEEK: 7, MONTH: 30 }[quota.Period] ?? 1;
  return quota.Limit / days;
}

/** Typical values of the access log's fields: what one request's line weighs in the stack's own format. */
const ACCESS_LOG_SAMPLE: Record<string, string> = {
  requestId: '5efb7e40-5880-4a82-88c3-b52644c4f703',
  time: '06/Dec/2026:19:43:12 +0000',
  method: 'GET',
  resource: '/dicom/{id}/png',
  status: '200',
  latencyMs: '45',
  integrationLatencyMs: '41',
  responseLength: '95860',
  apiKeyId: 'a1b2c3d4e5',
  sourceIp: '203.0.113.10',
};

/** Bytes of one API Gateway access log line (fields without a typical value: `-`). */
export function accessLogLineBytes(): number {
  const line = Object.fromEntries(Object.keys(ACCESS_LOG_FIELDS).map((key) => [key, ACCESS_LOG_SAMPLE[key] ?? '-']));
  return Buffer.byteLength(JSON.stringify(line));
}
