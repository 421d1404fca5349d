import { describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { formatLogLine, textLogDestination } from './log-text.js';

describe('formatLogLine', () => {
  it('prefixes the binary and the innermost component, and keeps every other field', () => {
    const time = new Date(2026, 11, 3, 11, 43, 22, 81).getTime();
    const line = `{"level":40,"time":${time},"pid":7,"hostname":"vm","name":"shopfloor-agent","component":"containerd","component":"pods","pod":"default/hello-1","count":2,"msg":"sync failed"}`;
    expect(formatLogLine(line)).toBe('11:43:22.081 WARN  agent      pods: sync failed pod=default/hello-1 count=2\n');
  });

  it('quotes strings with spaces and writes objects as JSON', () => {
    const line = JSON.stringify({ level: 30, time: new Date(2026, 0, 1, 9, 5, 7, 3).getTime(), name: 'shopfloor-operator', msg: 'placed', reason: 'no node fits', nodes: ['a', 'b'] });
    expect(formatLogLine(line)).toBe('09:05:07.003 INFO  operator   placed reason="no node fits" nodes=["a","b"]\n');
  });

  it('passes a line that is not a pino entry through unchanged', () => {
    expect(formatLogLine('plain words')).toBe('plain words');
    expect(formatLogLine('[1,2]')).toBe('[1,2]');
  });

  it('formats what a pino logger writes to it', () => {
    const out: string[] = [];
    const log = pino({ name: 'shopfloor-devcluster', base: undefined, timestamp: false }, textLogDestination({ write: (s: string) => out.push(s) }));
    log.error({ url: 'https://127.0.0.1:6443' }, 'devcluster is serving');
    expect(out).toEqual(['ERROR devcluster devcluster is serving url=https://127.0.0.1:6443\n']);
  });
});
