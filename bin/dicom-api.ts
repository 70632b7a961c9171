// The CDK app: `npx cdk synth|deploy|destroy` runs this (see cdk.json); context flags choose the security options
// (`-c auth=apiKey|iam|none`, `-c corsOrigins=...`, `-c kms=true`, `-c tracing=true`, `-c alarmEmail=...`,
// `-c destroyData=true`; README "Security").
import { App } from 'aws-cdk-lib';
import { DicomApiStack, stackOptionsFromContext } from '../lib/dicom-api-stack.js';

const app = new App();

new DicomApiStack(app, 'DicomApi', {
  description: 'DICOM API: API Gateway REST API, one Lambda per route, S3-triggered processor, DynamoDB records',
  ...stackOptionsFromContext((key) => app.node.tryGetContext(key)),
});
