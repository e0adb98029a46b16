/**
 * The one progress bar of `kyso` (folders of files to sign, verify or extend). It is drawn on
 * stderr only when stderr is a terminal: piped or redirected output stays free of it.
 */

/** A progress bar; all methods do nothing when stderr is not a terminal. */
export interface Progress {
  /** Redraws: `done` of `total`, with a label (a file name). */
  update(done: number, label?: string): void;
  /** Clears the line (call before printing a summary). */
  finish(): void;
  /** True when the bar is drawn. */
  readonly active: boolean;
}

/** A bar for `total` items; `stream` defaults to process.stderr (tests pass their own). */
export function progressBar(total: number, stream: NodeJS.WriteStream = process.stderr): Progress {
  const active = stream.isTTY === true;
  const width = 30;
  let drawn = false;
  return {
    active,
    update(done, label = '') {
      if (!active) return;
      const filled = total ? Math.min(width, Math.round((done / total) * width)) : width;
      const cols = Math.max(40, (stream.columns ?? 100) - 1);
      const line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${label}`.slice(0, cols);
      stream.write(`\r${line.padEnd(cols)}`);
      drawn = true;
    },
    finish() {
      if (!active || !drawn) return;
      stream.write(`\r${' '.repeat(Math.max(40, (stream.columns ?? 100) - 1))}\r`);
      drawn = false;
    },
  };
}
