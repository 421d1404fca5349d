import { describe, expect, it } from '@jest/globals';
import type { LogMessage } from './cri-log.js';
import { LogSelection } from './log-selection.js';

const T = Date.parse('2026-03-01T10:00:00Z');
const msg = (i: number): LogMessage => ({ timestamp: new Date(T + i * 1000).toISOString(), timeMs: T + i * 1000, stream: 'stdout', text: `line ${i}` });
const text = (chunks: Buffer[]): string => Buffer.concat(chunks).toString();
const none = { sinceMs: undefined, tailLines: undefined, limitBytes: undefined, timestamps: false };

describe('LogSelection', () => {
  it('passes every line at once without a tail', () => {
    const s = new LogSelection(none);
    expect(text(s.add([msg(1), msg(2)]))).toBe('line 1\nline 2\n');
    expect(text(s.caughtUp())).toBe('');
  });

  it('keeps the last tailLines of what was there, then passes what follows', () => {
    const s = new LogSelection({ ...none, tailLines: 2 });
    expect(s.add([msg(1), msg(2)])).toEqual([]);
    expect(s.add([msg(3)])).toEqual([]);
    expect(text(s.caughtUp())).toBe('line 2\nline 3\n');
    expect(text(s.add([msg(4)]))).toBe('line 4\n');
    const zero = new LogSelection({ ...none, tailLines: 0 });
    zero.add([msg(1)]);
    expect(text(zero.caughtUp())).toBe('');
  });

  it('drops lines before sinceMs and stamps lines when asked', () => {
    const s = new LogSelection({ ...none, sinceMs: T + 2000, timestamps: true });
    expect(text(s.add([msg(1), msg(2), msg(3)]))).toBe(`${msg(2).timestamp} line 2\n${msg(3).timestamp} line 3\n`);
  });

  it('stops at limitBytes, cutting the line that crosses it', () => {
    const s = new LogSelection({ ...none, limitBytes: 10 });
    expect(text(s.add([msg(1), msg(2)]))).toBe('line 1\nlin');
    expect(s.full).toBe(true);
    expect(s.add([msg(3)])).toEqual([]);
  });
});
