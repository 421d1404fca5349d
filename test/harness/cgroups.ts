// crun refuses to run on a hybrid cgroup host while any controller is attached to the unified
// (v2) hierarchy ("cgroups in hybrid mode not supported, drop all controllers from cgroupv2").
// Some hosts, these test machines among them, mount cgroup v1 for every controller but leave one
// (hugetlb) on v2. Before a suite runs pods under crun, such a controller gets a v1 hierarchy of
// its own, as a systemd host in hybrid mode has it; runc and containerd do not mind either way.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { runChecked, spawnRunner } from '../../agent/exec.js';

const UNIFIED = '/sys/fs/cgroup/unified';

export async function moveUnifiedControllersToV1(): Promise<void> {
  const controllers = existsSync(`${UNIFIED}/cgroup.controllers`) ? readFileSync(`${UNIFIED}/cgroup.controllers`, 'utf8').split(/\s+/).filter(Boolean) : [];
  const run = spawnRunner();
  for (const controller of controllers) {
    const dir = `/sys/fs/cgroup/${controller}`;
    mkdirSync(dir, { recursive: true });
    await runChecked(run, 'mount', ['-t', 'cgroup', '-o', controller, 'cgroup', dir]);
  }
}
