// Which containerd a binary is, from what `containerd --version` prints, and so which config.toml
// layout it reads: version 2 for containerd 1.x, version 3 (the CRI plugin split into
// images, runtime and server plugins) for 2.x; and whether a crun can run what it asks. Pure:
// text in, version or a clear error out.

export interface ContainerdVersion {
  major: number;
  minor: number;
  patch: number;
  /** As printed, e.g. `v2.4.2` or `1.6.20~ds1`. */
  text: string;
}

/** The config.toml `version` a containerd reads. */
export type ContainerdConfigVersion = 2 | 3;

export const SUPPORTED_CONTAINERD = 'containerd 1.x (config version 2) or 2.1 and newer 2.x (config version 3)';

/**
 * The version in `containerd --version` output: `containerd <module> <version> <revision>`, e.g.
 * `containerd github.com/containerd/containerd/v2 v2.4.2 ` or Debian's
 * `containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+deb12u3`.
 */
export function parseContainerdVersion(output: string, binary: string): ContainerdVersion {
  const m = /^containerd\s+\S+\s+(v?(\d+)\.(\d+)\.(\d+)\S*)/m.exec(output);
  if (!m) {
    const shown = output.trim().split('\n')[0] || '(nothing)';
    throw new Error(`${binary} --version printed "${shown}", not "containerd <module> <version> ...": is ${binary} containerd? Shopfloor runs ${SUPPORTED_CONTAINERD}`);
  }
  return { text: m[1]!, major: Number(m[2]), minor: Number(m[3]), patch: Number(m[4]) };
}

/** The config layout `version` reads; throws for a containerd whose layout Shopfloor does not write. */
export function configVersionFor(version: ContainerdVersion, binary: string): ContainerdConfigVersion {
  if (version.major === 1) return 2;
  // 2.0 reads version 3 too, but names the CNI plugin dir `bin_dir`, which 2.1 replaced by `bin_dirs`.
  if (version.major === 2 && version.minor >= 1) return 3;
  throw new Error(`${binary} is containerd ${version.text}; Shopfloor runs ${SUPPORTED_CONTAINERD}: install one of those or point the agent at one`);
}

/** The first crun that accepts runtime-spec versions past 1.0, which containerd 2 writes. */
const CRUN_FOR_CONTAINERD_2 = [1, 14, 3] as const;

/**
 * Why the crun that printed `crunVersionOutput` (`crun --version`) cannot run the containers of
 * `containerd`, or undefined when it can. containerd 2 writes OCI runtime-spec 1.2 and newer,
 * which crun before 1.14.3 refuses ("unknown version specified").
 */
export function crunProblem(containerd: ContainerdVersion, crunVersionOutput: string): string | undefined {
  if (containerd.major < 2) return undefined;
  const m = /^crun version (\d+)\.(\d+)(?:\.(\d+))?/m.exec(crunVersionOutput);
  if (!m) return `crun --version printed "${crunVersionOutput.trim().split('\n')[0] || '(nothing)'}", not "crun version <version>"`;
  const crun = [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
  const i = crun.findIndex((n, k) => n !== CRUN_FOR_CONTAINERD_2[k]);
  if (i === -1 || crun[i]! > CRUN_FOR_CONTAINERD_2[i]!) return undefined;
  return `crun ${crun.join('.')} refuses the OCI runtime-spec versions containerd ${containerd.text} writes; containerd 2 needs crun ${CRUN_FOR_CONTAINERD_2.join('.')} or newer`;
}
