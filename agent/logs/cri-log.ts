// The CRI container log format the runtime writes (containerd's, CRI-O's): one line per write,
// `<RFC3339Nano timestamp> <stdout|stderr> <tags> <text>`, where tag P marks a partial line the
// runtime cut (the rest follows in later lines of the same stream) and F a full one. Decoding
// joins the partials of each stream back into the line the container wrote. Pure.

export type LogStream = 'stdout' | 'stderr';

/** One line of the file as the runtime wrote it. */
export interface CriLine {
  /** As written (RFC3339Nano), so that output with timestamps repeats it exactly. */
  timestamp: string;
  /** Milliseconds since the epoch. */
  timeMs: number;
  stream: LogStream;
  partial: boolean;
  text: string;
}

/** A line the container wrote: partials joined, stamped with its first fragment's time. */
export interface LogMessage {
  timestamp: string;
  timeMs: number;
  stream: LogStream;
  text: string;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** Parses one line (without its newline); undefined when it is not in the CRI format. */
export function parseCriLine(line: string): CriLine | undefined {
  const a = line.indexOf(' ');
  const b = line.indexOf(' ', a + 1);
  if (a < 0 || b < 0) return undefined;
  const timestamp = line.slice(0, a);
  const stream = line.slice(a + 1, b);
  if (!RFC3339.test(timestamp) || (stream !== 'stdout' && stream !== 'stderr')) return undefined;
  // The text is everything after the tags; a line with no text may end right after them.
  const c = line.indexOf(' ', b + 1);
  const tags = c < 0 ? line.slice(b + 1) : line.slice(b + 1, c);
  const first = tags.split(':')[0];
  if (first !== 'P' && first !== 'F') return undefined;
  const timeMs = Date.parse(timestamp);
  if (Number.isNaN(timeMs)) return undefined;
  return { timestamp, timeMs, stream, partial: first === 'P', text: c < 0 ? '' : line.slice(c + 1) };
}

/**
 * Turns the bytes of a CRI log file, in chunks as they are read, into the container's lines.
 * A chunk may end mid-line: the rest waits for the next chunk. Lines not in the CRI format are
 * skipped and counted.
 */
export class CriLogDecoder {
  /** Lines of the file skipped because they were not in the CRI format. */
  skipped = 0;
  private rest = '';
  private readonly pending = new Map<LogStream, LogMessage>();
  private readonly utf8 = new TextDecoder('utf-8');

  /** The messages completed by `chunk`. */
  push(chunk: Uint8Array): LogMessage[] {
    const text = this.rest + this.utf8.decode(chunk, { stream: true });
    const lines = text.split('\n');
    this.rest = lines.pop() ?? '';
    const out: LogMessage[] = [];
    for (const line of lines) this.line(line, out);
    return out;
  }

  /**
   * The end of what will be read: a last line without its newline, and partials never
   * completed, come out as they are (the container may have ended mid-line).
   */
  end(): LogMessage[] {
    const out: LogMessage[] = [];
    const last = this.rest + this.utf8.decode();
    this.rest = '';
    if (last !== '') this.line(last, out);
    for (const message of this.pending.values()) out.push(message);
    this.pending.clear();
    return out.sort((x, y) => x.timeMs - y.timeMs);
  }

  private line(line: string, out: LogMessage[]): void {
    const parsed = parseCriLine(line);
    if (!parsed) {
      if (line !== '') this.skipped++;
      return;
    }
    const before = this.pending.get(parsed.stream);
    const message = before ? { ...before, text: before.text + parsed.text } : { timestamp: parsed.timestamp, timeMs: parsed.timeMs, stream: parsed.stream, text: parsed.text };
    if (parsed.partial) {
      this.pending.set(parsed.stream, message);
      return;
    }
    this.pending.delete(parsed.stream);
    out.push(message);
  }
}

/** A message as the client reads it: its text and newline, after its timestamp when asked. */
export function formatMessage(message: LogMessage, timestamps: boolean): string {
  return timestamps ? `${message.timestamp} ${message.text}\n` : `${message.text}\n`;
}
