/** The Node flags to start a kyso server process with (empty when the caller already set its own). */
export function serverNodeFlags(env?: NodeJS.ProcessEnv, execArgv?: string[]): string[];
