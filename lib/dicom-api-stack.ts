// The stack: storage, the REST API and the processor, composed; the outputs a user needs to call it.
import { Aws, CfnOutput, Fn, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { Api } from './constructs/api.js';
import { Processor } from './constructs/processor.js';
import { Storage } from './constructs/storage.js';

export interface DicomApiStackProps extends StackProps {
  /** Delete the bucket (and its objects) and the table on `cdk destroy`; by default they are retained. */
  readonly destroyData?: boolean;
}

export class DicomApiStack extends Stack {
  readonly storage: Storage;
  readonly api: Api;
  readonly processor: Processor;

  constructor(scope: Construct, id: string, props: DicomApiStackProps = {}) {
    super(scope, id, props);
    this.storage = new Storage(this, 'Storage', { destroyData: props.destroyData ?? false });
    const { bucket, table } = this.storage;
    this.api = new Api(this, 'Api', { bucket, table });
    this.processor = new Processor(this, 'Processor', { bucket, table });

    new CfnOutput(this, 'ApiUrl', {
      description: 'Base URL of the API (no trailing slash): curl "$API_URL/dicom"',
      value: Fn.join('', [
        'https://',
        this.api.restApi.restApiId,
        '.execute-api.',
        Aws.REGION,
        '.',
        Aws.URL_SUFFIX,
        '/',
        this.api.restApi.deploymentStage.stageName,
      ]),
    });
    new CfnOutput(this, 'BucketName', {
      description: 'S3 bucket holding uploads and derived files',
      value: bucket.bucketName,
    });
    new CfnOutput(this, 'TableName', { description: 'DynamoDB table of file records', value: table.tableName });
  }
}
