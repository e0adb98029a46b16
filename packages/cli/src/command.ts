/** A sub-command of `kyso`: receives its own arguments, returns the process exit code. */
export interface Command {
  /** One line for `kyso --help`. */
  summary: string;
  /** Runs the command; 0 = success, 1 = failure, 2 = usage error. */
  run(args: string[]): Promise<number>;
}

/** Thrown for bad command-line usage; the CLI prints the message and exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}
