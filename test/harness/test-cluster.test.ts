import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testContainerdBinary } from './containerd.js';
import { testApiServer } from './test-cluster.js';

describe('SHOPFLOOR_TEST_API_SERVER', () => {
  it('is the devcluster when unset or empty, and names either API server', () => {
    expect(testApiServer({})).toBe('devcluster');
    expect(testApiServer({ SHOPFLOOR_TEST_API_SERVER: '' })).toBe('devcluster');
    expect(testApiServer({ SHOPFLOOR_TEST_API_SERVER: 'devcluster' })).toBe('devcluster');
    expect(testApiServer({ SHOPFLOOR_TEST_API_SERVER: 'kube-apiserver' })).toBe('kube-apiserver');
  });

  it('refuses any other value, naming the allowed ones', () => {
    expect(() => testApiServer({ SHOPFLOOR_TEST_API_SERVER: 'kind' })).toThrow('SHOPFLOOR_TEST_API_SERVER="kind" is not an API server the tests run on; use one of devcluster, kube-apiserver (default devcluster)');
  });
});

describe('SHOPFLOOR_TEST_CONTAINERD', () => {
  it('is Debian\'s containerd on PATH when unset, and the pinned build from SHOPFLOOR_TOOLS_BIN with its shim beside it', () => {
    expect(testContainerdBinary({})).toBe('containerd');
    expect(testContainerdBinary({ SHOPFLOOR_TEST_CONTAINERD: 'debian' })).toBe('containerd');
    const dir = mkdtempSync(join(tmpdir(), 'shopfloor-tools-'));
    try {
      const pinned = { SHOPFLOOR_TEST_CONTAINERD: 'pinned', SHOPFLOOR_TOOLS_BIN: dir };
      writeFileSync(join(dir, 'containerd'), '#!/bin/sh\n', { mode: 0o755 });
      expect(() => testContainerdBinary(pinned)).toThrow(`SHOPFLOOR_TEST_CONTAINERD=pinned needs containerd-shim-runc-v2, but SHOPFLOOR_TOOLS_BIN=${dir} has no executable containerd-shim-runc-v2; run scripts/build-tools.sh`);
      writeFileSync(join(dir, 'containerd-shim-runc-v2'), '#!/bin/sh\n', { mode: 0o755 });
      expect(testContainerdBinary(pinned)).toBe(join(dir, 'containerd'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(() => testContainerdBinary({ SHOPFLOOR_TEST_CONTAINERD: 'pinned' })).toThrow('SHOPFLOOR_TEST_CONTAINERD=pinned needs containerd from SHOPFLOOR_TOOLS_BIN, which is not set; run scripts/build-tools.sh');
  });

  it('refuses any other value, naming the allowed ones', () => {
    expect(() => testContainerdBinary({ SHOPFLOOR_TEST_CONTAINERD: '2.4' })).toThrow('SHOPFLOOR_TEST_CONTAINERD="2.4" is not a containerd the tests run on; use one of debian, pinned (default debian)');
  });
});
