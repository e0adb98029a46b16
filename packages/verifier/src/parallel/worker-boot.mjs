// Worker-thread entry: TypeScript sources run through tsx in every thread, then the verification worker starts.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
