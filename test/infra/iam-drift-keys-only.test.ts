// The IAM drift check (iam-drift.test.ts) on a stack and table with keys-only file listing indexes
// (`-c listingIndexes=keysOnly`): the listing functions then read items by key and must be allowed to, and only they.
import './keys-only-environment.js';
import './iam-drift.test.js';
