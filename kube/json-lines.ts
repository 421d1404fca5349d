/**
 * Splits a streamed body into complete lines, as a watch sends one JSON event per line. Chunks
 * arrive cut anywhere; the unfinished tail waits for the next chunk.
 */
export class LineSplitter {
  private tail = '';

  /** Adds a chunk and returns the lines it completed (without newlines, blank lines skipped). */
  push(chunk: string): string[] {
    const text = this.tail + chunk;
    const lines = text.split('\n');
    this.tail = lines.pop() ?? '';
    return lines.map((l) => l.trim()).filter((l) => l.length > 0);
  }

  /** What is left after the stream ended: a last line without a newline, if any. */
  end(): string[] {
    const rest = this.tail.trim();
    this.tail = '';
    return rest ? [rest] : [];
  }
}
