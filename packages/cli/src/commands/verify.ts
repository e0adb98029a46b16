import type { Command } from '../command.js';

/** `kyso verify`: not implemented yet. */
export const command: Command = {
  summary: 'verify',
  async run() {
    process.stderr.write('kyso verify: not implemented yet\n');
    return 1;
  },
};
