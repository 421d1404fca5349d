// The folder rules of README's Architecture section, read from the code: every relative import
// of every TypeScript file, checked against what its folder may import. A new import across
// folders either fits the table or changes the table (and README) with it.
import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** What each folder's code may import besides itself: a folder, one file of one, or `*` for everything. */
const MAY_IMPORT: Record<string, readonly string[]> = {
  api: [],
  pki: [],
  devcluster: ['pki', 'kube/metrics.js'],
  kube: ['api'],
  operator: ['api', 'kube'],
  agent: ['api', 'kube', 'pki'],
  cli: ['*'],
  test: ['*'],
  bench: ['*'],
  scripts: ['*'],
};

/** Imports beyond the table that a file of tests may make. */
const TESTS_MAY_IMPORT = ['test/harness'];
/** kube's test fixtures serve the devcluster's own certificates to unit tests. */
const FIXTURES_MAY_IMPORT: Record<string, readonly string[]> = { 'kube/test-fixtures.ts': ['devcluster'] };

function trackedSources(): string[] {
  return execFileSync('git', ['ls-files', '*.ts'], { cwd: root, encoding: 'utf8' }).split('\n').filter(Boolean);
}

function importsOf(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  return [...text.matchAll(/from '(\.{1,2}\/[^']+)'/g)].map((m) => relative(root, normalize(join(root, dirname(file), m[1]!))));
}

describe('the folder rules', () => {
  it('hold for every import between folders', () => {
    const broken: string[] = [];
    let across = 0;
    for (const file of trackedSources()) {
      const folder = file.split('/')[0]!;
      const allowed = MAY_IMPORT[folder];
      if (!allowed) continue;
      const isTest = file.endsWith('.test.ts');
      for (const target of importsOf(file)) {
        const to = target.split('/')[0]!;
        if (to !== folder) across++;
        if (to === folder || allowed.includes('*') || allowed.includes(to) || allowed.includes(target)) continue;
        if (isTest && TESTS_MAY_IMPORT.some((t) => target.startsWith(`${t}/`))) continue;
        if (FIXTURES_MAY_IMPORT[file]?.includes(to)) continue;
        broken.push(`${file} imports ${target}`);
      }
    }
    expect(across).toBeGreaterThan(100);
    expect(broken).toEqual([]);
  });

});
