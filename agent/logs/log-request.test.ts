import { describe, expect, it } from '@jest/globals';
import { parseLogOptions, parseLogPath } from './log-request.js';
import { requestError } from './test-fixtures.js';

const q = (s: string): URLSearchParams => new URLSearchParams(s);
const NOW = Date.parse('2026-03-01T10:00:00Z');

describe('parseLogPath', () => {
  it('reads /containerLogs/<namespace>/<assignment>/<container>, the container also from the query or not at all', () => {
    expect(parseLogPath('/containerLogs/default/web-0/app', q(''))).toEqual({ namespace: 'default', name: 'web-0', container: 'app' });
    expect(parseLogPath('/containerLogs/default/web-0', q('container=app'))).toEqual({ namespace: 'default', name: 'web-0', container: 'app' });
    expect(parseLogPath('/containerLogs/default/web-0/', q(''))).toEqual({ namespace: 'default', name: 'web-0', container: undefined });
  });

  it('answers nothing for other paths', () => {
    for (const p of ['/', '/metrics', '/containerLogs/default', '/containerLogs/a/b/c/d', '/exec/default/web-0/app', '/containerLogs/%E0%A4%A']) expect(parseLogPath(p, q(''))).toBeUndefined();
  });

  it('refuses names that are not DNS-1123 and two different containers', () => {
    expect(requestError(() => parseLogPath('/containerLogs/default/..%2Fetc/app', q('')))).toEqual({ status: 400, message: 'assignment name "../etc" is not a DNS-1123 name (lowercase letters, digits, "-" and ".")' });
    expect(requestError(() => parseLogPath('/containerLogs/default/web-0/app', q('container=side'))).status).toBe(400);
  });
});

describe('parseLogOptions', () => {
  it('defaults to the whole log, once, without timestamps', () => {
    expect(parseLogOptions(q(''), NOW)).toEqual({ follow: false, previous: false, timestamps: false, tailLines: undefined, sinceMs: undefined, limitBytes: undefined });
  });

  it('reads booleans as Go does, a bare flag as true', () => {
    expect(parseLogOptions(q('follow=true&previous=1&timestamps'), NOW)).toMatchObject({ follow: true, previous: true, timestamps: true });
    expect(parseLogOptions(q('follow=F&previous=False'), NOW)).toMatchObject({ follow: false, previous: false });
    expect(requestError(() => parseLogOptions(q('follow=yes'), NOW))).toEqual({ status: 400, message: 'follow=yes is not a boolean; use true or false' });
  });

  it('reads tailLines (and the old tail, where all means every line), sinceSeconds, sinceTime and limitBytes', () => {
    expect(parseLogOptions(q('tailLines=0'), NOW).tailLines).toBe(0);
    expect(parseLogOptions(q('tail=5'), NOW).tailLines).toBe(5);
    expect(parseLogOptions(q('tail=all'), NOW).tailLines).toBeUndefined();
    expect(parseLogOptions(q('sinceSeconds=60'), NOW).sinceMs).toBe(NOW - 60_000);
    expect(parseLogOptions(q('sinceTime=2026-03-01T09:00:00Z'), NOW).sinceMs).toBe(NOW - 3_600_000);
    expect(parseLogOptions(q('limitBytes=10'), NOW).limitBytes).toBe(10);
  });

  it('refuses what ValidatePodLogOptions refuses, with 422, and what is not a number, with 400', () => {
    expect(requestError(() => parseLogOptions(q('tailLines=-1'), NOW))).toEqual({ status: 422, message: 'tailLines: Invalid value: -1: must be greater than or equal to 0' });
    expect(requestError(() => parseLogOptions(q('sinceSeconds=0'), NOW))).toEqual({ status: 422, message: 'sinceSeconds: Invalid value: 0: must be greater than 0' });
    expect(requestError(() => parseLogOptions(q('limitBytes=0'), NOW)).status).toBe(422);
    expect(requestError(() => parseLogOptions(q('sinceSeconds=5&sinceTime=2026-03-01T09:00:00Z'), NOW))).toEqual({ status: 422, message: 'at most one of `sinceTime` or `sinceSeconds` may be specified' });
    expect(requestError(() => parseLogOptions(q('tailLines=ten'), NOW))).toEqual({ status: 400, message: 'tailLines=ten is not a whole number' });
    expect(requestError(() => parseLogOptions(q('sinceTime=yesterday'), NOW)).status).toBe(400);
  });
});
