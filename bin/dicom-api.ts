// The CDK app: `npx cdk synth|deploy|destroy` runs this (see cdk.json); `-c destroyData=true` makes data deletable.
import { App } from 'aws-cdk-lib';
import { DicomApiStack } from '../lib/dicom-api-stack.js';

const app = new App();
const destroyData = String(app.node.tryGetContext('destroyData') ?? 'false') === 'true';

new DicomApiStack(app, 'DicomApi', {
  description: 'DICOM API: API Gateway REST API, one Lambda per route, S3-triggered processor, DynamoDB records',
  destroyData,
});
