// What every Lambda of the stack shares, in one place: runtime, architecture, bundling, logs, environment, IAM.
import path from 'node:path';
import { Aws, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import type { BuildOptions } from 'esbuild';
import { DEFAULT_PROCESSING_WAIT_MS, ENV, type ListingIndexes } from '../../lambdas/config.js';
import type { StorageAccess } from '../../lambdas/routes.js';

/** The repository root: NodejsFunction bundles from here (package-lock.json, tsconfig.json). */
export const PROJECT_ROOT = path.resolve(import.meta.dirname, '..', '..');

/** `lambdas/handlers/<name>.ts`: the module the local runtime runs and the stack bundles. */
export function handlerEntry(name: string): string {
  return path.join(PROJECT_ROOT, 'lambdas', 'handlers', `${name}.ts`);
}

export const LAMBDA_RUNTIME = lambda.Runtime.NODEJS_22_X;
export const LAMBDA_ARCHITECTURE = lambda.Architecture.ARM_64;
export const DEFAULT_MEMORY_MB = 512;
/** Below API Gateway's 29 s integration timeout, above a read's wait for processing (8 s). */
export const DEFAULT_TIMEOUT_SECONDS = 20;
export const LOG_RETENTION = logs.RetentionDays.ONE_MONTH;
/** The audit trail (audited routes' logs, the API access log): six years, as HIPAA keeps its documentation. */
export const AUDIT_LOG_RETENTION = logs.RetentionDays.SIX_YEARS;

/**
 * ESM bundles have no `require`; dicom-parser (UMD) requires zlib at run time, which esbuild turns
 * into "Dynamic require of zlib" unless a real `require` exists. `__dirname` is for packages that
 * look for files (e.g. .wasm) beside the bundle.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __cjsRequire } from 'node:module';" +
  "import { fileURLToPath as __cjsFileUrlToPath } from 'node:url';" +
  'const require = __cjsRequire(import.meta.url);' +
  'const __filename = __cjsFileUrlToPath(import.meta.url);' +
  "const __dirname = __cjsFileUrlToPath(new URL('.', import.meta.url));";

/** The esbuild settings of every Lambda bundle: the stack, the bundle test and the size script all use these. */
export interface LambdaBundling {
  readonly format: OutputFormat;
  readonly target: string;
  readonly minify: boolean;
  readonly sourceMap: boolean;
  readonly sourcesContent: boolean;
  readonly mainFields: string[];
  readonly banner: string;
  readonly externalModules: string[];
  readonly loader: { [extension: string]: string };
}

export const LAMBDA_BUNDLING: LambdaBundling = {
  format: OutputFormat.ESM,
  target: 'node22',
  minify: true,
  // Linked source maps without embedded sources: readable stack traces, a small zip.
  sourceMap: true,
  sourcesContent: false,
  // Prefer packages' ESM builds (better tree-shaking in an ESM bundle).
  mainFields: ['module', 'main'],
  banner: ESM_REQUIRE_BANNER,
  // Bundle the AWS SDK too: the version the tests ran is the version deployed, not the runtime's.
  externalModules: [],
  // The WASM codecs' .wasm files (imported by lambdas/dicom/codecs/*-wasm.ts) are copied beside the bundle under a
  // content-hashed name, and the import is that file's path relative to the bundle: read on the codec's first use,
  // not parsed as base64 at every cold start (lambdas/dicom/codecs/wasm.ts).
  loader: { '.wasm': 'file' },
};

/** The file name NodejsFunction gives an ESM bundle (its handler is `index.handler`). */
export const BUNDLE_FILE_NAME = 'index.mjs';

/** The same build as NodejsFunction's esbuild command line, for the esbuild JS API. */
export function esbuildOptions(entry: string, outfile: string): BuildOptions {
  return {
    entryPoints: [entry],
    outfile,
    absWorkingDir: PROJECT_ROOT,
    bundle: true,
    platform: 'node',
    format: LAMBDA_BUNDLING.format === OutputFormat.ESM ? 'esm' : 'cjs',
    target: LAMBDA_BUNDLING.target,
    minify: LAMBDA_BUNDLING.minify,
    sourcemap: LAMBDA_BUNDLING.sourceMap,
    sourcesContent: LAMBDA_BUNDLING.sourcesContent,
    mainFields: LAMBDA_BUNDLING.mainFields,
    banner: { js: LAMBDA_BUNDLING.banner },
    external: LAMBDA_BUNDLING.externalModules,
    loader: LAMBDA_BUNDLING.loader as BuildOptions['loader'],
    logLevel: 'warning',
  };
}

/** The environment every function gets, keyed by the names in lambdas/config.ts. */
export function functionEnvironment(bucket: s3.IBucket, table: dynamodb.ITable): Record<string, string> {
  return {
    [ENV.bucketName]: bucket.bucketName,
    [ENV.tableName]: table.tableName,
    [ENV.processingWaitMs]: String(DEFAULT_PROCESSING_WAIT_MS),
    // Stack traces through the bundle's source map point at the TypeScript lines.
    NODE_OPTIONS: '--enable-source-maps',
  };
}

/** Stack-wide choices every application function follows. */
export interface FunctionSettings {
  /** The customer-managed key of the bucket and table (`-c kms=true`): the function may use it through them. */
  readonly dataKey?: kms.IKey;
  /** X-Ray active tracing (`-c tracing=true`). */
  readonly tracing?: boolean;
  /**
   * How the file listing indexes project the item (`-c listingIndexes=`): with `keysOnly` every function is told so
   * (ENV.listingIndexes) and those that list files (`listingRead`) may read the items by key (BatchGetItem).
   */
  readonly listingIndexes?: ListingIndexes;
}

export interface AppFunctionProps extends FunctionSettings {
  /** The handler module's name (lambdas/handlers/<name>.ts). */
  readonly name: string;
  readonly description: string;
  readonly bucket: s3.IBucket;
  readonly table: dynamodb.ITable;
  readonly access: StorageAccess;
  readonly memoryMb?: number;
  readonly timeoutSeconds?: number;
  /** Variables only this function gets (e.g. the cursor secret for the listing routes). */
  readonly environment?: Record<string, string>;
  /** Default LOG_RETENTION, deleted with the stack; audited routes keep theirs longer. */
  readonly logRetention?: logs.RetentionDays;
  readonly logRemovalPolicy?: RemovalPolicy;
}

/** One application Lambda: the shared defaults, its own log group, and IAM for exactly its `access`. */
export function createAppFunction(scope: Construct, id: string, props: AppFunctionProps): NodejsFunction {
  // An explicit log group (not `logRetention`) avoids the LogRetention custom-resource Lambda.
  const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
    retention: props.logRetention ?? LOG_RETENTION,
    removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.DESTROY,
  });
  const fn = new NodejsFunction(scope, id, {
    entry: handlerEntry(props.name),
    handler: 'handler',
    description: props.description,
    runtime: LAMBDA_RUNTIME,
    architecture: LAMBDA_ARCHITECTURE,
    memorySize: props.memoryMb ?? DEFAULT_MEMORY_MB,
    timeout: Duration.seconds(props.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS),
    environment: {
      ...functionEnvironment(props.bucket, props.table),
      ...(props.listingIndexes === 'keysOnly' ? { [ENV.listingIndexes]: props.listingIndexes } : {}),
      ...props.environment,
    },
    projectRoot: PROJECT_ROOT,
    depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
    bundling: LAMBDA_BUNDLING,
    logGroup,
    ...(props.tracing ? { tracing: lambda.Tracing.ACTIVE } : {}),
  });
  grantStorageAccess(fn, props.access, props.bucket, props.table, props.dataKey, props.listingIndexes ?? 'all');
  return fn;
}

