// A network namespace standing in for a whole host, for end-to-end runs of `shopfloor` commands
// (entered with `nsenter --net=`, never `ip netns exec`, which remounts /sys and breaks runc):
// loopback for the API server, and an address (192.0.2.10 on a veth) with the default route, so
// that traffic to service VIPs leaves through the rules the agents program there.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const HOST_ADDRESS = '192.0.2.10';

export async function createHostNetns(name: string): Promise<void> {
  await run('ip', ['netns', 'add', name]);
  await run('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  await run('ip', ['-n', name, 'link', 'add', 'node0', 'type', 'veth', 'peer', 'name', 'node1']);
  await run('ip', ['-n', name, 'addr', 'add', `${HOST_ADDRESS}/24`, 'dev', 'node0']);
  await run('ip', ['-n', name, 'link', 'set', 'node0', 'up']);
  await run('ip', ['-n', name, 'link', 'set', 'node1', 'up']);
  await run('ip', ['-n', name, 'route', 'add', 'default', 'dev', 'node0']);
}

/** Deletes the namespace, and with it the bridges, veths and rules made in it; fine when it is gone. */
export async function deleteHostNetns(name: string): Promise<void> {
  await run('ip', ['netns', 'delete', name]).catch(() => undefined);
}
