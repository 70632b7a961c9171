// CDK assertions on the synthesized stack: routes, least-privilege IAM, storage security, gateway errors, outputs.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ENV,
  KEYS,
  LARGE_UPLOAD_ROUTE,
  MAX_DIRECT_UPLOAD_BYTES,
  TABLE,
  tableIndexes,
  tableKeyAttributes,
} from '../../lambdas/config.js';
import { handlerOf, PROCESSING_FAILED, PROCESSOR, ROUTES, type StorageAccess } from '../../lambdas/routes.js';
import { ACCESS_ACTIONS, PROJECT_ROOT } from '../../lib/constructs/function-defaults.js';
import { DicomApiStack } from '../../lib/dicom-api-stack.js';
import { references } from '../support/template.js';

type Resource = { Type: string; Properties?: Record<string, any>; DeletionPolicy?: string };

/** The stack as `cdk synth` builds it (cdk.json's feature flags), minus bundling (fast, no esbuild). */
function synth(destroyData = false): { stack: DicomApiStack; template: Template } {
  const cdkJson = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  };
  const app = new App({ context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [] } });
  const stack = new DicomApiStack(app, 'DicomApiTest', { destroyData });
  return { stack, template: Template.fromStack(stack) };
}

function logicalId(stack: Stack, fn: NodejsFunction): string {
  return stack.getLogicalId(fn.node.defaultChild as CfnFunction);
}

let stack: DicomApiStack;
let template: Template;
let resources: Record<string, Resource>;
let bucketId: string;
let tableId: string;
let dlqId: string;

/** An IAM resource as readable text: the bucket's ARN as `bucket`, the table's as `table`. */
function render(value: unknown): string {
  if (typeof value === 'string') return value;
  const record = value as Record<string, any>;
  if (record['Fn::GetAtt']) {
    const [id, attribute] = record['Fn::GetAtt'] as [string, string];
    if (id === bucketId && attribute === 'Arn') return 'bucket';
    if (id === tableId && attribute === 'Arn') return 'table';
    return `${id}.${attribute}`;
  }
  if (record['Fn::Join']) return (record['Fn::Join'][1] as unknown[]).map(render).join(record['Fn::Join'][0]);
  if (record.Ref) return `ref:${record.Ref}`;
  return JSON.stringify(value);
}

/** "action on resource" for every statement of every inline policy on the function's role. */
function grantsOf(functionId: string): Set<string> {
  const roleId = references(resources[functionId]?.Properties?.Role)[0];
  const grants = new Set<string>();
  for (const resource of Object.values(resources)) {
    if (resource.Type !== 'AWS::IAM::Policy') continue;
    if (!references(resource.Properties?.Roles).includes(roleId!)) continue;
    for (const statement of resource.Properties!.PolicyDocument.Statement as Record<string, any>[]) {
      expect(statement.Effect).toBe('Allow');
      const actions = [statement.Action].flat() as string[];
      // A condition is part of the grant: s3:ListBucket on the bucket is scoped by its s3:prefix.
      const where = Object.values((statement.Condition ?? {}) as Record<string, Record<string, unknown>>)
        .flatMap((test) => Object.entries(test).map(([key, values]) => ` where ${key} ${[values].flat().join(',')}`))
        .join('');
      const targets = [statement.Resource].flat().map((target) => `${render(target)}${where}`);
      for (const action of actions) for (const target of targets) grants.add(`${action} on ${target}`);
    }
  }
  return grants;
}

