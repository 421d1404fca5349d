// A long-lived `nft -i` for incremental transactions. A one-shot `nft -f -` costs a process
// start and, when its transaction deleted anything, the kernel's wait for the deferred release
// of the deleted objects when the process closes its netlink socket (about 10 ms here): as much
// as everything else in a one-service sync. In interactive mode one input line is one atomic
// transaction; errors go to stderr; after each line the session asks nft for a `describe`,
// which answers on stdout without touching the kernel, so its answer marks the end of the
// transaction (stderr written before it has been read by then).
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { CommandError, type Runner } from './exec.js';

const SENTINEL = 'describe ip length';
/** What `describe ip length` prints; one line per transaction. */
const SENTINEL_ANSWER = /payload expression, datatype integer \(integer\), 16 bits\n/;
/** Longer transactions go through `nft -f -`: interactive input is read line by line. */
export const SESSION_MAX_BYTES = 256 * 1024;
/** A transaction that has not answered by then is taken for a hung session: it is killed. */
const ANSWER_TIMEOUT_MS = 30_000;

export class NftSession {
  private child: ChildProcessWithoutNullStreams | undefined;
  private stdout = '';
  private stderr = '';
  private pending: { resolve: () => void; reject: (err: Error) => void } | undefined;

  constructor(private readonly run: Runner) {}

  /** Applies `statements` (nft commands, one per line) as one transaction. */
  async apply(statements: string): Promise<void> {
    const line = statements.trim().split('\n').join('; ');
    const child = this.ensure();
    this.stdout = '';
    this.stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      this.fail(new Error(`nft -i did not answer within ${ANSWER_TIMEOUT_MS / 1000} s; the session was killed and the next sync starts a new one`));
    }, ANSWER_TIMEOUT_MS);
    try {
      await new Promise<void>((resolve, reject) => {
        this.pending = { resolve, reject };
        child.stdin.write(`${line}\n${SENTINEL}\n`);
      });
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    this.child?.stdin.end();
    this.child = undefined;
  }

  private ensure(): ChildProcessWithoutNullStreams {
    if (this.child) return this.child;
    const child = this.run.start('nft', ['-i']);
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      this.stdout += chunk;
      if (!this.pending || !SENTINEL_ANSWER.test(this.stdout)) return;
      // stderr that nft wrote before the answer is read in the same event-loop turn at the
      // latest; check it after that turn.
      setImmediate(() => this.settle());
    });
    child.stderr.on('data', (chunk: string) => (this.stderr += chunk));
    child.stdin.on('error', () => undefined);
    child.on('exit', (code) => {
      if (this.child === child) this.child = undefined;
      this.fail(new CommandError('nft', ['-i'], code ?? 1, this.stderr || 'the interactive nft session ended'));
    });
    child.on('error', (err) => {
      if (this.child === child) this.child = undefined;
      this.fail(new Error(`cannot run nft: ${err.message}; is it installed and on PATH?`));
    });
    this.child = child;
    return child;
  }

  private fail(err: Error): void {
    this.pending?.reject(err);
    this.pending = undefined;
  }

  private settle(): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    if (this.stderr.trim()) p.reject(new CommandError('nft', ['-i'], 1, this.stderr));
    else p.resolve();
  }
}
