// The stack: storage, the REST API and the processor, composed with their access control and monitoring; the
// outputs a user needs to call it; and the context flags that choose the security options.
import { Aws, CfnOutput, Fn, Lazy, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { parseListingIndexes, type ListingIndexes } from '../lambdas/config.js';
import { parseOrigins } from '../lambdas/http/cors.js';
import { Api, DEFAULT_API_LIMITS, type ApiLimits, type AuthMode } from './constructs/api.js';
import { Monitoring } from './constructs/monitoring.js';
import { Processor } from './constructs/processor.js';
import { DEFAULT_ARCHIVE_AFTER_DAYS, Storage, type OriginalsArchive } from './constructs/storage.js';
import { Viewer } from './constructs/viewer.js';
import { viewerDistDir } from './viewer-config.js';

export interface DicomApiStackProps extends StackProps {
  /** Delete the bucket (and its objects), the table, the key and the kept logs on `cdk destroy`; default: retained. */
  readonly destroyData?: boolean;
  /** Who may call the API: `apiKey` (default), `iam` (SigV4) or `none` (open, for demos). */
  readonly auth?: AuthMode;
  /** Browser origins allowed by CORS (API and bucket); default none: CORS off. */
  readonly corsOrigins?: readonly string[];
  /** Encrypt bucket and table with a customer-managed KMS key; default SSE-S3 and an AWS-managed table key. */
  readonly kms?: boolean;
  /** X-Ray tracing of the stage and every function; default off. */
  readonly tracing?: boolean;
  /** Mail alarms here (an SNS topic with an e-mail subscription); default no topic. */
  readonly alarmEmail?: string;
  /** Deploy the OHIF viewer (CloudFront + a private bucket) reading the API's /dicomweb; default off. */
  readonly viewer?: boolean;
  /** The viewer's build; default the install script's cache (lib/viewer-config.ts). */
  readonly viewerDistDir?: string;
  /** Where originals go after `archiveAfterDays` (default Glacier Instant Retrieval after 30 days; `off`: never). */
  readonly archiveOriginals?: OriginalsArchive;
  readonly archiveAfterDays?: number;
  /** Stage and per-key rate, burst and daily quota (default DEFAULT_API_LIMITS). */
  readonly apiLimits?: ApiLimits;
  /**
   * How the ten file listing indexes project the item: `all` (default, a listing page is one Query a stream) or
   * `keysOnly` (about $79/month less at 10 M files, a BatchGetItem more a page; docs/deploy.md before switching).
   */
  readonly listingIndexes?: ListingIndexes;
}

/** The context flags of `cdk deploy -c name=value` (README "Security" has the table). */
export const CONTEXT_FLAGS = [
  'auth',
  'corsOrigins',
  'kms',
  'tracing',
  'alarmEmail',
  'destroyData',
  'viewer',
  'archiveOriginals',
  'archiveAfterDays',
  'apiRateLimit',
  'apiBurstLimit',
  'apiQuotaPerDay',
  'listingIndexes',
] as const;

const AUTH_MODES: Record<string, AuthMode> = { apikey: 'apiKey', iam: 'iam', none: 'none' };
const ARCHIVES: Record<string, OriginalsArchive> = {
  glacierir: 'glacierIr',
  intelligenttiering: 'intelligentTiering',
  off: 'off',
};

/** The stack's options from CDK context; a value it does not know stops the synth (a typo must not open the API). */
export function stackOptionsFromContext(context: (key: string) => unknown): DicomApiStackProps {
  const text = (key: string): string | undefined => {
    const value = context(key);
    return value === undefined || value === null ? undefined : String(value).trim();
  };
  const flag = (key: string): boolean => {
    const value = text(key)?.toLowerCase() ?? 'false';
    if (value !== 'true' && value !== 'false') throw new Error(`-c ${key}=${value}: use true or false`);
    return value === 'true';
  };
  const authText = text('auth') ?? 'apiKey';
  const auth = AUTH_MODES[authText.toLowerCase()];
  if (!auth) throw new Error(`-c auth=${authText}: use apiKey (default), iam or none`);
  /** A whole number in [min, max]; `none` (where allowed) for no limit. */
  const count = (key: string, fallback: number, min: number, max: number, none?: number): number => {
    const value = text(key);
    if (value === undefined) return fallback;
    if (none !== undefined && value.toLowerCase() === 'none') return none;
    const n = Number(value.replaceAll('_', ''));
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new Error(
        `-c ${key}=${value}: use a whole number from ${min} to ${max}${none !== undefined ? ', or none' : ''}`,
      );
    }
    return n;
  };
  const archiveText = text('archiveOriginals') ?? 'glacierIr';
  const archiveOriginals = ARCHIVES[archiveText.toLowerCase()];
  if (!archiveOriginals)
    throw new Error(`-c archiveOriginals=${archiveText}: use glacierIr (default), intelligentTiering or off`);
  const listingText = text('listingIndexes');
  const listingIndexes = parseListingIndexes(listingText);
  if (!listingIndexes) throw new Error(`-c listingIndexes=${listingText}: use all (default) or keysOnly`);
  const alarmEmail = text('alarmEmail');
  if (alarmEmail !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(alarmEmail)) {
    throw new Error(`-c alarmEmail=${alarmEmail}: not an e-mail address`);
  }
  return {
    auth,
    corsOrigins: parseOrigins(text('corsOrigins')),
    kms: flag('kms'),
    tracing: flag('tracing'),
    destroyData: flag('destroyData'),
    viewer: flag('viewer'),
    archiveOriginals,
    archiveAfterDays: count('archiveAfterDays', DEFAULT_ARCHIVE_AFTER_DAYS, 0, 3650),
    listingIndexes,
    apiLimits: {
      // API Gateway's account limit is 10,000 requests/s; a quota of 0 would refuse every request.
      rateLimit: count('apiRateLimit', DEFAULT_API_LIMITS.rateLimit, 1, 10_000),
      burstLimit: count('apiBurstLimit', DEFAULT_API_LIMITS.burstLimit, 1, 5_000),
      quotaPerDay: count('apiQuotaPerDay', DEFAULT_API_LIMITS.quotaPerDay, 1, 1_000_000_000, 0) || undefined,
    },
    ...(alarmEmail ? { alarmEmail } : {}),
  };
}

