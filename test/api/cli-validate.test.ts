// `shopfloor validate` as a user runs it: a real process on real files and standard input.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

const root = fileURLToPath(new URL('../../', import.meta.url));

interface Outcome {
  code: number;
  lines: string[];
}

function shopfloor(args: string[], stdin?: string): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = execFile(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], { cwd: root }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      if (code !== 0 && code !== 1 && code !== 2) reject(new Error(`exit ${code}: ${stderr}`));
      else resolve({ code, lines: `${stdout}${stderr}`.split('\n').filter(Boolean) });
    });
    child.stdin?.end(stdin ?? '');
  });
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shopfloor-validate-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('shopfloor validate', () => {
  it('passes the examples with a short OK line', async () => {
    const { code, lines } = await shopfloor(['validate', 'examples/hello.yaml', 'examples/every-node.yaml', 'examples/probes.yaml']);
    expect({ code, lines }).toEqual({ code: 0, lines: ['OK: 3 Shopfloor objects valid'] });
  });

  it('prints every field error as <file> doc N Kind/name: path: message, and exits 1', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(
      file,
      `apiVersion: v1
kind: Namespace
metadata: {name: demo}
---
apiVersion: shopfloor.dev/v1alpha1
kind: NodeWorkload
metadata: {name: broken}
spec:
  placement: {mode: All}
  template:
    containers: [{name: Web, image: busybox:stable, resources: {limits: {cpu: 0.5}}}]
---
apiVersion: shopfloor.dev/v1alpha1
kind: NodeWorklaod
metadata: {name: typo}
`,
    );
    const { code, lines } = await shopfloor(['validate', file]);
    expect(code).toBe(1);
    expect(lines).toEqual([
      `${file} doc 1 v1 Namespace/demo: not a Shopfloor kind, not checked`,
      `${file} doc 2 NodeWorkload/broken: spec.placement.mode: must be one of Replicas, EveryNode`,
      expect.stringMatching(new RegExp(`^${file} doc 2 NodeWorkload/broken: spec\\.template\\.containers\\[0\\]\\.name: must be a DNS-1123 label`)),
      expect.stringMatching(new RegExp(`^${file} doc 2 NodeWorkload/broken: spec\\.template\\.containers\\[0\\]\\.resources\\.limits\\.cpu: must be a Kubernetes quantity.*quote fractions`)),
      `${file} doc 3 NodeWorklaod/typo: kind: unknown kind "NodeWorklaod" in shopfloor.dev: expected one of NodeWorkload, NodeAssignment, NodeAgent`,
      '4 errors',
    ]);
  });

  it('reads standard input for - and checks the other kinds of ours by their schemas', async () => {
    const agent = `apiVersion: shopfloor.dev/v1alpha1
kind: NodeAgent
metadata: {name: node-1}
status: {nodeInfo: {proxyMode: ipvs}, pods: -1}
`;
    const { code, lines } = await shopfloor(['validate', '-'], agent);
    expect({ code, lines }).toEqual({
      code: 1,
      lines: ['<stdin> doc 1 NodeAgent/node-1: status.nodeInfo.proxyMode: must be one of nftables, iptables', '<stdin> doc 1 NodeAgent/node-1: status.pods: must be 0 or more', '2 errors'],
    });
  });

  it('names YAML syntax errors and unreadable files', async () => {
    const file = join(dir, 'syntax.yaml');
    await writeFile(file, 'a: [1, 2\nb: c\n');
    const missing = join(dir, 'missing.yaml');
    const { code, lines } = await shopfloor(['validate', file, missing]);
    expect(code).toBe(1);
    expect(lines).toEqual([
      expect.stringMatching(new RegExp(`^${file} doc 1: \\(yaml\\): line 2, column 1: `)),
      `${missing}: cannot read: ENOENT: no such file or directory, open '${missing}'`,
      '2 errors',
    ]);
  });

  it('fails when no file holds a Shopfloor object', async () => {
    const { code, lines } = await shopfloor(['validate', '-'], 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n');
    expect({ code, lines }).toEqual({ code: 1, lines: ['<stdin> doc 1 v1 ConfigMap/c: not a Shopfloor kind, not checked', 'no Shopfloor objects found in <stdin>'] });
  });

  it('without a file, explains its usage and exits 2', async () => {
    const { code, lines } = await shopfloor(['validate']);
    expect(code).toBe(2);
    expect(lines[0]).toBe('shopfloor validate: name at least one file (or - for standard input)');
    expect(lines).toContain('usage: shopfloor validate <file...>');
  });
});
