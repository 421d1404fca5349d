import { describe, expect, it } from '@jest/globals';
import type { NodeAssignment } from '../api/index.js';
import { UsageError } from './command.js';
import { durationSeconds, logRequestPath, parseLogsArgs, pickContainer, pickReplica } from './logs-args.js';

function replica(name: string, o: { phase?: string; ready?: boolean; restarts?: number; created?: string; containers?: string[] } = {}): NodeAssignment {
  return {
    metadata: { name, namespace: 'default', creationTimestamp: o.created ?? '2026-03-01T10:00:00Z' },
    spec: { nodeName: 'n1', workloadRef: { name: 'web' }, revision: 'r', template: { containers: (o.containers ?? ['app']).map((c) => ({ name: c, image: 'x' })) } },
    status: { ...(o.phase ? { phase: o.phase } : {}), ready: o.ready ?? false, containers: [{ name: 'app', state: 'Running', ready: false, restartCount: o.restarts ?? 0 }] },
  } as unknown as NodeAssignment;
}

describe('parseLogsArgs', () => {
  it('reads kubectl logs\' flags, short and long', () => {
    expect(parseLogsArgs(['nw/web', '-c', 'app', '-f', '-p', '--tail', '20', '--since', '1m30s', '-n', 'shop', '--timestamps', '--kubeconfig', '/k'])).toEqual({
      kind: 'workload', name: 'web', container: 'app', follow: true, previous: true, timestamps: true, tailLines: 20, sinceSeconds: 90, namespace: 'shop', kubeconfig: '/k',
    });
    expect(parseLogsArgs(['web-0'])).toMatchObject({ kind: 'either', name: 'web-0', follow: false, previous: false, tailLines: undefined, sinceSeconds: undefined });
    expect(parseLogsArgs(['nodeassignment/web-0', '--tail=-1'])).toMatchObject({ kind: 'assignment', tailLines: undefined });
  });

  it('says what is wrong with a target, a flag or a value', () => {
    expect(() => parseLogsArgs([])).toThrow(new UsageError('name a workload or assignment (nw/NAME, na/NAME or NAME)'));
    expect(() => parseLogsArgs(['deploy/web'])).toThrow('"deploy" is not a kind shopfloor logs reads; use nw/NAME (a NodeWorkload) or na/NAME (a NodeAssignment)');
    expect(() => parseLogsArgs(['Web'])).toThrow('"Web" is not an object name');
    expect(() => parseLogsArgs(['web', '--tail', 'ten'])).toThrow('--tail "ten" must be a number of lines, or -1 for all');
    expect(() => parseLogsArgs(['web', '--since', '5 minutes'])).toThrow('--since "5 minutes" is not a duration such as 30s, 5m or 1h30m');
    expect(() => parseLogsArgs(['web', '--bogus'])).toThrow(UsageError);
  });
});

describe('durationSeconds', () => {
  it('reads Go durations and rounds up to whole seconds', () => {
    expect(durationSeconds('5m', '--since')).toBe(300);
    expect(durationSeconds('1h30m', '--since')).toBe(5400);
    expect(durationSeconds('1500ms', '--since')).toBe(2);
    expect(() => durationSeconds('0s', '--since')).toThrow('must be longer than 0');
  });
});

describe('pickReplica', () => {
  it('takes a running and ready replica before others, then the most restarted, then the oldest', () => {
    expect(pickReplica([replica('pending', { phase: 'Pending' }), replica('running', { phase: 'Running' })])?.metadata.name).toBe('running');
    expect(pickReplica([replica('a', { phase: 'Running' }), replica('b', { phase: 'Running', ready: true })])?.metadata.name).toBe('b');
    expect(pickReplica([replica('a', { phase: 'Running', restarts: 1 }), replica('b', { phase: 'Running', restarts: 4 })])?.metadata.name).toBe('b');
    expect(pickReplica([replica('new', { phase: 'Running', created: '2026-03-02T00:00:00Z' }), replica('old', { phase: 'Running' })])?.metadata.name).toBe('old');
    expect(pickReplica([])).toBeUndefined();
  });
});

describe('pickContainer', () => {
  it('takes the one named, else the first with a note when there are several, and lists them for an unknown one', () => {
    expect(pickContainer(replica('a'), undefined)).toEqual({ container: 'app' });
    expect(pickContainer(replica('a', { containers: ['app', 'side'] }), undefined)).toEqual({ container: 'app', note: 'Defaulted container "app" out of: app, side' });
    expect(pickContainer(replica('a', { containers: ['app', 'side'] }), 'side')).toEqual({ container: 'side' });
    expect(() => pickContainer(replica('a', { containers: ['app', 'side'] }), 'db')).toThrow('container "db" is not in NodeAssignment default/a; its containers: app, side');
  });
});

describe('logRequestPath', () => {
  it('asks the log server for the container with only the options given', () => {
    expect(logRequestPath('default', 'web-0', 'app', { follow: false, previous: false, timestamps: false, tailLines: undefined, sinceSeconds: undefined })).toBe('/containerLogs/default/web-0/app');
    expect(logRequestPath('default', 'web-0', 'app', { follow: true, previous: true, timestamps: true, tailLines: 0, sinceSeconds: 60 })).toBe('/containerLogs/default/web-0/app?follow=true&previous=true&timestamps=true&tailLines=0&sinceSeconds=60');
  });
});
