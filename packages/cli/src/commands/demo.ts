import type { Command } from '../command.js';

/** `kyso demo`: not implemented yet. */
export const command: Command = {
  summary: 'demo',
  async run() {
    process.stderr.write('kyso demo: not implemented yet\n');
    return 1;
  },
};
