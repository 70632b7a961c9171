// The OHIF viewer deployed (`-c viewer=true`): its prebuilt app in a private bucket behind CloudFront (Origin Access
// Control), with an app-config.js that points it at the API's DICOMweb routes.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Duration, RemovalPolicy, Size } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { VIEWER_NOT_INSTALLED, viewerAppConfig, viewerInstalled } from '../viewer-config.js';

export interface ViewerProps {
  /** The viewer's static build (scripts/install-viewer.mjs puts it in node_modules/.cache/ohif-viewer/<version>). */
  readonly distDir: string;
  /** The API's DICOMweb root, `https://<api>/<stage>/dicomweb` (a token until deploy). */
  readonly dicomwebRoot: string;
  /** The API wants an API key: the viewer asks its user for it and sends it as a Bearer token. */
  readonly apiKeyRequired: boolean;
  /** Delete the bucket and its files with the stack (they are only the public OHIF build); default: retained. */
  readonly destroyData?: boolean;
}

/** Hashed bundle names never change content: cached for a year. Everything else is revalidated (cheap 304s). */
const IMMUTABLE = [
  s3deploy.CacheControl.setPublic(),
  s3deploy.CacheControl.maxAge(Duration.days(365)),
  s3deploy.CacheControl.immutable(),
];
const REVALIDATE = [s3deploy.CacheControl.noCache()];
const BUNDLES = '*.bundle.*.js';
const WASM = '*.wasm';
const ENTRY_FILES = ['index.html', 'app-config.js'];

export class Viewer extends Construct {
  readonly bucket: s3.Bucket;
  readonly distribution: cloudfront.Distribution;
  /** `https://<id>.cloudfront.net`: the origin the API's CORS must allow. */
  readonly origin: string;
  readonly url: string;

  constructor(scope: Construct, id: string, props: ViewerProps) {
    super(scope, id);
    if (!viewerInstalled(props.distDir)) {
      throw new Error(`-c viewer=true: ${VIEWER_NOT_INSTALLED.error} (no index.html in ${props.distDir})`);
    }
    const removable = props.destroyData ?? false;
    this.bucket = new s3.Bucket(this, 'Bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: removable ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
      autoDeleteObjects: removable,
    });

    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'OHIF viewer of the DICOM API',
      defaultRootObject: 'index.html',
      defaultBehavior: {
        // OAC: CloudFront signs its requests; the bucket policy admits this distribution only.
        origin: origins.S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: cloudfront.ResponseHeadersPolicy.SECURITY_HEADERS,
        compress: true,
      },
      // The app's own routes (/viewer?StudyInstanceUIDs=...) are no objects: S3 answers 403 (no ListBucket), 404.
      errorResponses: [403, 404].map((httpStatus) => ({
        httpStatus,
        responseHttpStatus: 200,
        responsePagePath: '/index.html',
        ttl: Duration.seconds(10),
      })),
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
    });
    this.origin = `https://${this.distribution.distributionDomainName}`;
    this.url = `${this.origin}/`;

    // One zip of the build, synced in parts that differ in cache headers (and in WASM's type, which the sync's
    // guess may miss). Old files are kept (prune off): a browser still on the previous index.html finds its bundles.
    const build = s3deploy.Source.asset(props.distDir);
    const common = {
      destinationBucket: this.bucket,
      prune: false,
      memoryLimit: 1024,
      ephemeralStorageSize: Size.gibibytes(1),
    };
    const bundles = new s3deploy.BucketDeployment(this, 'DeployBundles', {
      ...common,
      sources: [build],
      exclude: ['*'],
      include: [BUNDLES],
      cacheControl: IMMUTABLE,
    });
    const wasm = new s3deploy.BucketDeployment(this, 'DeployWasm', {
      ...common,
      sources: [build],
      exclude: ['*'],
      include: [WASM],
      contentType: 'application/wasm',
      cacheControl: REVALIDATE,
    });
    const files = new s3deploy.BucketDeployment(this, 'DeployFiles', {
      ...common,
      sources: [build],
      exclude: [BUNDLES, WASM, ...ENTRY_FILES],
      cacheControl: REVALIDATE,
    });
    // The entry points last, once everything they name is in place; the config names the API (a deploy-time value).
    const entry = new s3deploy.BucketDeployment(this, 'DeployEntry', {
      ...common,
      sources: [
        s3deploy.Source.data('index.html', readFileSync(path.join(props.distDir, 'index.html'), 'utf8')),
        s3deploy.Source.data(
          'app-config.js',
          viewerAppConfig({
            dicomwebRoot: props.dicomwebRoot,
            routerBasename: '/',
            apiKeyRequired: props.apiKeyRequired,
          }),
        ),
      ],
      cacheControl: REVALIDATE,
      distribution: this.distribution,
      distributionPaths: ENTRY_FILES.map((file) => `/${file}`),
    });
    for (const part of [bundles, wasm, files]) entry.node.addDependency(part);
  }
}
