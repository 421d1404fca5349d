// What every test cluster does with kubectl, whichever API server serves it: run the kubectl on
// PATH against its kubeconfig (the same client for both API servers, so that a difference in
// what a suite sees is the server's), and install Shopfloor's CRDs.
import { readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runProgram, type ProgramResult } from './program.js';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export type KubectlResult = ProgramResult;

export type Kubectl = (args: string[], opts?: { input?: string }) => Promise<KubectlResult>;

/** Runs `kubectl --kubeconfig <kubeconfigPath> <args>`, feeding `input` on stdin. */
export function kubectlFor(kubeconfigPath: string): Kubectl {
  return (args, o = {}) => runProgram('kubectl', ['--kubeconfig', kubeconfigPath, ...args], o);
}

/** Applies crds/*.yaml and waits until every CRD is Established. */
export async function installCrds(kubectl: Kubectl): Promise<void> {
  const dir = join(repoRoot, 'crds');
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
  if (files.length === 0) throw new Error(`no CRDs in ${dir}; run npm run gen:crds`);
  const applied = await kubectl(['apply', ...files.flatMap((f) => ['-f', join(dir, f)])]);
  if (applied.code !== 0) throw new Error(`kubectl apply of crds/ failed: ${applied.stderr}`);
  const waited = await kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all']);
  if (waited.code !== 0) throw new Error(`CRDs did not become Established: ${waited.stderr}`);
}
