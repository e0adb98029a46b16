#!/usr/bin/env node
// The kyso command line. Sources are TypeScript, run through tsx's loader.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/main.ts');
const code = await main(process.argv.slice(2));
process.exitCode = code;
