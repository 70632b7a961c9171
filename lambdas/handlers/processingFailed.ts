// The dead-letter queue's consumer: a processor event that failed every attempt marks its file FAILED.
import type { SQSBatchItemFailure, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { getStores, logger } from '../commons.js';
import { parseProcessorFailure } from '../ingest/dead-letters.js';

export const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
  const batchItemFailures: SQSBatchItemFailure[] = [];
  for (const message of event.Records) {
    const failure = parseProcessorFailure(message.body);
    if (!failure) {
      logger.warn('ignored a dead-letter message that is not a Lambda failure record', {
        messageId: message.messageId,
      });
      continue;
    }
    try {
      for (const id of failure.ids) {
        // Only a record still PROCESSING: a reprocess that succeeded since then must win.
        const marked = await getStores().records.failProcessing(id, failure.reason(id));
        const { condition, attempts, errorType } = failure;
        logger.error('processing failed for good', { id, condition, attempts, errorType, marked });
      }
    } catch (error) {
      // SQS redelivers it after the visibility timeout (for up to the queue's 14-day retention).
      logger.error('could not mark a failed upload', { messageId: message.messageId, error: error as Error });
      batchItemFailures.push({ itemIdentifier: message.messageId });
    }
  }
  return { batchItemFailures };
};
