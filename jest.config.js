// Jest runs in native ESM mode (`--experimental-vm-modules`, see the `jest` script) because
// @kubernetes/client-node 1.x is ESM-only. ts-jest only transpiles; `npm run typecheck` checks types.
//
// Three projects: every suite against the devcluster, the suites that talk to an API server
// again against the real kube-apiserver (test/harness/kube-apiserver.ts), and the pod suites
// again on the pinned containerd 2 instead of Debian's 1.6 (test/harness/containerd.ts); the
// last two when `npm test` has built those (scripts/build-tools.sh; SHOPFLOOR_TOOLS_BIN names
// the binaries). The Helm chart's suites (test/chart/) run the built helm, so they too need
// SHOPFLOOR_TOOLS_BIN.
import { readFileSync } from 'node:fs';

const shared = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, diagnostics: false }],
  },
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
};

/**
 * The suites that run on kube-apiserver as well: each passes there, and a test that cannot apply
 * says why it skips (test/harness/devcluster-only.ts). `npm run fidelity` (bench/fidelity.ts)
 * compares the two servers' answers to the kubectl and client-node scenarios.
 */
export const KUBE_APISERVER_SUITES = [
  '<rootDir>/test/operator/**/*.test.ts',
  '<rootDir>/test/pods/**/*.test.ts',
  '<rootDir>/test/proxy/proxy-api.test.ts',
  '<rootDir>/test/proxy/proxy-netns.test.ts',
  '<rootDir>/test/proxy/bad-service-netns.test.ts',
  '<rootDir>/test/proxy/sync-failure-netns.test.ts',
  '<rootDir>/test/kube/**/*.test.ts',
  '<rootDir>/test/node/registration.test.ts',
  '<rootDir>/test/node/static-mirrors.test.ts',
  '<rootDir>/test/logs/**/*.test.ts',
  '<rootDir>/test/devcluster/client-node.test.ts',
  '<rootDir>/test/devcluster/kubectl.test.ts',
  '<rootDir>/test/devcluster/harness.test.ts',
  '<rootDir>/test/devcluster/request-parsing.test.ts',
  '<rootDir>/test/devcluster/delete-answers.test.ts',
  '<rootDir>/test/devcluster/workloads.test.ts',
  '<rootDir>/test/clients/**/*.test.ts',
  '<rootDir>/test/e2e/**/*.test.ts',
  '<rootDir>/test/chart/apply.test.ts',
  '<rootDir>/test/chart/helm-release.test.ts',
];

/** Suites that run a tool scripts/build-tools.sh builds (helm), left out where it has not. */
export const TOOLS_BIN_SUITES = ['/test/chart/'];

/** The pod lifecycle suites, which run on the pinned containerd 2 as well. */
const POD_SUITES = ['<rootDir>/test/pods/**/*.test.ts'];

/** `2.4` of tools/versions.env's CONTAINERD_VERSION=v2.4.2, so that the project's name says which containerd it runs. */
function pinnedContainerd() {
  const version = /^CONTAINERD_VERSION=v(\d+\.\d+)\./m.exec(readFileSync(new URL('tools/versions.env', import.meta.url), 'utf8'))?.[1];
  if (!version) throw new Error('tools/versions.env has no CONTAINERD_VERSION=v<major>.<minor>.<patch> line; tools/pin.sh and scripts/build-tools.sh need it too');
  return version;
}

/** @type {import('jest').Config} */
export default {
  projects: [
    {
      ...shared,
      displayName: 'devcluster',
      testMatch: ['<rootDir>/**/*.test.ts'],
      testPathIgnorePatterns: [...shared.testPathIgnorePatterns, ...(process.env.SHOPFLOOR_TOOLS_BIN ? [] : TOOLS_BIN_SUITES)],
    },
    ...(process.env.SHOPFLOOR_TOOLS_BIN
      ? [
          { ...shared, displayName: 'kube-apiserver', testMatch: KUBE_APISERVER_SUITES, setupFiles: ['<rootDir>/test/harness/on-kube-apiserver.ts'] },
          { ...shared, displayName: `containerd-${pinnedContainerd()}`, testMatch: POD_SUITES, setupFiles: ['<rootDir>/test/harness/on-pinned-containerd.ts'] },
        ]
      : []),
  ],
  // Two cores here: integration suites start etcd, containerd and network namespaces.
  maxWorkers: 2,
  // Read from the root config only, for every project.
  testTimeout: 60_000,
};
