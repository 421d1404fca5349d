// Jest runs in native ESM mode (`--experimental-vm-modules`, see the `jest` script) because
// @kubernetes/client-node 1.x is ESM-only. ts-jest only transpiles; `npm run typecheck` checks types.
//
// Two projects: every suite against the devcluster, and the suites that talk to an API server
// again against the real kube-apiserver (test/harness/kube-apiserver.ts), when `npm test` has
// built it (scripts/build-tools.sh; SHOPFLOOR_TOOLS_BIN names the binaries). The Helm chart's
// suites (test/chart/) run the built helm, so they too need SHOPFLOOR_TOOLS_BIN.
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
 * says why it skips (test/harness/devcluster-only.ts). test/devcluster/kubectl.test.ts is not
 * here yet: the devcluster orders a strategic-merge-patched finalizers list differently from
 * kube-apiserver (devcluster/README.md lists the differences).
 */
export const KUBE_APISERVER_SUITES = [
  '<rootDir>/test/operator/**/*.test.ts',
  '<rootDir>/test/pods/**/*.test.ts',
  '<rootDir>/test/proxy/proxy-api.test.ts',
  '<rootDir>/test/kube/**/*.test.ts',
  '<rootDir>/test/node/registration.test.ts',
  '<rootDir>/test/node/static-mirrors.test.ts',
  '<rootDir>/test/logs/**/*.test.ts',
  '<rootDir>/test/devcluster/client-node.test.ts',
  '<rootDir>/test/devcluster/harness.test.ts',
  '<rootDir>/test/devcluster/request-parsing.test.ts',
  '<rootDir>/test/e2e/**/*.test.ts',
  '<rootDir>/test/chart/apply.test.ts',
  '<rootDir>/test/chart/helm-release.test.ts',
];

/** Suites that run a tool scripts/build-tools.sh builds (helm), left out where it has not. */
export const TOOLS_BIN_SUITES = ['/test/chart/'];

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
      ? [{ ...shared, displayName: 'kube-apiserver', testMatch: KUBE_APISERVER_SUITES, setupFiles: ['<rootDir>/test/harness/on-kube-apiserver.ts'] }]
      : []),
  ],
  // Two cores here: integration suites start etcd, containerd and network namespaces.
  maxWorkers: 2,
  // Read from the root config only, for every project.
  testTimeout: 60_000,
};
