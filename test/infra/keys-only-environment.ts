// Imported first by a test file that runs another with keys-only file listing indexes (before that one reads it).
import { ENV } from '../../lambdas/config.js';

process.env[ENV.listingIndexes] = 'keysOnly';
