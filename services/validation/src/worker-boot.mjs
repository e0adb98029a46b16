// Worker-thread entry of the validation service. Compiled builds run worker.js directly; from the sources the
// TypeScript worker runs through tsx (registered in this thread only).
import { existsSync } from 'node:fs';

const compiled = new URL('./worker.js', import.meta.url);
if (existsSync(compiled)) {
  await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('./worker.ts');
}
