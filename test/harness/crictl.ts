// crictl (cri-tools, pinned in tools/versions.env and built by scripts/build-tools.sh into
// SHOPFLOOR_TOOLS_BIN) as an outside witness of what a CRI runtime runs: what a user on the node
// sees with `crictl pods` and `crictl ps -a`, read from its JSON output. It shares no code with
// the agent's CRI client, so it checks that client too.
import { runChecked, spawnRunner } from '../../agent/exec.js';
import { TOOLS_BIN_SETTING, toolBinary } from '../../cli/tools-bin.js';

/** One entry of `crictl pods -o json`. */
export interface CrictlPod {
  id: string;
  metadata: { name: string; uid: string; namespace: string; attempt?: number };
  /** SANDBOX_READY or SANDBOX_NOTREADY */
  state: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** Empty for the runtime's default handler. */
  runtimeHandler: string;
}

/** One entry of `crictl ps -a -o json`. */
export interface CrictlContainer {
  id: string;
  podSandboxId: string;
  metadata: { name: string; attempt?: number };
  /** CONTAINER_CREATED, CONTAINER_RUNNING, CONTAINER_EXITED or CONTAINER_UNKNOWN */
  state: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface Crictl {
  /** The pod sandboxes carrying every one of `labels`, in any state. */
  pods(labels: Record<string, string>): Promise<CrictlPod[]>;
  /** The containers carrying every one of `labels`, exited ones included. */
  containers(labels: Record<string, string>): Promise<CrictlContainer[]>;
}

const run = spawnRunner();

/**
 * crictl on the CRI runtime at `endpoint` (unix://...), or undefined when SHOPFLOOR_TOOLS_BIN is
 * not set (`npm test` always sets it: it builds the tools first, and with CI=true fails if it
 * cannot). Set but without crictl is an error saying what to build.
 */
export function crictlOn(endpoint: string, env: NodeJS.ProcessEnv = process.env): Crictl | undefined {
  if (!env[TOOLS_BIN_SETTING]) return undefined;
  const binary = toolBinary('crictl', 'the crictl witness of the pod suites', env);
  const list = async <T>(args: string[], labels: Record<string, string>): Promise<T> => {
    // --config /dev/null: not the host's /etc/crictl.yaml, nor one beside the binary.
    const filter = Object.entries(labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]);
    const out = await runChecked(run, binary, ['--config', '/dev/null', '--runtime-endpoint', endpoint, '--timeout', '10s', ...args, '-o', 'json', ...filter]);
    return JSON.parse(out.stdout) as T;
  };
  return {
    pods: async (labels) => (await list<{ items: CrictlPod[] | null }>(['pods'], labels)).items ?? [],
    containers: async (labels) => (await list<{ containers: CrictlContainer[] | null }>(['ps', '-a'], labels)).containers ?? [],
  };
}
