import { describe, expect, it } from '@jest/globals';
import { conntrackDeleteArgs, deleteStaleFlows } from './conntrack.js';
import { CommandError, type Runner } from '../exec.js';

/** A fake runner: answers each conntrack call from `answer`, starts nothing. */
function fakeRunner(answer: (args: readonly string[]) => Promise<{ code: number; stdout: string; stderr: string }>): Runner {
  return Object.assign((_program: string, args: readonly string[]) => answer(args), {
    start: () => {
      throw new Error('the fake runner starts no process');
    },
  });
}

describe('conntrackDeleteArgs', () => {
  it('matches UDP flows by original destination and the endpoint they were translated to', () => {
    expect(conntrackDeleteArgs({ vip: '10.96.0.53', port: 53, endpointIP: '10.1.0.5' })).toEqual([
      '-D', '-p', 'udp', '--orig-dst', '10.96.0.53', '--orig-port-dst', '53', '--dst-nat', '10.1.0.5',
    ]);
    expect(conntrackDeleteArgs({ port: 30053, endpointIP: '10.1.0.5' })).toEqual(['-D', '-p', 'udp', '--orig-port-dst', '30053', '--dst-nat', '10.1.0.5']);
  });
});

describe('deleteStaleFlows', () => {
  const flows = [
    { vip: '10.96.0.53', port: 53, endpointIP: '10.1.0.5' },
    { vip: '10.96.0.53', port: 53, endpointIP: '10.1.0.6' },
    { vip: '10.96.0.53', port: 53, endpointIP: '10.1.0.7' },
  ];

  it('takes "0 flow entries" for success and returns the other failures', async () => {
    const errors = await deleteStaleFlows(
      fakeRunner(async (args) => {
        if (args.includes('10.1.0.5')) return { code: 0, stdout: '', stderr: '1 flow entries have been deleted.\n' };
        if (args.includes('10.1.0.6')) return { code: 1, stdout: '', stderr: '0 flow entries have been deleted.\n' };
        return { code: 1, stdout: '', stderr: 'Operation failed: invalid parameters\n' };
      }),
      flows,
    );
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(CommandError);
    expect(errors[0]!.message).toContain('invalid parameters');
  });

  it('returns, not throws, when conntrack cannot be run, and still tries every flow', async () => {
    let calls = 0;
    const errors = await deleteStaleFlows(
      fakeRunner(async () => {
        calls++;
        throw new Error('cannot run conntrack: spawn conntrack ENOENT; is it installed and on PATH?');
      }),
      flows,
    );
    expect(calls).toBe(3);
    expect(errors.map((e) => e.message)).toEqual(Array(3).fill('cannot run conntrack: spawn conntrack ENOENT; is it installed and on PATH?'));
  });
});
