// Runs a command-line program the way a suite needs it: an argument array (never a shell),
// optional stdin, extra environment, and its exit code with all of its output.
import { spawn } from 'node:child_process';

export interface ProgramResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ProgramOptions {
  /** Fed on stdin; without it stdin is closed. */
  input?: string;
  /** Set over this process's environment. */
  env?: Record<string, string>;
  cwd?: string;
}

export function runProgram(file: string, args: readonly string[], o: ProgramOptions = {}): Promise<ProgramResult> {
  return new Promise((res, rej) => {
    const child = spawn(file, args, {
      stdio: [o.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      ...(o.env ? { env: { ...process.env, ...o.env } } : {}),
      ...(o.cwd ? { cwd: o.cwd } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', rej);
    child.on('close', (code) => res({ code: code ?? -1, stdout, stderr }));
    if (child.stdin) {
      // A program may exit (an error) before it reads its input; that is its answer, not ours.
      child.stdin.on('error', () => undefined);
      child.stdin.end(o.input);
    }
  });
}
