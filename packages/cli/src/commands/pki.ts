import type { Command } from '../command.js';

/** `kyso pki`: not implemented yet. */
export const command: Command = {
  summary: 'pki',
  async run() {
    process.stderr.write('kyso pki: not implemented yet\n');
    return 1;
  },
};