/** What `access` should grant, in grantsOf's form. */
function expectedGrants(access: StorageAccess): Set<string> {
  const grants = new Set<string>();
  const s3 = [
    [ACCESS_ACTIONS.s3Read, access.s3Read],
    [ACCESS_ACTIONS.s3Write, access.s3Write],
    [ACCESS_ACTIONS.s3Delete, access.s3Delete],
  ] as const;
  for (const [actions, prefixes] of s3) {
    if (!prefixes?.length) continue;
    for (const action of actions) {
      // Reading holds ListBucket on the whole bucket (a missing key is then 404, not 403): see ACCESS_ACTIONS.
      if (action === 's3:ListBucket') grants.add(`${action} on bucket`);
      else for (const prefix of prefixes) grants.add(`${action} on bucket/${prefix}*`);
    }
  }
  if (access.s3List?.length && !access.s3Read?.length) {
    for (const action of ACCESS_ACTIONS.s3List) {
      grants.add(`${action} on bucket where s3:prefix ${access.s3List.map((prefix) => `${prefix}*`).join(',')}`);
    }
  }
  if (access.tableRead) {
    for (const action of ACCESS_ACTIONS.tableRead) {
      grants.add(`${action} on table`);
      grants.add(`${action} on table/index/*`);
    }
  }
  if (access.tableWrite) for (const action of ACCESS_ACTIONS.tableWrite) grants.add(`${action} on table`);
  if (access.tableBatchRead) for (const action of ACCESS_ACTIONS.tableBatchRead) grants.add(`${action} on table`);
  return grants;
}

/** The API path of an AWS::ApiGateway::Method, walking its resource's parents to the root. */
function methodPath(method: Resource): string {
  const parts: string[] = [];
  let resourceId: unknown = method.Properties!.ResourceId;
  while (resourceId && typeof resourceId === 'object' && 'Ref' in resourceId) {
    const resource = resources[(resourceId as { Ref: string }).Ref]!;
    parts.unshift(resource.Properties!.PathPart as string);
    resourceId = resource.Properties!.ParentId;
  }
  return `/${parts.join('/')}`;
}

beforeAll(() => {
  ({ stack, template } = synth());
  resources = template.toJSON().Resources as Record<string, Resource>;
  bucketId = stack.getLogicalId(stack.storage.bucket.node.defaultChild as never);
  tableId = stack.getLogicalId(stack.storage.table.node.defaultChild as never);
  dlqId = stack.getLogicalId(stack.processor.deadLetterQueue.node.defaultChild as never);
});

describe('routes', () => {
  it('gives every route of the table its method, wired to its own Lambda', () => {
    const methods = Object.values(resources).filter((r) => r.Type === 'AWS::ApiGateway::Method');
    expect(methods.map((m) => `${m.Properties!.HttpMethod} ${methodPath(m)}`).sort()).toEqual(
      ROUTES.map((r) => `${r.method} ${r.path}`).sort(),
    );
    for (const route of ROUTES) {
      const method = methods.find((m) => m.Properties!.HttpMethod === route.method && methodPath(m) === route.path)!;
      const functionId = logicalId(stack, stack.api.functions.get(route.name)!);
      expect(method.Properties!.Integration.Type, route.name).toBe('AWS_PROXY');
      expect(references(method.Properties!.Integration.Uri), route.name).toContain(functionId);
      // A function of its own says its route; one shared by several routes (DICOMweb) says how many and where.
      const sharing = ROUTES.filter((other) => handlerOf(other) === handlerOf(route));
      expect(resources[functionId]!.Properties!.Description).toEqual(
        sharing.length === 1 ? `${route.method} ${route.path}` : expect.stringMatching(/^\d+ routes under \/dicomweb/),
      );
      for (const other of sharing)
        expect(stack.api.functions.get(other.name), other.name).toBe(stack.api.functions.get(route.name));
      // API Gateway may invoke it.
      template.hasResourceProperties('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunction',
        Principal: 'apigateway.amazonaws.com',
        FunctionName: { 'Fn::GetAtt': [functionId, 'Arn'] },
      });
    }
  });

  it('has exactly the application functions: Node 22 on arm64, ESM bundles, one per handler plus the processor, its dead-letter consumer and the API key authorizer', () => {
    const appFunctions = template.findResources('AWS::Lambda::Function', {
      Properties: { Architectures: ['arm64'] },
    });
    expect(Object.keys(appFunctions)).toHaveLength(new Set(ROUTES.map(handlerOf)).size + 3);
    for (const fn of Object.values(appFunctions)) {
      expect(fn.Properties.Runtime).toBe('nodejs22.x');
      expect(fn.Properties.Handler).toBe('index.handler');
      expect(Object.keys(fn.Properties.Environment.Variables)).toEqual(
        expect.arrayContaining([ENV.bucketName, ENV.tableName, ENV.processingWaitMs]),
      );
      expect(references(fn.Properties.Environment.Variables[ENV.bucketName])).toEqual([bucketId]);
      expect(references(fn.Properties.Environment.Variables[ENV.tableName])).toEqual([tableId]);
    }
  });

  it("applies a route's memory from the route table", () => {
    for (const route of ROUTES.filter((r) => r.memoryMb)) {
      const fn = resources[logicalId(stack, stack.api.functions.get(route.name)!)]!;
      expect(fn.Properties!.MemorySize, route.name).toBe(route.memoryMb);
    }
  });

  it('sets log retention on every function through its own log group (no LogRetention custom resource)', () => {
    const appFunctions = template.findResources('AWS::Lambda::Function', { Properties: { Architectures: ['arm64'] } });
    for (const fn of Object.values(appFunctions)) {
      const [groupId] = references(fn.Properties.LoggingConfig.LogGroup);
      expect(resources[groupId!]!.Type).toBe('AWS::Logs::LogGroup');
      expect(resources[groupId!]!.Properties!.RetentionInDays).toBeGreaterThan(0);
    }
    template.resourceCountIs('Custom::LogRetention', 0);
  });
});

