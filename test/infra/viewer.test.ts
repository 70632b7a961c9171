// CDK assertions on `-c viewer=true`: the OHIF viewer in a private, encrypted, SSL-only bucket behind CloudFront
// with Origin Access Control, its config pointing at the API, the API's CORS admitting it; and nothing without it.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../lib/constructs/function-defaults.js';
import { DicomApiStack, stackOptionsFromContext, type DicomApiStackProps } from '../../lib/dicom-api-stack.js';
import { references } from '../support/template.js';

type Resource = { Type: string; Properties?: Record<string, any> };

/** A stand-in for the OHIF build: synth copies it into an asset, so a tiny one keeps the test fast and offline. */
function fakeBuild(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'ohif-dist-'));
  writeFileSync(path.join(dir, 'index.html'), '<script>window.PUBLIC_URL="/"</script><script src="/app-config.js">');
  writeFileSync(path.join(dir, 'app.bundle.0123456789abcdef.js'), '__webpack_require__.p = "/";');
  writeFileSync(path.join(dir, '0123456789abcdef.wasm'), '\0asm');
  return dir;
}

function synth(props: DicomApiStackProps): Template {
  const cdkJson = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  };
  const app = new App({ context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [] } });
  return Template.fromStack(new DicomApiStack(app, 'DicomApiViewerTest', props));
}

function ofType(template: Template, type: string): [string, Resource][] {
  return Object.entries(template.toJSON().Resources as Record<string, Resource>).filter(([, r]) => r.Type === type);
}

