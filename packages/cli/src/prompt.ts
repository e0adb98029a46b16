/**
 * The one secret prompt of `kyso` (passwords, PINs): no echo on a terminal, one line from piped
 * stdin when allowed, never an argv value. The value is never logged or put into an error message.
 */
import { UsageError } from './command.js';

/** Options of {@link promptSecret}. */
export interface PromptOptions {
  /** Accept one line from a non-terminal stdin (pipes); default false (then a hint to the env option). */
  allowPipe?: boolean;
  /** What to tell the user when there is no terminal (e.g. "set it with --password-env VAR"). */
  hint?: string;
  /** Ask twice and require the same answer (terminal only). */
  confirm?: boolean;
}

/** Reads a secret: from the terminal without echo, or one line from piped stdin with `allowPipe`. */
export async function promptSecret(label: string, opts: PromptOptions = {}): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    if (!opts.allowPipe) throw new UsageError(`${label} needed and no terminal to ask on: ${opts.hint ?? 'set it in an environment variable'}`);
    const line = await readLine();
    if (!line) throw new UsageError(`${label}: nothing on stdin (${opts.hint ?? 'set the environment variable or pipe one line'})`);
    return line;
  }
  const first = await readHidden(`${label}: `);
  if (opts.confirm) {
    const again = await readHidden(`Repeat ${label.toLowerCase()}: `);
    if (again !== first) throw new UsageError(`the two ${label.toLowerCase()}s differ`);
  }
  return first;
}

async function readLine(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) {
    chunks.push(c as Buffer);
    if ((c as Buffer).includes(10)) break;
  }
  return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
}

function readHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  // echo off before the prompt is shown, so that nothing typed after it is echoed
  stdin.setRawMode(true);
  process.stderr.write(question);
  stdin.resume();
  return new Promise((resolve, reject) => {
    let s = '';
    const onData = (buf: Buffer): void => {
      for (const ch of buf.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          done();
          resolve(s);
          return;
        }
        if (ch === '\u0003' || ch === '\u0004') {
          done();
          reject(new UsageError('cancelled'));
          return;
        }
        if (ch === '\u007f' || ch === '\b') s = s.slice(0, -1);
        else s += ch;
      }
    };
    const done = (): void => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
    };
    stdin.on('data', onData);
  });
}
