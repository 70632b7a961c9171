// Image delivery without API Gateway or Lambda on the read path: a CloudFront distribution that serves the processed
// files' default PNG and thumbnail from the data bucket (Origin Access Control; the bucket admits this distribution
// for those two keys only) to requests signed with the stack's own key pair. A route with `imageGrants` hands clients
// a short-lived signed policy for `derived/*` images; each image read is then one CloudFront request.
import path from 'node:path';
import {
  Aws,
  CustomResource,
  CustomResourceProvider,
  CustomResourceProviderRuntime,
  Duration,
  RemovalPolicy,
} from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ENV, KEYS } from '../../lambdas/config.js';

/** The objects the distribution may read: every processed file's default rendering and thumbnail. */
export const IMAGE_OBJECT_PATTERNS = [KEYS.png('*'), KEYS.thumbnail('*')] as const;

/**
 * How long an edge keeps an image: a deleted file's PNG stays readable from a cache for at most this long, and only to
 * a holder of a grant that has not expired (every grant also needs the API key or IAM to obtain).
 */
export const IMAGE_CACHE_SECONDS = 60;

export interface ImagesProps {
  readonly bucket: s3.IBucket;
  /** The bucket's customer-managed key (`-c kms=true`): CloudFront may decrypt through S3 with it. */
  readonly dataKey?: kms.IKey;
}

export class Images extends Construct {
  readonly distribution: cloudfront.Distribution;
  /** `https://<id>.cloudfront.net`, where `derived/<id>/image.png` is served to signed requests. */
  readonly url: string;
  readonly publicKey: cloudfront.PublicKey;
  /** The private key (PEM), written at deploy by the key pair resource; only grant-signing functions read it. */
  readonly signingKey: secretsmanager.Secret;
  private readonly keyPair: CustomResource;

  constructor(scope: Construct, id: string, props: ImagesProps) {
    super(scope, id);
    this.signingKey = new secretsmanager.Secret(this, 'SigningKey', {
      description: 'DICOM API: private key that signs image-access grants for the image distribution',
      // Losing it only invalidates grants in flight; a new deploy makes a new pair.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const provider = CustomResourceProvider.getOrCreateProvider(this, 'Custom::ImageSigningKeyPair', {
      codeDirectory: path.join(import.meta.dirname, 'image-signing-key'),
      runtime: CustomResourceProviderRuntime.NODEJS_22_X,
      description: 'Makes the key pair that signs image-access grants (private key into its secret)',
    });
    provider.addToRolePolicy({
      Effect: 'Allow',
      Action: 'secretsmanager:PutSecretValue',
      Resource: this.signingKey.secretArn,
    });
    this.keyPair = new CustomResource(this, 'KeyPair', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::ImageSigningKeyPair',
      // Bump Generation to rotate the pair.
      properties: { SecretId: this.signingKey.secretArn, Generation: 1 },
    });
    this.publicKey = new cloudfront.PublicKey(this, 'PublicKey', {
      comment: 'DICOM API image-access grants',
      encodedKey: this.keyPair.getAttString('PublicKey'),
    });
    const keyGroup = new cloudfront.KeyGroup(this, 'KeyGroup', { items: [this.publicKey] });

    const originAccessControl = new cloudfront.S3OriginAccessControl(this, 'OriginAccessControl', {
      description: 'DICOM API images: signed reads of processed PNGs',
    });
    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'DICOM API images: processed PNGs and thumbnails, for requests signed by an image-access grant',
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withBucketDefaults(props.bucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        trustedKeyGroups: [keyGroup],
        // The grant's query string is checked by CloudFront and kept out of the cache key: one copy per image.
        cachePolicy: new cloudfront.CachePolicy(this, 'CachePolicy', {
          comment: 'DICOM API images: a minute, keyed by path only',
          defaultTtl: Duration.seconds(IMAGE_CACHE_SECONDS),
          maxTtl: Duration.seconds(IMAGE_CACHE_SECONDS),
          minTtl: Duration.seconds(0),
          queryStringBehavior: cloudfront.CacheQueryStringBehavior.none(),
          headerBehavior: cloudfront.CacheHeaderBehavior.none(),
          cookieBehavior: cloudfront.CacheCookieBehavior.none(),
        }),
        // Viewers on other origins fetch images with fetch(): the signature is the credential, any origin may ask.
        responseHeadersPolicy: cloudfront.ResponseHeadersPolicy.CORS_ALLOW_ALL_ORIGINS_AND_SECURITY_HEADERS,
        compress: false,
      },
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
    });
    // Origin Access Control by hand: CDK's helper would admit the distribution to every object of the bucket.
    const cfnDistribution = this.distribution.node.defaultChild as cloudfront.CfnDistribution;
    cfnDistribution.addPropertyOverride(
      'DistributionConfig.Origins.0.OriginAccessControlId',
      originAccessControl.originAccessControlId,
    );
    cfnDistribution.addPropertyOverride('DistributionConfig.Origins.0.S3OriginConfig.OriginAccessIdentity', '');
    const fromThisDistribution = { StringEquals: { 'AWS:SourceArn': this.distribution.distributionArn } };
    props.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'ImageDistributionReadsImages',
        actions: ['s3:GetObject'],
        principals: [new iam.ServicePrincipal('cloudfront.amazonaws.com')],
        resources: IMAGE_OBJECT_PATTERNS.map((key) => props.bucket.arnForObjects(key)),
        conditions: fromThisDistribution,
      }),
    );
    // The key policy cannot name this distribution (key -> bucket -> distribution would be a cycle): CloudFront of
    // this account, as CDK's own helper does; the bucket policy above still admits this distribution only.
    props.dataKey?.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'ImageDistributionDecryptsImages',
        actions: ['kms:Decrypt'],
        principals: [new iam.ServicePrincipal('cloudfront.amazonaws.com')],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'AWS:SourceArn': `arn:${Aws.PARTITION}:cloudfront::${Aws.ACCOUNT_ID}:distribution/*`,
          },
        },
      }),
    );
    this.url = `https://${this.distribution.distributionDomainName}`;
  }

  /** What a grant-signing function needs: the distribution's URL, the key pair id and the private key. */
  environment(): Record<string, string> {
    return {
      [ENV.imagesUrl]: this.url,
      // Changes whenever the pair is replaced, so the function is updated and re-reads the key.
      [ENV.imagesKeyPairId]: this.publicKey.publicKeyId,
      // Resolved by CloudFormation at deploy ({{resolve:secretsmanager:...}}), as the cursor secret is.
      [ENV.imagesSigningKey]: this.signingKey.secretValue.unsafeUnwrap(),
    };
  }

  /** Gives `fn` the grant environment, once the key pair exists (its secret then holds the private key). */
  allowSigning(fn: lambda.Function): void {
    for (const [name, value] of Object.entries(this.environment())) fn.addEnvironment(name, value);
    fn.node.addDependency(this.keyPair);
  }
}
