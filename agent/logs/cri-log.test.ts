import { describe, expect, it } from '@jest/globals';
import { CriLogDecoder, formatMessage, parseCriLine } from './cri-log.js';

describe('parseCriLine', () => {
  it('reads timestamp, stream, tag and text, keeping the text\'s spaces', () => {
    expect(parseCriLine('2026-03-01T10:00:00.123456789Z stdout F hello  world ')).toEqual({
      timestamp: '2026-03-01T10:00:00.123456789Z',
      timeMs: Date.parse('2026-03-01T10:00:00.123Z'),
      stream: 'stdout',
      partial: false,
      text: 'hello  world ',
    });
    expect(parseCriLine('2026-03-01T10:00:00+02:00 stderr P part')).toMatchObject({ stream: 'stderr', partial: true, text: 'part', timeMs: Date.parse('2026-03-01T08:00:00Z') });
  });

  it('takes an empty line with or without the space after the tag, and tags after a colon', () => {
    expect(parseCriLine('2026-03-01T10:00:00Z stdout F ')?.text).toBe('');
    expect(parseCriLine('2026-03-01T10:00:00Z stdout F')?.text).toBe('');
    expect(parseCriLine('2026-03-01T10:00:00Z stdout P:x y')).toMatchObject({ partial: true, text: 'y' });
  });

  it('refuses lines not in the format', () => {
    for (const line of ['hello', '2026-03-01 stdout F x', 'yesterday stdout F x', '2026-03-01T10:00:00Z stdin F x', '2026-03-01T10:00:00Z stdout X x']) expect(parseCriLine(line)).toBeUndefined();
  });
});

describe('CriLogDecoder', () => {
  const bytes = (s: string): Uint8Array => Buffer.from(s);

  it('joins the partials of each stream into one line stamped with the first fragment', () => {
    const d = new CriLogDecoder();
    const out = d.push(bytes([
      '2026-03-01T10:00:01Z stdout P abc',
      '2026-03-01T10:00:02Z stderr F err',
      '2026-03-01T10:00:03Z stdout P def',
      '2026-03-01T10:00:04Z stdout F ghi',
      '',
    ].join('\n')));
    expect(out.map((m) => [m.stream, m.text, m.timestamp])).toEqual([
      ['stderr', 'err', '2026-03-01T10:00:02Z'],
      ['stdout', 'abcdefghi', '2026-03-01T10:00:01Z'],
    ]);
  });

  it('waits for the rest of a line cut between chunks, even inside a UTF-8 character', () => {
    const d = new CriLogDecoder();
    const all = Buffer.from('2026-03-01T10:00:00Z stdout F grüße\n2026-03-01T10:00:01Z stdout F two\n');
    const cut = all.indexOf(Buffer.from('ü')) + 1;
    expect(d.push(all.subarray(0, cut))).toEqual([]);
    expect(d.push(all.subarray(cut)).map((m) => m.text)).toEqual(['grüße', 'two']);
  });

  it('gives at the end a last line without newline and partials never completed, and counts foreign lines', () => {
    const d = new CriLogDecoder();
    expect(d.push(bytes('garbage\n2026-03-01T10:00:00Z stdout P half\n2026-03-01T10:00:01Z stderr F last'))).toEqual([]);
    expect(d.end().map((m) => m.text)).toEqual(['half', 'last']);
    expect(d.skipped).toBe(1);
  });
});

describe('formatMessage', () => {
  it('adds the newline, and the timestamp when asked', () => {
    const m = { timestamp: '2026-03-01T10:00:00.5Z', timeMs: 0, stream: 'stdout' as const, text: 'hi' };
    expect(formatMessage(m, false)).toBe('hi\n');
    expect(formatMessage(m, true)).toBe('2026-03-01T10:00:00.5Z hi\n');
  });
});
