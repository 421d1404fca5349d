// Which decoded lines a request gets and in what bytes: lines since a time, the last N of what
// was written before the request (tailLines; followed lines after it all pass), with or without
// timestamps, cut at limitBytes. Pure: the reader feeds it lines and tells it where the file
// ended when the request came.
import { formatMessage, type LogMessage } from './cri-log.js';

export interface SelectionOptions {
  sinceMs: number | undefined;
  tailLines: number | undefined;
  limitBytes: number | undefined;
  timestamps: boolean;
}

export class LogSelection {
  private tail: string[] | undefined;
  private left: number;

  constructor(private readonly o: SelectionOptions) {
    this.tail = o.tailLines === undefined ? undefined : [];
    this.left = o.limitBytes ?? Infinity;
  }

  /** Whether limitBytes has been sent: nothing more is to be read. */
  get full(): boolean {
    return this.left <= 0;
  }

  /** Lines read; what to send now (nothing while the tail before the end of file is gathered). */
  add(messages: readonly LogMessage[]): Buffer[] {
    const lines = messages.filter((m) => this.o.sinceMs === undefined || m.timeMs >= this.o.sinceMs).map((m) => formatMessage(m, this.o.timestamps));
    if (!this.tail) return this.bytes(lines);
    this.tail.push(...lines);
    const keep = this.o.tailLines ?? 0;
    if (this.tail.length > keep) this.tail.splice(0, this.tail.length - keep);
    return [];
  }

  /** The file ended for the first time: the tail goes out, and later lines pass at once. */
  caughtUp(): Buffer[] {
    const lines = this.tail ?? [];
    this.tail = undefined;
    return this.bytes(lines);
  }

  private bytes(lines: readonly string[]): Buffer[] {
    const out: Buffer[] = [];
    for (const line of lines) {
      if (this.left <= 0) break;
      let b = Buffer.from(line);
      if (b.length > this.left) b = b.subarray(0, this.left);
      this.left -= b.length;
      out.push(b);
    }
    return out;
  }
}
