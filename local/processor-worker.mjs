// Worker-thread bootstrap: lets a worker load TypeScript (tsx cannot do that through execArgv).
import { register } from 'tsx/esm/api';

register();
await import('./processor-worker.ts');
