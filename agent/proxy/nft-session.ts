// A long-lived `nft -i` for incremental transactions. A one-shot `nft -f -` costs a process
// start and, when its transaction deleted anything, the kernel's wait for the deferred release
// of the deleted objects when the process closes its netlink socket (about 10 ms here): as much
// as everything else in a one-service sync. In interactive mode one input line is one atomic
// transaction; errors go to stderr; after each line the session asks nft for a `describe`,
// whose answer on stdout marks the end of the transaction.
//
// Why an error cannot be missed although it comes on another pipe: nft handles its input lines
// one after the other and writes a line's error to stderr (unbuffered) before it reads the next
// line, so when the describe answer is on the stdout pipe, the error is already on the stderr
// pipe. Both pipes are polled in the same event-loop iteration (level-triggered), so stderr has
// been read when the check phase after that iteration runs settle(). test/proxy/nft-session
// applies bad transactions through a session to show it.
//
// nft -i keeps every line it reads in its line-editing history, in memory, and writes all of it
// to $HOME/.nft.history when it ends (reading that file back at the next start). HOME is set to
// a path that cannot hold a file, and a session is replaced after RECYCLE_BYTES of input, so
// neither its memory nor a file grows with the agent's uptime.
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { CommandError, type Runner } from '../exec.js';

const SENTINEL = 'describe ip length';
/** What `describe ip length` prints; one line per transaction. */
const SENTINEL_ANSWER = /payload expression, datatype integer \(integer\), 16 bits\n/;
/** Longer transactions go through `nft -f -`: interactive input is read line by line. */
export const SESSION_MAX_BYTES = 256 * 1024;
/** Input after which the session is replaced, bounding what nft -i holds in its history. */
export const RECYCLE_BYTES = 8 * 1024 * 1024;
/** A transaction that has not answered by then is taken for a hung session: it is killed. */
const ANSWER_TIMEOUT_MS = 30_000;
/** /dev/null is never a directory: nft -i neither loads nor saves a history file. */
const NO_HISTORY_ENV = { HOME: '/dev/null' };

interface Pending {
  child: ChildProcessWithoutNullStreams;
  resolve: () => void;
  reject: (err: Error) => void;
}

export class NftSession {
  private child: ChildProcessWithoutNullStreams | undefined;
  /** Input written to the current child. */
  private written = 0;
  private stdout = '';
  private stderr = '';
  private pending: Pending | undefined;

  constructor(
    private readonly run: Runner,
    private readonly recycleBytes = RECYCLE_BYTES,
  ) {}

  /** Applies `statements` (nft commands, one per line) as one transaction. */
  async apply(statements: string): Promise<void> {
    const input = `${statements.trim().split('\n').join('; ')}\n${SENTINEL}\n`;
    if (this.written >= this.recycleBytes) this.close();
    const child = this.ensure();
    this.written += input.length;
    this.stdout = '';
    this.stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      this.fail(child, new Error(`nft -i did not answer within ${ANSWER_TIMEOUT_MS / 1000} s; the session was killed and the next sync starts a new one`));
    }, ANSWER_TIMEOUT_MS);
    try {
      await new Promise<void>((resolve, reject) => {
        this.pending = { child, resolve, reject };
        child.stdin.write(input);
      });
    } finally {
      clearTimeout(timer);
    }
  }

  /** Ends the session (nft exits when its input ends); the next apply starts a new one. */
  close(): void {
    this.child?.stdin.end();
    this.child = undefined;
  }

  private ensure(): ChildProcessWithoutNullStreams {
    if (this.child) return this.child;
    const child = this.run.start('nft', ['-i'], NO_HISTORY_ENV);
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      if (this.child !== child) return;
      this.stdout += chunk;
      if (this.pending?.child !== child || !SENTINEL_ANSWER.test(this.stdout)) return;
      // Cleared so that later output cannot schedule a second settle, which could end the next
      // transaction before its own answer.
      this.stdout = '';
      setImmediate(() => this.settle(child));
    });
    child.stderr.on('data', (chunk: string) => {
      if (this.child === child) this.stderr += chunk;
    });
    child.stdin.on('error', () => undefined);
    // A session that ends (or cannot start) fails only its own transaction: a replaced session
    // ending later must not fail the transaction of the one that replaced it.
    child.on('exit', (code) => {
      const stderr = this.child === child ? this.stderr : '';
      if (this.child === child) this.child = undefined;
      this.fail(child, new CommandError('nft', ['-i'], code ?? 1, stderr || 'the interactive nft session ended'));
    });
    child.on('error', (err) => {
      if (this.child === child) this.child = undefined;
      this.fail(child, new Error(`cannot run nft: ${err.message}; is it installed and on PATH?`));
    });
    this.child = child;
    this.written = 0;
    return child;
  }

  private fail(child: ChildProcessWithoutNullStreams, err: Error): void {
    if (this.pending?.child !== child) return;
    this.pending.reject(err);
    this.pending = undefined;
  }

  private settle(child: ChildProcessWithoutNullStreams): void {
    const p = this.pending;
    if (p?.child !== child) return;
    this.pending = undefined;
    if (this.stderr.trim()) p.reject(new CommandError('nft', ['-i'], 1, this.stderr));
    else p.resolve();
  }
}
