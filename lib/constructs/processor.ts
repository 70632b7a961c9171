// The processor: the Lambda that S3 invokes for every object created under the upload prefix.
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';
import { PROCESSOR } from '../../lambdas/routes.js';
import { createAppFunction } from './function-defaults.js';

export interface ProcessorProps {
  readonly bucket: s3.Bucket;
  readonly table: dynamodb.ITable;
}

export class Processor extends Construct {
  readonly function: NodejsFunction;

  constructor(scope: Construct, id: string, props: ProcessorProps) {
    super(scope, id);
    // Memory and timeout come from the route table: sized for the largest corpus image (a 7 MB CR).
    this.function = createAppFunction(this, 'Function', {
      name: PROCESSOR.name,
      description: `S3 ObjectCreated:* on ${PROCESSOR.triggerPrefix}: parse, store attributes and PNG, mark the record ready`,
      bucket: props.bucket,
      table: props.table,
      access: PROCESSOR.access,
      memoryMb: PROCESSOR.memoryMb,
      timeoutSeconds: PROCESSOR.timeoutSeconds,
    });
    // OBJECT_CREATED is every ObjectCreated:* kind (Put, Post, Copy, CompleteMultipartUpload). The
    // prefix filter keeps the processor's own derived/ writes from triggering it again.
    props.bucket.addEventNotification(s3.EventType.OBJECT_CREATED, new s3n.LambdaDestination(this.function), {
      prefix: PROCESSOR.triggerPrefix,
    });
  }
}
