// The processor: the Lambda that S3 invokes for every object created under the upload prefix, its
// retries, the dead-letter queue of events that failed them all, and the consumer that marks those files FAILED.
import { Duration } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { PROCESSING_FAILED, PROCESSOR } from '../../lambdas/routes.js';
import { createAppFunction, DEFAULT_TIMEOUT_SECONDS, type FunctionSettings } from './function-defaults.js';

export interface ProcessorProps extends FunctionSettings {
  readonly bucket: s3.Bucket;
  readonly table: dynamodb.ITable;
}

export class Processor extends Construct {
  readonly function: NodejsFunction;
  /** Lambda's on-failure destination: a record per event that failed every attempt (or expired). */
  readonly deadLetterQueue: sqs.Queue;
  /** Reads the dead-letter queue and marks each file FAILED, so no record stays PROCESSING. */
  readonly failureFunction: NodejsFunction;

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
      ...(props.dataKey ? { dataKey: props.dataKey } : {}),
      tracing: props.tracing ?? false,
      listingIndexes: props.listingIndexes ?? 'all',
    });
    // OBJECT_CREATED is every ObjectCreated:* kind (Put, Post, Copy, CompleteMultipartUpload). The
    // prefix filter keeps the processor's own derived/ writes from triggering it again.
    props.bucket.addEventNotification(s3.EventType.OBJECT_CREATED, new s3n.LambdaDestination(this.function), {
      prefix: PROCESSOR.triggerPrefix,
    });

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // The longest SQS allows: a consumer outage loses nothing.
      retentionPeriod: Duration.days(14),
      // Above the consumer's timeout, as SQS event sources require.
      visibilityTimeout: Duration.seconds(DEFAULT_TIMEOUT_SECONDS * 6),
    });
    this.function.configureAsyncInvoke({
      retryAttempts: PROCESSOR.retryAttempts,
      maxEventAge: Duration.seconds(PROCESSOR.maxEventAgeSeconds),
      onFailure: new destinations.SqsDestination(this.deadLetterQueue),
    });

    this.failureFunction = createAppFunction(this, 'FailureFunction', {
      name: PROCESSING_FAILED.name,
      description: 'Processor dead-letter queue: mark the file of each failed event FAILED',
      bucket: props.bucket,
      table: props.table,
      access: PROCESSING_FAILED.access,
      ...(props.dataKey ? { dataKey: props.dataKey } : {}),
      tracing: props.tracing ?? false,
      listingIndexes: props.listingIndexes ?? 'all',
    });
    this.failureFunction.addEventSource(
      new SqsEventSource(this.deadLetterQueue, { batchSize: 10, reportBatchItemFailures: true }),
    );
  }
}
