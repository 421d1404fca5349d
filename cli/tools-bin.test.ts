import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toolBinary } from './tools-bin.js';

describe('SHOPFLOOR_TOOLS_BIN', () => {
  it('says to run scripts/build-tools.sh when it is unset', () => {
    expect(() => toolBinary('kube-apiserver', 'the suite', {})).toThrow('the suite needs kube-apiserver from SHOPFLOOR_TOOLS_BIN, which is not set; run scripts/build-tools.sh and set SHOPFLOOR_TOOLS_BIN to the bin directory it prints');
  });

  it('names the directory and the binary it lacks, and finds an executable one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'shopfloor-tools-'));
    try {
      expect(() => toolBinary('kube-apiserver', 'the suite', { SHOPFLOOR_TOOLS_BIN: dir })).toThrow(`the suite needs kube-apiserver, but SHOPFLOOR_TOOLS_BIN=${dir} has no executable kube-apiserver; run scripts/build-tools.sh`);
      writeFileSync(join(dir, 'kube-apiserver'), '#!/bin/sh\n', { mode: 0o755 });
      expect(toolBinary('kube-apiserver', 'the suite', { SHOPFLOOR_TOOLS_BIN: dir })).toBe(join(dir, 'kube-apiserver'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