/** The IAM actions each kind of access means; nothing else is granted. */
export const ACCESS_ACTIONS = {
  // GetObjectVersion: reads name the version the record holds (a versioned bucket), which IAM authorizes as that
  // action. ListBucket (on the bucket, unconditioned: a GetObject carries no s3:prefix): without it S3 answers a
  // missing key with 403, which the object store treats as a fault, not as "no such object". Keys hold no PHI.
  s3Read: ['s3:GetObject', 's3:GetObjectVersion', 's3:ListBucket'],
  s3Write: ['s3:PutObject'],
  s3Delete: ['s3:DeleteObject'],
  s3List: ['s3:ListBucket'],
  tableRead: ['dynamodb:GetItem', 'dynamodb:Query'],
  tableWrite: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
  tableBatchRead: ['dynamodb:BatchGetItem'],
} as const;

/**
 * What `listingRead` (the function lists files through the file listing indexes, with tableRead's Query) adds for
 * each projection of those indexes: a keys-only index item is completed by reading the item by key.
 */
export const LISTING_READ_ACTIONS: Record<ListingIndexes, readonly string[]> = {
  all: [],
  keysOnly: ['dynamodb:BatchGetItem'],
};

/**
 * What each kind of access needs of the customer-managed key under `-c kms=true` (S3 and DynamoDB call KMS with
 * the caller's rights): reading decrypts; writing makes data keys (multipart and copy also decrypt); DynamoDB
 * describes the key. Deleting needs none.
 */
