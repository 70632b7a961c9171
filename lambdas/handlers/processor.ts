// S3 ObjectCreated on uploads/: parse the file, store its JSON documents and PNG, mark the record READY.
import type { S3Event } from 'aws-lambda';
import { getStores, logger } from '../commons.js';
import { processUpload } from '../ingest/process-upload.js';
import { createdUploadIds } from '../ingest/upload-events.js';

export const handler = async (event: S3Event): Promise<void> => {
  const { ids, ignored, sizes, versions } = createdUploadIds(event);
  if (ignored > 0) logger.warn('ignored records outside the upload key scheme', { ignored });
  for (const id of ids) await processUpload(getStores(), id, sizes.get(id), versions.get(id));
};
