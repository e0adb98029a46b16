/** Runs a command in a pseudo-terminal (script(1)) and answers one prompt: what a user at a terminal would do. */
import { spawn } from 'node:child_process';

/** Output seen (prompt included), exit code, and whether the prompt appeared and was answered. */
export interface PtyRun { code: number; seen: string; answered: boolean }

/** Runs `argv` under script(1); when `prompt` appears on the terminal, types `answer` and Enter. */
export function answerPrompt(argv: string[], prompt: string, answer: string): Promise<PtyRun> {
  const cmd = argv.map((x) => `'${x}'`).join(' ');
  const child = spawn('script', ['-qec', cmd, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let seen = '';
  let answered = false;
  return new Promise<PtyRun>((res, rej) => {
    child.on('error', rej);
    child.stdout.on('data', (d: Buffer) => {
      seen += d.toString();
      if (!answered && seen.includes(prompt)) {
        answered = true;
        child.stdin.write(answer + '\r');
      }
    });
    child.on('close', (c) => res({ code: c ?? -1, seen, answered }));
  });
}
