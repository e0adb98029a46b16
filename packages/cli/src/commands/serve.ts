import type { Command } from '../command.js';

/** `kyso serve`: not implemented yet. */
export const command: Command = {
  summary: 'serve',
  async run() {
    process.stderr.write('kyso serve: not implemented yet\n');
    return 1;
  },
};
