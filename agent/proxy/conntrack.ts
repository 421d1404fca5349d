// Deletes the conntrack entries of UDP flows whose endpoint went away (see staleUdpFlows).
import type { StaleUdpFlow } from './model-diff.js';
import { CommandError, type Runner } from '../exec.js';

export function conntrackDeleteArgs(flow: StaleUdpFlow): string[] {
  const dst = flow.vip === undefined ? [] : ['--orig-dst', flow.vip];
  return ['-D', '-p', 'udp', ...dst, '--orig-port-dst', String(flow.port), '--dst-nat', flow.endpointIP];
}

/**
 * Deletes every flow; returns the errors of the deletions that failed, also when conntrack
 * cannot be run at all (the rules are applied by then: a missing tool must not fail the sync).
 * conntrack exits 1 with "0 flow entries have been deleted" when nothing matched, which is
 * success here.
 */
export async function deleteStaleFlows(run: Runner, flows: readonly StaleUdpFlow[]): Promise<Error[]> {
  const errors: Error[] = [];
  for (const flow of flows) {
    const args = conntrackDeleteArgs(flow);
    let r;
    try {
      r = await run('conntrack', args);
    } catch (err) {
      errors.push(err instanceof Error ? err : new Error(String(err)));
      continue;
    }
    if (r.code === 0 || (r.code === 1 && /0 flow entries/.test(r.stderr))) continue;
    errors.push(new CommandError('conntrack', args, r.code, r.stderr));
  }
  return errors;
}
