// The data: one private, encrypted, versioned S3 bucket (objects keyed by UUID) and one on-demand DynamoDB table,
// encrypted with AWS keys or (`-c kms=true`) a customer-managed key, recoverable for a stated number of days.
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { KEYS, TABLE, tableIndexes, type IndexDefinition, type ListingIndexes } from '../../lambdas/config.js';
import { BUCKET_CORS } from '../../lambdas/http/cors.js';

/**
 * How long deleted or overwritten data stays recoverable by an operator, and no longer: noncurrent S3 versions
 * expire after it, and DynamoDB point-in-time recovery reaches back exactly as far (README "What a delete means").
 */
export const RECOVERY_DAYS = 7;

/**
 * Where originals (`uploads/`) go once they are no longer new (`-c archiveOriginals=`): S3 Glacier Instant Retrieval
 * (default: a sixth of Standard's price per GB, still read in milliseconds, $0.03 per GB read and 90 days billed at
 * least), Intelligent-Tiering (no read fee, a monitoring fee per object) or nowhere (`off`: S3 Standard forever).
 * Derived files (PNG, JSON) stay in Standard: they are what reads touch. docs/cost.md has the arithmetic.
 */
export type OriginalsArchive = 'glacierIr' | 'intelligentTiering' | 'off';

export const ORIGINALS_ARCHIVE_CLASSES: Record<Exclude<OriginalsArchive, 'off'>, s3.StorageClass> = {
  glacierIr: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
  intelligentTiering: s3.StorageClass.INTELLIGENT_TIERING,
};

/** Days after upload when originals move (`-c archiveAfterDays=`): past the weeks in which a new study is read. */
export const DEFAULT_ARCHIVE_AFTER_DAYS = 30;

const PROJECTION_TYPES: Record<IndexDefinition['projection'], dynamodb.ProjectionType> = {
  ALL: dynamodb.ProjectionType.ALL,
  KEYS_ONLY: dynamodb.ProjectionType.KEYS_ONLY,
  INCLUDE: dynamodb.ProjectionType.INCLUDE,
};

export interface StorageProps {
  /** Delete the bucket (emptying it first) and the table with the stack; by default both are kept. */
  readonly destroyData: boolean;
  /** Encrypt bucket and table with a customer-managed KMS key of the stack (else SSE-S3 and an AWS-managed key). */
  readonly kms?: boolean;
  /** Where originals go after `archiveAfterDays`; default `glacierIr`. */
  readonly archiveOriginals?: OriginalsArchive;
  readonly archiveAfterDays?: number;
  /** How the ten file listing indexes project the item; default `all`. */
  readonly listingIndexes?: ListingIndexes;
}

export class Storage extends Construct {
  readonly bucket: s3.Bucket;
  readonly table: dynamodb.Table;
  /** The customer-managed key (`kms`), rotated yearly; retained with the data it protects. */
  readonly dataKey?: kms.Key;

  constructor(scope: Construct, id: string, props: StorageProps) {
    super(scope, id);
    const removalPolicy = props.destroyData ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
    if (props.kms) {
      this.dataKey = new kms.Key(this, 'DataKey', {
        description: 'DICOM API: encrypts the bucket and the table of patient data',
        enableKeyRotation: true,
        removalPolicy,
        ...(props.destroyData ? { pendingWindow: Duration.days(7) } : {}),
      });
    }

    const archive = props.archiveOriginals ?? 'glacierIr';
    this.bucket = new s3.Bucket(this, 'Bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      ...(this.dataKey
        ? { encryption: s3.BucketEncryption.KMS, encryptionKey: this.dataKey, bucketKeyEnabled: true }
        : { encryption: s3.BucketEncryption.S3_MANAGED }),
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // A mistaken or malicious DELETE can be undone for RECOVERY_DAYS, then the bytes are gone for good.
      versioned: true,
      lifecycleRules: [
        // An upload that never completes would otherwise be billed forever, invisible to listings.
        { id: 'abort-incomplete-multipart', abortIncompleteMultipartUploadAfter: Duration.days(1) },
        { id: 'expire-deleted-and-overwritten', noncurrentVersionExpiration: Duration.days(RECOVERY_DAYS) },
        { id: 'remove-expired-delete-markers', expiredObjectDeleteMarker: true },
        // Large DICOMweb answers handed out as presigned redirects are needed for minutes, kept for a day.
        { id: 'expire-large-answers', prefix: KEYS.answerPrefix, expiration: Duration.days(1) },
        // Originals are read when processed and rarely after (renderings and downloads of old studies).
        ...(archive === 'off'
          ? []
          : [
              {
                id: 'archive-originals',
                prefix: KEYS.uploadPrefix,
                transitions: [
                  {
                    storageClass: ORIGINALS_ARCHIVE_CLASSES[archive],
                    transitionAfter: Duration.days(props.archiveAfterDays ?? DEFAULT_ARCHIVE_AFTER_DAYS),
                  },
                ],
              },
            ]),
      ],
      removalPolicy,
      autoDeleteObjects: props.destroyData,
    });

    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: TABLE.partitionKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true, recoveryPeriodInDays: RECOVERY_DAYS },
      ...(this.dataKey
        ? { encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED, encryptionKey: this.dataKey }
        : { encryption: dynamodb.TableEncryption.AWS_MANAGED }),
      // A table delete (console, CLI, a stack update) is refused unless the dev flag made the data deletable.
      deletionProtection: !props.destroyData,
      // Set only while a direct upload's bytes are awaited: a record whose upload never arrives expires.
      timeToLiveAttribute: TABLE.ttlAttribute,
      removalPolicy,
    });
    // The listing indexes, exactly as the local runtime creates them (one definition in lambdas/config.ts).
    for (const index of tableIndexes(props.listingIndexes ?? 'all')) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.name,
        partitionKey: { name: index.partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: { name: index.sortKey, type: dynamodb.AttributeType.STRING },
        projectionType: PROJECTION_TYPES[index.projection],
        ...(index.nonKeyAttributes ? { nonKeyAttributes: [...index.nonKeyAttributes] } : {}),
      });
    }
  }

  /**
   * Browser origins that may PUT large uploads straight to the bucket and GET presigned redirects (the web page's
   * own origin, and those allowed by CORS); no rule at all means no browser may.
   */
  allowBrowserOrigins(origins: readonly string[]): void {
    if (origins.length === 0) return;
    this.bucket.addCorsRule({
      allowedOrigins: [...origins],
      allowedMethods: BUCKET_CORS.allowedMethods.map((method) => s3.HttpMethods[method]),
      allowedHeaders: [...BUCKET_CORS.allowedHeaders],
      exposedHeaders: [...BUCKET_CORS.exposedHeaders],
      maxAge: BUCKET_CORS.maxAgeSeconds,
    });
    // A viewer on another origin follows the API's 302 to a presigned GET (large frames, large metadata): after two
    // cross-origin hops the browser sends `Origin: null`, which no origin list matches. Reads of this private bucket
    // need a presigned URL anyway, so GET and HEAD may come from any origin; writes stay limited to the list above.
    this.bucket.addCorsRule({
      allowedOrigins: ['*'],
      allowedMethods: [s3.HttpMethods.GET, s3.HttpMethods.HEAD],
      allowedHeaders: ['*'],
      exposedHeaders: [...BUCKET_CORS.exposedHeaders],
      maxAge: BUCKET_CORS.maxAgeSeconds,
    });
  }
}
