// Spawns programs (nft, iptables-restore, conntrack, containerd, ctr, tar) with argument arrays,
// never a shell, feeding stdin and capturing stderr for the error report. Every agent part uses it.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

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
  const run = (program: string, args: readonly string[], stdin?: string): Promise<RunResult> =>
    new Promise((resolve, reject) => {
      const child = start(program, args);
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (b: Buffer) => out.push(b));
      child.stderr.on('data', (b: Buffer) => err.push(b));
      child.on('error', (e) => reject(new Error(`cannot run ${program}: ${e.message}; is it installed and on PATH?`)));
      child.on('close', (code, signal) =>
        resolve({ code: code ?? (signal ? 128 : 1), stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }),
      );
      // A program that exits before reading stdin makes the write fail with EPIPE; its exit code
      // and stderr tell the story, so the write error itself is not reported.
      child.stdin.on('error', () => undefined);
      child.stdin.end(stdin ?? '');
    });
  return Object.assign(run, { start });
}

/** Runs and throws a CommandError unless the exit code is 0. */
export async function runChecked(run: Runner, program: string, args: readonly string[], stdin?: string): Promise<RunResult> {
  const result = await run(program, args, stdin);
  if (result.code !== 0) throw new CommandError(program, args, result.code, result.stderr);
  return result;
}
