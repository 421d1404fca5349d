// Debian's python3-kubernetes, the Python client a suite drives against the API server. It lives
// in /usr/lib/python3/dist-packages, which only Debian's own interpreter reads (a python3 from
// pyenv or a virtualenv earlier on PATH does not), so the suites run /usr/bin/python3 by path.
// Where it is missing a suite does not pass silently: with CI=true its tests fail naming the
// package and scripts/install-deps.sh; elsewhere they are skipped with that in their names.
import { it } from '@jest/globals';
import { spawnSync } from 'node:child_process';

export const DEBIAN_PYTHON = '/usr/bin/python3';
export const PYTHON_KUBERNETES_PACKAGE = 'python3-kubernetes';

export type PythonKubernetes = { python: string; version: string } | { missing: string };

/** The client's version under `python`, or what is missing and how to install it. */
export function findPythonKubernetes(python = DEBIAN_PYTHON): PythonKubernetes {
  const r = spawnSync(python, ['-c', 'import kubernetes; print(kubernetes.__version__)'], { encoding: 'utf8', timeout: 30_000 });
  const version = r.status === 0 ? r.stdout.trim() : '';
  if (version) return { python, version };
  const why = r.error ? `${python} cannot run (${r.error.message})` : `${python} cannot import kubernetes (${r.stderr.trim().split('\n').pop() || `exit ${r.status}`})`;
  return { missing: `${why}: install the Debian package ${PYTHON_KUBERNETES_PACKAGE} (bash scripts/install-deps.sh as root installs it with the other Debian packages)` };
}

/** What a suite does with what it found: run, fail (CI=true, the client missing) or skip saying why. */
export function pythonKubernetesPlan(found: PythonKubernetes, env: NodeJS.ProcessEnv = process.env): { run: string } | { fail: string } | { skip: string } {
  if ('python' in found) return { run: found.python };
  return env['CI'] === 'true' ? { fail: `CI=true: ${found.missing}` } : { skip: found.missing };
}

/** `it` as pythonKubernetesPlan says: the test itself, a test that fails with what is missing, or a skip naming it. */
export function itWithPythonKubernetes(found: PythonKubernetes, name: string, fn: (python: string) => Promise<void>, timeoutMs?: number): void {
  const plan = pythonKubernetesPlan(found);
  if ('run' in plan) it(name, () => fn(plan.run), timeoutMs);
  else if ('fail' in plan) it(name, () => Promise.reject(new Error(plan.fail)));
  else it.skip(`${name} (skipped: ${plan.skip})`, () => undefined);
}
