import type { Command } from '../command.js';

/** `kyso sign`: not implemented yet. */
export const command: Command = {
  summary: 'sign',
  async run() {
    process.stderr.write('kyso sign: not implemented yet\n');
    return 1;
  },
};
