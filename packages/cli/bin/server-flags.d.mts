/** The Node flags to start a kyso server process with (those the caller already gave are not repeated). */
export function serverNodeFlags(env?: NodeJS.ProcessEnv, execArgv?: string[]): string[];
