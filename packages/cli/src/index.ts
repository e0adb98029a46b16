export { main, version } from './main.js';
export type { Command } from './command.js';
export { UsageError } from './command.js';