export const KMS_ACTIONS = {
  s3Read: ['kms:Decrypt'],
  s3Write: ['kms:Decrypt', 'kms:GenerateDataKey'],
  s3Delete: [],
  tableRead: ['kms:Decrypt', 'kms:DescribeKey'],
  tableWrite: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'],
  tableBatchRead: ['kms:Decrypt', 'kms:DescribeKey'],
} as const;

/** The KMS actions `access` needs, sorted (empty when it touches no stored data). */
export function kmsActionsFor(access: StorageAccess): string[] {
  const actions = new Set<string>();
  if (access.s3Read?.length) KMS_ACTIONS.s3Read.forEach((a) => actions.add(a));
  if (access.s3Write?.length) KMS_ACTIONS.s3Write.forEach((a) => actions.add(a));
  if (access.tableRead) KMS_ACTIONS.tableRead.forEach((a) => actions.add(a));
  if (access.tableWrite) KMS_ACTIONS.tableWrite.forEach((a) => actions.add(a));
  if (access.tableBatchRead) KMS_ACTIONS.tableBatchRead.forEach((a) => actions.add(a));
  return [...actions].sort();
}

/** Least privilege from a route's `access`: S3 actions on `bucket/<prefix>*` only, table actions on the table (and its indexes for reads). */
export function grantStorageAccess(
  fn: lambda.IFunction,
  access: StorageAccess,
  bucket: s3.IBucket,
  table: dynamodb.ITable,
  dataKey?: kms.IKey,
  listingIndexes: ListingIndexes = 'all',
): void {
  const keyActions = kmsActionsFor(access);
  if (dataKey && keyActions.length > 0) {
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: keyActions,
        resources: [dataKey.keyArn],
        // Only through S3 and DynamoDB: the role cannot decrypt anything with the key directly.
        conditions: {
          StringEquals: {
            'kms:ViaService': [`s3.${Aws.REGION}.${Aws.URL_SUFFIX}`, `dynamodb.${Aws.REGION}.${Aws.URL_SUFFIX}`],
          },
        },
      }),
    );
  }
  const s3Grants = [
    [ACCESS_ACTIONS.s3Read, access.s3Read],
    [ACCESS_ACTIONS.s3Write, access.s3Write],
    [ACCESS_ACTIONS.s3Delete, access.s3Delete],
  ] as const;
  const bucketActions: readonly string[] = ACCESS_ACTIONS.s3List;
  for (const [actions, prefixes] of s3Grants) {
    if (!prefixes?.length) continue;
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: actions.filter((action) => !bucketActions.includes(action)),
        resources: prefixes.map((prefix) => bucket.arnForObjects(`${prefix}*`)),
      }),
    );
  }
  const readsObjects = Boolean(access.s3Read?.length);
  if (readsObjects) {
    // So that a missing key is a 404 (see ACCESS_ACTIONS.s3Read); it also covers any listing the function makes.
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: [...bucketActions], resources: [bucket.bucketArn] }));
  } else if (access.s3List?.length) {
    // ListBucket is a bucket action: the s3:prefix condition keeps it to the listed prefixes.
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: [...ACCESS_ACTIONS.s3List],
        resources: [bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': access.s3List.map((prefix) => `${prefix}*`) } },
      }),
    );
  }
  if (access.tableRead) {
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: [...ACCESS_ACTIONS.tableRead],
        resources: [table.tableArn, `${table.tableArn}/index/*`],
      }),
    );
  }
  if (access.tableWrite) {
    fn.addToRolePolicy(
      new iam.PolicyStatement({ actions: [...ACCESS_ACTIONS.tableWrite], resources: [table.tableArn] }),
    );
  }
  if (access.tableBatchRead) {
    fn.addToRolePolicy(
      new iam.PolicyStatement({ actions: [...ACCESS_ACTIONS.tableBatchRead], resources: [table.tableArn] }),
    );
  }
  const listingActions = access.listingRead ? LISTING_READ_ACTIONS[listingIndexes] : [];
  if (listingActions.length > 0 && !access.tableBatchRead) {
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: [...listingActions], resources: [table.tableArn] }));
  }
}
