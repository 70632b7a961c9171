// Local stand-in for the processor's on-failure destination: the SQS message Lambda would send, fed to the DLQ consumer.
import { randomUUID } from 'node:crypto';
import type { S3Event, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { asyncInvocationFailure } from '../lambdas/ingest/dead-letters.js';
import { PROCESSOR } from '../lambdas/routes.js';

export type DeadLetterHandler = (event: SQSEvent) => Promise<SQSBatchResponse>;

/** The SQS event the consumer gets in AWS when the processor's last attempt at `event` has failed. */
export function deadLetterEvent(
  event: S3Event,
  error: { errorType: string; errorMessage: string },
  attempts: number,
): SQSEvent {
  const body = JSON.stringify(asyncInvocationFailure(event, error, attempts, PROCESSOR.name));
  const now = String(Date.now());
  return {
    Records: [
      {
        messageId: randomUUID(),
        receiptHandle: 'local',
        body,
        attributes: {
          ApproximateReceiveCount: '1',
          SentTimestamp: now,
          SenderId: 'local',
          ApproximateFirstReceiveTimestamp: now,
        },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:local:000000000000:processor-dead-letters',
        awsRegion: 'local',
      },
    ],
  };
}

/** Delivers one failure to the consumer; a message it could not handle is retried a few times, as SQS would. */
export async function deliverDeadLetter(handler: DeadLetterHandler, event: SQSEvent): Promise<void> {
  for (let delivery = 1; delivery <= 3; delivery++) {
    const { batchItemFailures } = await handler(event);
    if (batchItemFailures.length === 0) return;
  }
  process.stderr.write('processor: the dead-letter consumer failed 3 times; the record stays until its deadline\n');
}