describe('IAM: each function holds only its own actions', () => {
  it('grants each route exactly what its access entry says', () => {
    for (const route of ROUTES) {
      const functionId = logicalId(stack, stack.api.functions.get(route.name)!);
      expect([...grantsOf(functionId)].sort(), route.name).toEqual([...expectedGrants(route.access)].sort());
    }
  });

  it('grants the processor exactly its access entry, plus sending to its dead-letter queue', () => {
    const functionId = logicalId(stack, stack.processor.function);
    const grants = [...grantsOf(functionId)];
    expect(grants.filter((g) => !g.startsWith('sqs:')).sort()).toEqual([...expectedGrants(PROCESSOR.access)].sort());
    expect(grants.filter((g) => g.startsWith('sqs:')).sort()).toEqual(
      ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'].map((a) => `${a} on ${dlqId}.Arn`),
    );
  });

  it('grants the dead-letter consumer its access entry and reading the queue, nothing else', () => {
    const grants = [...grantsOf(logicalId(stack, stack.processor.failureFunction))];
    expect(grants.filter((g) => !g.startsWith('sqs:')).sort()).toEqual(
      [...expectedGrants(PROCESSING_FAILED.access)].sort(),
    );
    for (const grant of grants.filter((g) => g.startsWith('sqs:'))) expect(grant).toMatch(` on ${dlqId}.Arn`);
    expect(grants).toContain(`sqs:ReceiveMessage on ${dlqId}.Arn`);
    expect(grants).toContain(`sqs:DeleteMessage on ${dlqId}.Arn`);
  });

  it('presigned upload and download URLs carry the rights of roles scoped to the uploads/ prefix only', () => {
    const uploadPrefix = `bucket/${KEYS.uploadPrefix}*`;
    const s3Grants = (route: string) =>
      [...grantsOf(logicalId(stack, stack.api.functions.get(route)!))].filter((g) => g.startsWith('s3:')).sort();
    // POST /dicom/uploads presigns PUT and UploadPart (both s3:PutObject): nothing else, nowhere else.
    expect(s3Grants('largeUpload')).toEqual([`s3:PutObject on ${uploadPrefix}`]);
    // Reading is GetObject and GetObjectVersion under the prefix, plus ListBucket so a missing key is a 404.
    const reads = [
      `s3:GetObject on ${uploadPrefix}`,
      `s3:GetObjectVersion on ${uploadPrefix}`,
      's3:ListBucket on bucket',
    ];
    expect(s3Grants('completeUpload')).toEqual([...reads, `s3:PutObject on ${uploadPrefix}`]);
    // GET /dicom/{id}/file presigns GETs of originals only.
    expect(s3Grants('file')).toEqual(reads);
    expect(s3Grants('reprocess')).toEqual([...reads, `s3:PutObject on ${uploadPrefix}`]);
  });

  it('the list function can only read the table: no write, no delete, no S3', () => {
    const grants = [...grantsOf(logicalId(stack, stack.api.functions.get('list')!))];
    expect(grants.sort()).toEqual([
      'dynamodb:GetItem on table',
      'dynamodb:GetItem on table/index/*',
      'dynamodb:Query on table',
      'dynamodb:Query on table/index/*',
    ]);
  });

  it('upload writes only under uploads/ and reads nothing from S3 (its undo deletes); delete puts nothing', () => {
    const upload = [...grantsOf(logicalId(stack, stack.api.functions.get('upload')!))];
    expect(upload.filter((g) => g.startsWith('s3:')).sort()).toEqual([
      `s3:DeleteObject on bucket/${KEYS.derivedPrefix}*`,
      `s3:DeleteObject on bucket/${KEYS.uploadPrefix}*`,
      `s3:ListBucket on bucket where s3:prefix ${KEYS.derivedPrefix}*`,
      `s3:PutObject on bucket/${KEYS.uploadPrefix}*`,
    ]);
    const remove = [...grantsOf(logicalId(stack, stack.api.functions.get('delete')!))];
    expect(remove.some((g) => g.startsWith('s3:PutObject') || g.startsWith('s3:GetObject'))).toBe(false);
    expect(remove).toContain(`s3:DeleteObject on bucket/${KEYS.derivedPrefix}*`);
  });

  it('png reads originals and derived files and caches renderings under derived/ only; delete lists derived/ only', () => {
    const s3Grants = (route: string) =>
      [...grantsOf(logicalId(stack, stack.api.functions.get(route)!))].filter((g) => g.startsWith('s3:')).sort();
    const derived = `bucket/${KEYS.derivedPrefix}*`;
    expect(s3Grants('png')).toEqual([
      `s3:DeleteObject on ${derived}`,
      `s3:GetObject on ${derived}`,
      `s3:GetObject on bucket/${KEYS.uploadPrefix}*`,
      `s3:GetObjectVersion on ${derived}`,
      `s3:GetObjectVersion on bucket/${KEYS.uploadPrefix}*`,
      's3:ListBucket on bucket',
      `s3:PutObject on ${derived}`,
    ]);
    const listDerived = `s3:ListBucket on bucket where s3:prefix ${KEYS.derivedPrefix}*`;
    expect(s3Grants('delete')).toContain(listDerived);
    expect(s3Grants('upload')).toContain(listDerived);
    // The processor reads, so it holds ListBucket on the bucket (which covers its listing of derived/).
    expect([...grantsOf(logicalId(stack, stack.processor.function))]).toContain('s3:ListBucket on bucket');
    // Listing without reading: only under derived/. ListBucket on the whole bucket: only functions that read objects.
    for (const route of ROUTES) {
      const lists = s3Grants(route.name).filter((g) => g.startsWith('s3:ListBucket'));
      if (route.access.s3Read?.length) expect(lists, route.name).toEqual(['s3:ListBucket on bucket']);
      else expect(lists, route.name).toEqual(route.access.s3List?.length ? [listDerived] : []);
    }
  });

  it('no application role has a wildcard action or an unscoped resource', () => {
    const appFunctions = template.findResources('AWS::Lambda::Function', { Properties: { Architectures: ['arm64'] } });
    for (const functionId of Object.keys(appFunctions)) {
      for (const grant of grantsOf(functionId)) {
        const [action, target] = grant.split(' on ');
        expect(action, grant).not.toContain('*');
        // ListBucket is a bucket action: the bucket is its only resource (a missing key is then 404, not 403).
        if (grant === 's3:ListBucket on bucket') continue;
        expect(['*', 'bucket', 'bucket/*'], grant).not.toContain(target);
      }
    }
  });
});