describe('-c viewer=true', () => {
  let dist: string;
  let template: Template;
  let bucketId: string;
  let distributionId: string;

  beforeAll(() => {
    dist = fakeBuild();
    template = synth({ viewer: true, viewerDistDir: dist });
    const viewerBuckets = ofType(template, 'AWS::S3::Bucket').filter(([id]) => id.startsWith('Viewer'));
    expect(viewerBuckets).toHaveLength(1);
    bucketId = viewerBuckets[0]![0];
    const distributions = ofType(template, 'AWS::CloudFront::Distribution');
    expect(distributions).toHaveLength(1);
    distributionId = distributions[0]![0];
  });
  afterAll(() => rmSync(dist, { recursive: true, force: true }));

  it('reads the flag from context, and only true or false', () => {
    expect(stackOptionsFromContext((key) => (key === 'viewer' ? 'true' : undefined)).viewer).toBe(true);
    expect(stackOptionsFromContext(() => undefined).viewer).toBe(false);
    expect(() => stackOptionsFromContext((key) => (key === 'viewer' ? 'yes' : undefined))).toThrow(/viewer=yes/);
  });

  it('keeps the build in a private, encrypted bucket', () => {
    const bucket = template.toJSON().Resources[bucketId] as Resource;
    expect(bucket.Properties!.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(bucket.Properties!.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
    });
  });

  it('refuses plain HTTP to the bucket and admits only this distribution', () => {
    const policies = ofType(template, 'AWS::S3::BucketPolicy').filter(([, r]) =>
      references(r.Properties!.Bucket).includes(bucketId),
    );
    expect(policies).toHaveLength(1);
    const statements = policies[0]![1].Properties!.PolicyDocument.Statement as Record<string, any>[];
    const denyHttp = statements.find((s) => s.Effect === 'Deny');
    expect(denyHttp?.Condition).toEqual({ Bool: { 'aws:SecureTransport': 'false' } });
    const allows = statements.filter((s) => s.Effect === 'Allow');
    expect(allows.length).toBeGreaterThan(0);
    for (const allow of allows) {
      expect(allow.Principal).toEqual({ Service: 'cloudfront.amazonaws.com' });
      expect([allow.Action].flat()).toEqual(['s3:GetObject']);
      expect(references(allow.Condition?.StringEquals?.['AWS:SourceArn'])).toContain(distributionId);
    }
  });

  it('serves it through CloudFront with Origin Access Control, HTTPS and the SPA fallback', () => {
    template.resourceCountIs('AWS::CloudFront::OriginAccessControl', 1);
    template.resourceCountIs('AWS::CloudFront::CloudFrontOriginAccessIdentity', 0);
    template.hasResourceProperties('AWS::CloudFront::OriginAccessControl', {
      OriginAccessControlConfig: Match.objectLike({ OriginAccessControlOriginType: 's3', SigningBehavior: 'always' }),
    });
    const config = (template.toJSON().Resources[distributionId] as Resource).Properties!.DistributionConfig;
    expect(config.DefaultRootObject).toBe('index.html');
    expect(config.DefaultCacheBehavior.ViewerProtocolPolicy).toBe('redirect-to-https');
    expect(references(config.Origins[0].OriginAccessControlId).length).toBe(1);
    expect(config.Origins[0].S3OriginConfig.OriginAccessIdentity).toBe('');
    expect(config.CustomErrorResponses).toEqual(
      expect.arrayContaining(
        [403, 404].map((code) =>
          expect.objectContaining({ ErrorCode: code, ResponseCode: 200, ResponsePagePath: '/index.html' }),
        ),
      ),
    );
  });

  it('deploys the build and an app-config.js naming the API stage + /dicomweb', () => {
    const deployments = ofType(template, 'Custom::CDKBucketDeployment');
    expect(deployments.length).toBeGreaterThanOrEqual(2);
    for (const [, deployment] of deployments) {
      expect(references(deployment.Properties!.DestinationBucketName)).toContain(bucketId);
    }
    // Source.data with a deploy-time value: the API id is a marker substituted at deploy.
    const entry = deployments.find(([id]) => id.includes('DeployEntry'))!;
    const markers = JSON.stringify(entry[1].Properties!.SourceMarkers);
    expect(markers).toContain('.execute-api.');
    expect(markers).toContain('/dicomweb');
    expect(references(entry[1].Properties!.SourceMarkers)).toContain(
      ofType(template, 'AWS::ApiGateway::RestApi')[0]![0],
    );
    expect(references(entry[1].Properties!.DistributionId)).toContain(distributionId);
  });

  it('outputs ViewerUrl', () => {
    const output = template.toJSON().Outputs.ViewerUrl;
    expect(output).toBeDefined();
    expect(references(output.Value)).toContain(distributionId);
  });

  it("lets the viewer's origin call the API (CORS)", () => {
    // The preflight of /dicom names the CloudFront domain.
    const options = ofType(template, 'AWS::ApiGateway::Method').filter(
      ([, r]) => r.Properties!.HttpMethod === 'OPTIONS',
    );
    expect(options.length).toBeGreaterThan(0);
    const allowOrigin =
      options[0]![1].Properties!.Integration.IntegrationResponses[0].ResponseParameters[
        'method.response.header.Access-Control-Allow-Origin'
      ];
    expect(references(allowOrigin)).toContain(distributionId);
    // The handlers' allowed origins too.
    const functions = ofType(template, 'AWS::Lambda::Function').filter(
      ([, r]) => r.Properties!.Environment?.Variables?.CORS_ORIGINS !== undefined,
    );
    expect(functions.length).toBeGreaterThan(0);
    expect(references(functions[0]![1].Properties!.Environment.Variables.CORS_ORIGINS)).toContain(distributionId);
  });

  it('refuses to synth without the build, saying how to install it', () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'no-ohif-'));
    try {
      expect(() => synth({ viewer: true, viewerDistDir: empty })).toThrow(/npm run viewer:install/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe('without -c viewer=true', () => {
  it('has no viewer, no CloudFront and no ViewerUrl, and synthesizes with no build present', () => {
    const template = synth({ viewerDistDir: path.join(tmpdir(), 'no-such-ohif-build') });
    template.resourceCountIs('AWS::CloudFront::Distribution', 0);
    template.resourceCountIs('AWS::CloudFront::OriginAccessControl', 0);
    template.resourceCountIs('Custom::CDKBucketDeployment', 0);
    expect(ofType(template, 'AWS::S3::Bucket').filter(([id]) => id.startsWith('Viewer'))).toEqual([]);
    expect(template.toJSON().Outputs.ViewerUrl).toBeUndefined();
  });
});
