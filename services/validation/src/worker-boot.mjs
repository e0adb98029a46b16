// Worker-thread entry of the validation service: TypeScript sources run through tsx, then the worker starts.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