describe('processor trigger', () => {
  it('S3 notifies the processor of every ObjectCreated kind under the upload prefix only', () => {
    const processorId = logicalId(stack, stack.processor.function);
    template.hasResourceProperties('Custom::S3BucketNotifications', {
      BucketName: { Ref: bucketId },
      NotificationConfiguration: {
        LambdaFunctionConfigurations: [
          {
            Events: ['s3:ObjectCreated:*'],
            Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: KEYS.uploadPrefix }] } },
            LambdaFunctionArn: { 'Fn::GetAtt': [processorId, 'Arn'] },
          },
        ],
      },
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Principal: 's3.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': [processorId, 'Arn'] },
      SourceArn: { 'Fn::GetAtt': [bucketId, 'Arn'] },
    });
  });

  it('retries a failed event twice, then sends it to an encrypted dead-letter queue kept 14 days', () => {
    const processorId = logicalId(stack, stack.processor.function);
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: processorId },
      Qualifier: '$LATEST',
      MaximumRetryAttempts: PROCESSOR.retryAttempts,
      MaximumEventAgeInSeconds: PROCESSOR.maxEventAgeSeconds,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [dlqId, 'Arn'] } } },
    });
    expect(PROCESSOR.retryAttempts).toBe(2);
    template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 24 * 3600,
    });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: dlqId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('a consumer of the dead-letter queue marks the failed files (partial batch failures are redelivered)', () => {
    const consumerId = logicalId(stack, stack.processor.failureFunction);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: consumerId },
      EventSourceArn: { 'Fn::GetAtt': [dlqId, 'Arn'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    const queue = resources[dlqId]!.Properties!;
    const consumer = resources[consumerId]!.Properties!;
    expect(queue.VisibilityTimeout).toBeGreaterThanOrEqual(consumer.Timeout);
  });

  it('sizes the processor for the largest corpus image (route table memory and timeout)', () => {
    const fn = resources[logicalId(stack, stack.processor.function)]!;
    expect(fn.Properties!.MemorySize).toBe(PROCESSOR.memoryMb);
    expect(fn.Properties!.Timeout).toBe(PROCESSOR.timeoutSeconds);
    // One full vCPU (the work is single-threaded), and room for a 1 GiB direct upload (it peaks at 1,128 MB).
    expect(PROCESSOR.memoryMb).toBe(1769);
    expect(PROCESSOR.memoryMb).toBeGreaterThan(MAX_DIRECT_UPLOAD_BYTES / 2 ** 20 + 500);
  });
});