export class DicomApiStack extends Stack {
  readonly storage: Storage;
  readonly api: Api;
  readonly processor: Processor;
  readonly monitoring: Monitoring;
  readonly viewer?: Viewer;

  constructor(scope: Construct, id: string, props: DicomApiStackProps = {}) {
    super(scope, id, props);
    const destroyData = props.destroyData ?? false;
    this.storage = new Storage(this, 'Storage', {
      destroyData,
      kms: props.kms ?? false,
      ...(props.archiveOriginals ? { archiveOriginals: props.archiveOriginals } : {}),
      ...(props.archiveAfterDays !== undefined ? { archiveAfterDays: props.archiveAfterDays } : {}),
      listingIndexes: props.listingIndexes ?? 'all',
    });
    const { bucket, table, dataKey } = this.storage;
    const settings = {
      ...(dataKey ? { dataKey } : {}),
      tracing: props.tracing ?? false,
      listingIndexes: props.listingIndexes ?? 'all',
    };
    // The viewer (built after the API it reads) calls the API from its CloudFront origin: allowed by CORS, resolved late.
    const viewerOrigin = props.viewer ? [Lazy.string({ produce: () => this.viewer!.origin })] : [];
    const corsOrigins = [...(props.corsOrigins ?? []), ...viewerOrigin];
    this.api = new Api(this, 'Api', {
      bucket,
      table,
      ...settings,
      auth: props.auth ?? 'apiKey',
      corsOrigins,
      retainLogs: !destroyData,
      ...(props.apiLimits ? { limits: props.apiLimits } : {}),
    });
    this.processor = new Processor(this, 'Processor', { bucket, table, ...settings });

    const restApi = this.api.restApi;
    // The built-in page (served by the API itself) PUTs large uploads to the bucket: its origin, plus the CORS ones.
    const apiOrigin = Fn.join('', ['https://', restApi.restApiId, '.execute-api.', Aws.REGION, '.', Aws.URL_SUFFIX]);
    this.storage.allowBrowserOrigins([apiOrigin, ...corsOrigins]);
    const apiUrl = Fn.join('', [apiOrigin, '/', restApi.deploymentStage.stageName]);
    if (props.viewer) {
      this.viewer = new Viewer(this, 'Viewer', {
        distDir: props.viewerDistDir ?? viewerDistDir(),
        dicomwebRoot: Fn.join('', [apiUrl, '/dicomweb']),
        apiKeyRequired: this.api.auth === 'apiKey',
        destroyData,
      });
    }

    const functions = new Map([
      ...this.api.handlerFunctions,
      ...(this.api.authorizerFunction ? [['apiKeyAuthorizer', this.api.authorizerFunction] as const] : []),
      ['processor', this.processor.function],
      ['processingFailed', this.processor.failureFunction],
    ]);
    this.monitoring = new Monitoring(this, 'Monitoring', {
      functions,
      deadLetterQueue: this.processor.deadLetterQueue,
      stage: restApi.deploymentStage,
      auditLogGroups: [...this.api.auditedFunctions()].map((fn) => fn.logGroup),
      accessLogs: this.api.accessLogs,
      ...(props.alarmEmail ? { alarmEmail: props.alarmEmail } : {}),
    });

    new CfnOutput(this, 'ApiUrl', {
      description: 'Base URL of the API (no trailing slash): curl "$API_URL/dicom"',
      value: apiUrl,
    });
    if (this.viewer) {
      new CfnOutput(this, 'ViewerUrl', {
        description: 'The OHIF viewer, reading this API over DICOMweb (it asks for the API key once)',
        value: this.viewer.url,
      });
    }
    if (this.api.apiKey) {
      new CfnOutput(this, 'ApiKeyId', {
        description: 'The API key id; its value: aws apigateway get-api-key --api-key <id> --include-value',
        value: this.api.apiKey.keyId,
      });
    }
    if (this.api.auth === 'iam') {
      new CfnOutput(this, 'ApiInvokeArn', {
        description: 'Allow execute-api:Invoke on this ARN to the principals that may call the API',
        value: restApi.arnForExecuteApi('*', '/*', restApi.deploymentStage.stageName),
      });
    }
    new CfnOutput(this, 'BucketName', {
      description: 'S3 bucket holding uploads and derived files',
      value: bucket.bucketName,
    });
    new CfnOutput(this, 'TableName', { description: 'DynamoDB table of file records', value: table.tableName });
  }
}
