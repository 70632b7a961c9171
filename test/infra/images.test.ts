// CDK assertions on image delivery (lib/constructs/images.ts), deployed when a route signs image-access grants: here a
// route table with one such route added, since the real table has none yet.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { ENV } from '../../lambdas/config.js';
import { PROJECT_ROOT } from '../../lib/constructs/function-defaults.js';
import { IMAGE_CACHE_SECONDS } from '../../lib/constructs/images.js';
import { DicomApiStack, stackOptionsFromContext } from '../../lib/dicom-api-stack.js';
import { references } from '../support/template.js';

vi.mock('../../lambdas/routes.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../lambdas/routes.js')>();
  const grants = {
    name: 'imageAccess',
    handler: 'get',
    method: 'GET',
    path: '/dicom/image-access',
    access: { tableRead: true },
    imageGrants: true,
    audit: 'read',
  } as const;
  return { ...actual, ROUTES: [...actual.ROUTES, grants] };
});

type Resource = { Type: string; Properties?: Record<string, any>; DependsOn?: string[] };

function synth(flags: Record<string, string> = {}) {
  const cdkJson = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  };
  const app = new App({ context: { ...cdkJson.context, ...flags, 'aws:cdk:bundling-stacks': [] } });
  const stack = new DicomApiStack(
    app,
    'DicomApiImages',
    stackOptionsFromContext((k) => app.node.tryGetContext(k)),
  );
  const template = Template.fromStack(stack);
  const resources = template.toJSON().Resources as Record<string, Resource>;
  const id = (construct: { node: { defaultChild?: unknown } }) =>
    stack.getLogicalId(construct.node.defaultChild as CfnFunction);
  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  return { stack, template, resources, id, ofType };
}

describe('image delivery: a route with imageGrants deploys the image distribution', () => {
  const s = synth();
  const images = s.stack.images!;

  it('CloudFront, HTTPS only, GET and HEAD, every request signed by the stack key pair, a minute of cache keyed by path', () => {
    expect(images).toBeDefined();
    const [[, distribution]] = s.ofType('AWS::CloudFront::Distribution') as [[string, Resource]];
    const config = distribution.Properties!.DistributionConfig;
    expect(config.DefaultCacheBehavior).toMatchObject({
      ViewerProtocolPolicy: 'https-only',
      AllowedMethods: ['GET', 'HEAD'],
    });
    const [keyGroupId] = references(config.DefaultCacheBehavior.TrustedKeyGroups);
    expect(s.resources[keyGroupId!]!.Properties!.KeyGroupConfig.Items).toEqual([{ Ref: s.id(images.publicKey) }]);
    // The public key comes from the deploy-time key pair; the private key never appears in the template.
    const publicKey = s.resources[s.id(images.publicKey)]!.Properties!.PublicKeyConfig;
    const [keyPairId] = references(publicKey.EncodedKey);
    expect(s.resources[keyPairId!]!.Type).toBe('Custom::ImageSigningKeyPair');
    expect(JSON.stringify(s.template.toJSON())).not.toMatch(/PRIVATE KEY/);
    const [cachePolicyId] = references(config.DefaultCacheBehavior.CachePolicyId);
    expect(s.resources[cachePolicyId!]!.Properties!.CachePolicyConfig).toMatchObject({
      DefaultTTL: IMAGE_CACHE_SECONDS,
      MaxTTL: IMAGE_CACHE_SECONDS,
      ParametersInCacheKeyAndForwardedToOrigin: { QueryStringsConfig: { QueryStringBehavior: 'none' } },
    });
    // Origin Access Control on the data bucket, no legacy identity.
    const [origin] = config.Origins as Record<string, any>[];
    expect(references(origin!.OriginAccessControlId)).toEqual([
      s.ofType('AWS::CloudFront::OriginAccessControl')[0]![0],
    ]);
    expect(origin!.S3OriginConfig).toEqual({ OriginAccessIdentity: '' });
    expect(references(origin!.DomainName)).toEqual([s.id(s.stack.storage.bucket)]);
  });

  it('the bucket admits the distribution to processed PNGs and thumbnails only', () => {
    const [[, policy]] = s.ofType('AWS::S3::BucketPolicy') as [[string, Resource]];
    const forCloudFront = (policy.Properties!.PolicyDocument.Statement as Record<string, any>[]).filter(
      (statement) => statement.Principal?.Service === 'cloudfront.amazonaws.com',
    );
    expect(forCloudFront).toHaveLength(1);
    expect(forCloudFront[0]).toMatchObject({ Effect: 'Allow', Action: 's3:GetObject' });
    const keys = (forCloudFront[0]!.Resource as Record<string, any>[]).map((r) => r['Fn::Join'][1][1]);
    expect(keys).toEqual(['/derived/*/image.png', '/derived/*/thumbnail.png']);
    expect(references(forCloudFront[0]!.Condition.StringEquals['AWS:SourceArn'])).toContain(s.id(images.distribution));
  });

  it('only the grant-signing function gets the URL, key pair id and private key, after the key pair exists', () => {
    const signer = s.id(s.stack.api.functions.get('imageAccess')!);
    for (const [id, fn] of s.ofType('AWS::Lambda::Function')) {
      const variables = (fn.Properties!.Environment?.Variables ?? {}) as Record<string, unknown>;
      expect(ENV.imagesSigningKey in variables, id).toBe(id === signer);
    }
    const variables = s.resources[signer]!.Properties!.Environment.Variables;
    expect(JSON.stringify(variables[ENV.imagesSigningKey])).toContain('{{resolve:secretsmanager:');
    expect(references(variables[ENV.imagesKeyPairId])).toEqual([s.id(images.publicKey)]);
    expect(s.resources[signer]!.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^ImagesKeyPair/)]));
    expect((s.template.toJSON().Outputs as Record<string, unknown>).ImagesUrl).toBeDefined();
  });

  it('the key pair maker may only write that one secret', () => {
    const roles = s.ofType('AWS::IAM::Role').filter(([id]) => id.startsWith('CustomImageSigningKeyPair'));
    expect(roles).toHaveLength(1);
    expect(roles[0]![1].Properties!.Policies).toEqual([
      {
        PolicyName: 'Inline',
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Action: 'secretsmanager:PutSecretValue', Resource: { Ref: s.id(images.signingKey) } },
          ],
        },
      },
    ]);
  });

  it('-c kms=true: the data key lets CloudFront of this account decrypt through S3 (no cycle; the bucket policy narrows it)', () => {
    const k = synth({ kms: 'true' });
    const key = k.resources[k.id(k.stack.storage.dataKey!)]!;
    const statement = (key.Properties!.KeyPolicy.Statement as Record<string, any>[]).find(
      (st) => st.Principal?.Service === 'cloudfront.amazonaws.com',
    );
    expect(statement).toMatchObject({ Effect: 'Allow', Action: 'kms:Decrypt' });
    expect(JSON.stringify(statement!.Condition.ArnLike['AWS:SourceArn'])).toMatch(/:distribution\/\*"/);
    expect(JSON.stringify(statement!.Condition)).toContain('AWS::AccountId');
  });
});