describe('storage', () => {
  it('bucket: all public access blocked, encrypted, ACLs disabled, incomplete uploads aborted, retained', () => {
    template.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        LifecycleConfiguration: {
          Rules: Match.arrayWith([
            Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' }),
          ]),
        },
      }),
    });
    template.resourceCountIs('Custom::S3AutoDeleteObjects', 0);
  });

  it('bucket policy denies any request not made over TLS', () => {
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Principal: { AWS: '*' },
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('table: on demand, point-in-time recovery, encrypted, keys from config, retained', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
        KeySchema: [{ AttributeName: TABLE.partitionKey, KeyType: 'HASH' }],
      }),
    });
  });

  it('table: exactly the listing indexes of config (keys, projection), every key attribute a string', () => {
    const table = Object.values(template.findResources('AWS::DynamoDB::Table'))[0]!.Properties as {
      GlobalSecondaryIndexes: unknown[];
      AttributeDefinitions: { AttributeName: string; AttributeType: string }[];
    };
    expect(table.GlobalSecondaryIndexes).toEqual(
      tableIndexes().map((index) => ({
        IndexName: index.name,
        KeySchema: [
          { AttributeName: index.partitionKey, KeyType: 'HASH' },
          { AttributeName: index.sortKey, KeyType: 'RANGE' },
        ],
        Projection: {
          ProjectionType: index.projection,
          ...(index.nonKeyAttributes ? { NonKeyAttributes: [...index.nonKeyAttributes] } : {}),
        },
      })),
    );
    // DynamoDB allows 20 per table; each costs a copy of every item it holds.
    expect(table.GlobalSecondaryIndexes.length).toBeLessThanOrEqual(20);
    expect(table.AttributeDefinitions.sort((a, b) => a.AttributeName.localeCompare(b.AttributeName))).toEqual(
      tableKeyAttributes()
        .sort()
        .map((name) => ({ AttributeName: name, AttributeType: 'S' })),
    );
    // Files list newest upload first in sharded partitions; the duplicate look-ups hold only keys.
    expect(TABLE.indexes.filesByCreated).toMatchObject({ partitionKey: 'all_shard', sortKey: 'created_key' });
    expect(TABLE.indexes.filesBySopInstance.projection).toBe('KEYS_ONLY');
    expect(TABLE.indexes.filesBySha256.projection).toBe('KEYS_ONLY');
  });

  it('table: a TTL attribute expires records whose direct upload never arrived', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      TimeToLiveSpecification: { AttributeName: TABLE.ttlAttribute, Enabled: true },
    });
  });

  it('with -c destroyData=true, bucket (emptied first) and table are deleted with the stack', () => {
    const { template: destroyable } = synth(true);
    destroyable.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Delete' });
    destroyable.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete' });
    destroyable.resourceCountIs('Custom::S3AutoDeleteObjects', 1);
  });
});

