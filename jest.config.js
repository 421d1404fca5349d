// Jest runs in native ESM mode (`--experimental-vm-modules`, see the `jest` script) because
// @kubernetes/client-node 1.x is ESM-only. ts-jest only transpiles; `npm run typecheck` checks types.
/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, diagnostics: false }],
  },
  testMatch: ['<rootDir>/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  // Two cores here: integration suites start etcd, containerd and network namespaces.
  maxWorkers: 2,
  testTimeout: 60_000,
};
