// Spawns programs (nft, iptables-restore, conntrack, containerd, ctr, tar) with argument arrays,
// never a shell, feeding stdin and capturing stderr for the error report. Every agent part uses it.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Runner {
  /** Runs `program` with `args` and optional stdin; resolves with its exit code and output. */
  (program: string, args: readonly string[], stdin?: string): Promise<RunResult>;
  /**
   * Starts a long-lived `program` with piped stdio, in the same place the runs happen; `env`
   * overrides variables of this process's environment.
   */
  start(program: string, args: readonly string[], env?: Readonly<Record<string, string>>): ChildProcessWithoutNullStreams;
}

/** A program that exited with a code the caller does not accept. Carries its stderr. */
export class CommandError extends Error {
  constructor(
    readonly program: string,
    readonly args: readonly string[],
    readonly code: number,
    readonly stderr: string,
  ) {
    super(`${program} ${args.join(' ')} exited with code ${code}: ${stderr.trim() || '(no stderr)'}`);
    this.name = 'CommandError';
  }
}

/**
 * The runner for this machine. With `netns`, every program runs inside that network namespace
 * (`ip netns exec`), which is how tests and the benchmark keep their rules off the host.
 */
export function spawnRunner(options: { netns?: string } = {}): Runner {
  const start = (program: string, args: readonly string[], env?: Readonly<Record<string, string>>): ChildProcessWithoutNullStreams => {
    const [file, argv] = options.netns ? ['ip', ['netns', 'exec', options.netns, program, ...args]] : [program, [...args]];
    // Detached: a terminal's Ctrl-C signals its whole foreground process group, and the agent
    // still needs its nft session and in-flight commands to take its rules down after it.
    return spawn(file, argv, { detached: true, stdio: ['pipe', 'pipe', 'pipe'], ...(env ? { env: { ...process.env, ...env } } : {}) });
  };
  const run = (program: string, args: readonly string[], stdin?: string): Promise<RunResult> => {
    const child = start(program, args);
    const result = outcome(program, child);
    child.stdin.end(stdin ?? '');
    return result;
  };
  return Object.assign(run, { start });
}

/** What a started child printed and how it exited. */
function outcome(program: string, child: ChildProcessWithoutNullStreams): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => reject(new Error(`cannot run ${program}: ${e.message}; is it installed and on PATH?`)));
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
    // A program that exits before reading stdin makes the write fail with EPIPE; its exit code
    // and stderr tell the story, so the write error itself is not reported.
    child.stdin.on('error', () => undefined);
  });
}

/** Input gathered into writes of about this many characters. */
const STREAM_WRITE_CHARS = 64 * 1024;

/**
 * runChecked with stdin written piece by piece, as fast as the program reads it: a large input
 * (a full rule set, 25 MB at 100,000 services) is never whole in this process's memory, and
 * its pieces are garbage young. Works with any Runner, through `start`.
 */
export async function runCheckedStreaming(run: Runner, program: string, args: readonly string[], input: Iterable<string>): Promise<RunResult> {
  const child = run.start(program, args);
  let exited = false;
  const result = outcome(program, child).finally(() => (exited = true));
  const exit = result.then(() => undefined, () => undefined);
  let batch = '';
  for (const piece of input) {
    batch += piece;
    if (batch.length < STREAM_WRITE_CHARS) continue;
    if (exited) break;
    if (!child.stdin.write(batch)) await Promise.race([once(child.stdin, 'drain').catch(() => undefined), exit]);
    batch = '';
  }
  child.stdin.end(exited ? '' : batch);
  const r = await result;
  if (r.code !== 0) throw new CommandError(program, args, r.code, r.stderr);
  return r;
}

/** Runs and throws a CommandError unless the exit code is 0. */
export async function runChecked(run: Runner, program: string, args: readonly string[], stdin?: string): Promise<RunResult> {
  const result = await run(program, args, stdin);
  if (result.code !== 0) throw new CommandError(program, args, result.code, result.stderr);
  return result;
}