describe('REST API', () => {
  it('is a regional REST API with binary media type */*; the account logging role (for access logs) is retained', () => {
    template.hasResourceProperties('AWS::ApiGateway::RestApi', {
      BinaryMediaTypes: ['*/*'],
      EndpointConfiguration: { Types: ['REGIONAL'] },
    });
    // Access logs to CloudWatch need the account-level API Gateway role; other APIs of the account may share it.
    template.resourceCountIs('AWS::ApiGateway::Account', 1);
    template.hasResource('AWS::ApiGateway::Account', { DeletionPolicy: 'Retain' });
    // The stage default, and the keyless page methods' own limits (security.test.ts checks their values).
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      MethodSettings: Match.arrayWith([
        Match.objectLike({
          ResourcePath: '/*',
          HttpMethod: '*',
          ThrottlingRateLimit: Match.anyValue(),
          ThrottlingBurstLimit: Match.anyValue(),
        }),
      ]),
    });
  });

  const substituted = (body: string): unknown =>
    JSON.parse(
      body
        .replaceAll('$context.error.messageString', JSON.stringify('a "quoted" message'))
        .replaceAll('$context.error.responseType', 'DEFAULT_4XX'),
    );

  it("maps API Gateway's own errors to API.md's JSON error body", () => {
    const responses = Object.values(template.findResources('AWS::ApiGateway::GatewayResponse'));
    const byType = new Map(responses.map((r) => [r.Properties.ResponseType as string, r.Properties]));
    const expected: Record<string, string | undefined> = {
      DEFAULT_4XX: undefined,
      DEFAULT_5XX: undefined,
      MISSING_AUTHENTICATION_TOKEN: '404',
      RESOURCE_NOT_FOUND: '404',
      REQUEST_TOO_LARGE: '413',
      THROTTLED: '429',
      QUOTA_EXCEEDED: '429',
      INVALID_API_KEY: '403',
      ACCESS_DENIED: '403',
      INTEGRATION_FAILURE: '502',
      INTEGRATION_TIMEOUT: '504',
    };
    for (const [type, status] of Object.entries(expected)) {
      const response = byType.get(type);
      expect(response, type).toBeDefined();
      expect(response!.StatusCode, type).toBe(status);
    }
    for (const [type, response] of byType) {
      expect(response.ResponseParameters['gatewayresponse.header.Content-Type'], type).toBe("'application/json'");
      const body = substituted(response.ResponseTemplates['application/json']) as Record<string, unknown>;
      expect(Object.keys(body).sort(), type).toEqual(['code', 'error']);
      expect(typeof body.error, type).toBe('string');
      expect(body.code, type).toMatch(/^[A-Z_0-9]+$/);
    }
  });

  it('answers a missing route with 404 ROUTE_NOT_FOUND, too large with a pointer to the large-file route, throttling with Retry-After', () => {
    const responses = Object.values(template.findResources('AWS::ApiGateway::GatewayResponse'));
    const body = (type: string) =>
      substituted(
        responses.find((r) => r.Properties.ResponseType === type)!.Properties.ResponseTemplates['application/json'],
      ) as { error: string; code: string };
    expect(body('MISSING_AUTHENTICATION_TOKEN').code).toBe('ROUTE_NOT_FOUND');
    expect(body('MISSING_AUTHENTICATION_TOKEN').error).toContain('GET /dicom/{id}/png');
    expect(body('REQUEST_TOO_LARGE').error).toContain(LARGE_UPLOAD_ROUTE);
    expect(body('THROTTLED').code).toBe('THROTTLED');
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'THROTTLED',
      ResponseParameters: Match.objectLike({ 'gatewayresponse.header.Retry-After': "'1'" }),
    });
  });
});

