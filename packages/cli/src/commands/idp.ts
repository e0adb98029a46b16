import type { Command } from '../command.js';

/** `kyso idp`: not implemented yet. */
export const command: Command = {
  summary: 'idp',
  async run() {
    process.stderr.write('kyso idp: not implemented yet\n');
    return 1;
  },
};