describe('outputs', () => {
  it('gives the API URL, the API key id, bucket name and table name (and no duplicate endpoint output)', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(Object.keys(outputs).sort()).toEqual(['ApiKeyId', 'ApiUrl', 'BucketName', 'TableName']);
    expect(references(outputs.BucketName!.Value)).toEqual([bucketId]);
    expect(references(outputs.TableName!.Value)).toEqual([tableId]);
    expect(JSON.stringify(outputs.ApiUrl!.Value)).toContain('execute-api');
  });
});

describe('listing: cursor key, log hygiene, study routes', () => {
  it('the cursor secret is generated by Secrets Manager and reaches exactly the routes that page, by dynamic reference', () => {
    const secrets = template.findResources('AWS::SecretsManager::Secret');
    const [secretId, secret] = Object.entries(secrets)[0]!;
    expect(Object.keys(secrets)).toHaveLength(1);
    expect(secret.Properties.GenerateSecretString).toMatchObject({ PasswordLength: 64 });
    expect(secret.Properties.SecretString).toBeUndefined();
    for (const route of ROUTES) {
      const variables = resources[logicalId(stack, stack.api.functions.get(route.name)!)]!.Properties!.Environment
        .Variables as Record<string, unknown>;
      const value = variables[ENV.cursorSecret];
      if (route.cursors) {
        expect(JSON.stringify(value), route.name).toContain('{{resolve:secretsmanager:');
        expect(references(value), route.name).toEqual([secretId]);
      } else {
        expect(value, route.name).toBeUndefined();
      }
    }
    expect(
      ROUTES.filter((r) => r.cursors)
        .map((r) => r.name)
        .sort(),
    ).toEqual(['list', 'search', 'studies', 'studyFiles']);
  });

  it('no stage log can record a query string or body: execution logging off, no data trace, access log by route template', () => {
    const stages = Object.values(template.findResources('AWS::ApiGateway::Stage'));
    expect(stages.length).toBeGreaterThan(0);
    for (const stage of stages) {
      // The access log's own format: $context.resourcePath (the template), never $context.path or a body.
      const format = stage.Properties.AccessLogSetting.Format as string;
      expect(format).toContain('$context.resourcePath');
      expect(format).not.toMatch(/\$context\.path|querystring|\$input|requestOverride/i);
      for (const setting of stage.Properties.MethodSettings as Record<string, unknown>[]) {
        expect(setting.LoggingLevel).toBe('OFF');
        expect(setting.DataTraceEnabled).toBe(false);
      }
    }
  });

  it('the listing routes are read-only on the table; search and the study routes are nested resources of their own', () => {
    for (const name of ['list', 'search', 'studies', 'study', 'studyFiles', 'studySeries']) {
      const grants = [...grantsOf(logicalId(stack, stack.api.functions.get(name)!))];
      expect(grants.sort(), name).toEqual([
        'dynamodb:GetItem on table',
        'dynamodb:GetItem on table/index/*',
        'dynamodb:Query on table',
        'dynamodb:Query on table/index/*',
      ]);
    }
    const parts = Object.values(resources)
      .filter((r) => r.Type === 'AWS::ApiGateway::Resource')
      .map((r) => r.Properties!.PathPart as string);
    // One {study_uid} resource under /studies carries GET /studies/{study_uid} and its /files and /series children.
    expect(parts.filter((p) => p === '{study_uid}')).toHaveLength(1);
    expect(parts).toEqual(expect.arrayContaining(['studies', 'files', 'series', 'search']));
  });
});
