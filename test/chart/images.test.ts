// deploy/Dockerfile, as far as it can be checked without a container engine (there is none on
// these machines): its bases are Node 24 LTS on Debian 12, every file it copies exists and is in
// the build context .dockerignore leaves, its entrypoint runs real commands of bin/shopfloor.js
// (the ones the chart runs), the production dependencies hold every package the commands load,
// and the agent image installs the Debian package of every program the agent runs (looked up in
// this Debian 12 machine's dpkg database).
import { accessSync, constants, readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { renderCniConflist, DEFAULT_CNI_BIN_DIR } from '../../agent/runtime/containerd-config.js';
import { repoRoot } from '../harness/kubectl.js';
import { runProgram } from '../harness/program.js';
import { CHART_DIR, DEFAULTS, objectOf, render } from './chart.js';
import { sourceGraph, sourceProgram, spawnedPrograms, type SourceProgram } from './source-graph.js';

interface Stage {
  name: string;
  from: string;
  instructions: Array<{ op: string; args: string }>;
}

/** The stages of a Dockerfile, with continuation lines joined and comments dropped. */
function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const lines = text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  for (const line of lines) {
    const [op, ...rest] = line.split(/\s+/);
    const args = rest.join(' ');
    if (op === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      if (!m) throw new Error(`deploy/Dockerfile: FROM ${args} is not "image [AS name]"`);
      stages.push({ name: m[2] ?? `stage${stages.length}`, from: m[1]!, instructions: [] });
    } else {
      if (!stages.length) throw new Error(`deploy/Dockerfile: ${op} before any FROM`);
      stages[stages.length - 1]!.instructions.push({ op: op!.toUpperCase(), args });
    }
  }
  return stages;
}

const dockerfile = parseDockerfile(readFileSync(join(repoRoot, 'deploy', 'Dockerfile'), 'utf8'));
const stage = (name: string): Stage => dockerfile.find((s) => s.name === name) ?? (() => { throw new Error(`deploy/Dockerfile has no stage ${name}`); })();
/** An instruction of a stage or, failing that, of the stages it is built FROM. */
function inherited(name: string, op: string): string | undefined {
  for (let s: Stage | undefined = stage(name); s; s = dockerfile.find((d) => d.name === s!.from)) {
    const found = s.instructions.filter((i) => i.op === op).pop();
    if (found) return found.args;
  }
  return undefined;
}

/** Whether .dockerignore leaves `path` (relative to the checkout) in the build context: the last matching rule wins, a rule on a directory covers what is below it. */
function inContext(path: string, rules: ReadonlyArray<{ exclude: boolean; pattern: RegExp }>): boolean {
  const prefixes = path.split('/').map((_, i, parts) => parts.slice(0, i + 1).join('/'));
  let kept = true;
  for (const r of rules) if (prefixes.some((p) => r.pattern.test(p))) kept = !r.exclude;
  return kept;
}

/** A .dockerignore pattern: `*` and `?` within one path part, `**` over any parts. */
function globPattern(glob: string): RegExp {
  const parts = glob.split('/').map((part) => (part === '**' ? '(?:.+/)?' : `${part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}/`));
  return new RegExp(`^${parts.join('').replace(/\/$/, '')}$`);
}

const ignoreRules = readFileSync(join(repoRoot, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'))
  .map((l) => ({ exclude: !l.startsWith('!'), pattern: globPattern(l.replace(/^!/, '').replace(/\/$/, '')) }));

function filesUnder(path: string): string[] {
  const full = join(repoRoot, path);
  if (!statSync(full).isDirectory()) return [path];
  return readdirSync(full).flatMap((entry) => filesUnder(join(path, entry)));
}

/** The Debian package that installed a program on this machine (merged /usr: dpkg may know it under /bin). */
async function debianPackageOf(path: string): Promise<string> {
  const real = realpathSync(path);
  for (const candidate of [real, real.replace(/^\/usr/, '')]) {
    const r = await runProgram('dpkg', ['-S', candidate]);
    if (r.code === 0) return r.stdout.split(':')[0]!;
  }
  throw new Error(`no Debian package installed ${path} (${real}) on this machine`);
}

function onPath(program: string): string {
  for (const dir of ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
    try {
      accessSync(join(dir, program), constants.X_OK);
      return join(dir, program);
    } catch {
      // not in this directory
    }
  }
  throw new Error(`${program} is not installed on this machine, so its Debian package cannot be looked up; apt-get install it`);
}

/** The CLI's program (cli/main.ts loads every command), built once for the suite. */
let program: SourceProgram | undefined;
const cliProgram = (): SourceProgram => (program ??= sourceProgram(['cli/main.ts']));

describe('deploy/Dockerfile', () => {
  it('builds the operator and agent targets on Node 24 LTS, Debian 12', () => {
    expect(dockerfile.map((s) => s.name)).toEqual(expect.arrayContaining(['operator', 'agent']));
    const stageNames = new Set(dockerfile.map((s) => s.name));
    for (const s of dockerfile.filter((d) => !stageNames.has(d.from))) expect([s.name, s.from]).toEqual([s.name, 'node:24-bookworm-slim']);
  });

  it('copies only files that exist and that .dockerignore leaves in the build context', () => {
    const copies = dockerfile.flatMap((s) => s.instructions.filter((i) => i.op === 'COPY' && !i.args.startsWith('--from')));
    expect(copies.length).toBeGreaterThan(5);
    for (const copy of copies) {
      const sources = copy.args.split(/\s+/).slice(0, -1);
      for (const source of sources) {
        for (const file of filesUnder(source)) {
          const kept = inContext(file, ignoreRules);
          // Suites are no part of an image; everything else the build reads must be there.
          expect([file, kept]).toEqual([file, !file.endsWith('.test.ts')]);
        }
      }
    }
    expect(inContext('node_modules/typescript/package.json', ignoreRules)).toBe(false);
    expect(inContext('.shopfloor/kubeconfig', ignoreRules)).toBe(false);
  });

  it("runs bin/shopfloor.js with the command the chart runs, a real one of the CLI's", async () => {
    const objects = await render(DEFAULTS);
    const chartCommand = { operator: objectOf(objects, 'Deployment'), agent: objectOf(objects, 'DaemonSet') };
    for (const target of ['operator', 'agent'] as const) {
      expect(JSON.parse(inherited(target, 'ENTRYPOINT')!)).toEqual(['node', '/app/bin/shopfloor.js']);
      expect(inherited(target, 'WORKDIR')).toBe('/app');
      const [command] = JSON.parse(inherited(target, 'CMD')!) as string[];
      const args = (chartCommand[target]['spec'] as { template: { spec: { containers: Array<{ args: string[] }> } } }).template.spec.containers[0]!.args;
      expect(args[0]).toBe(command);
      const help = await runProgram(process.execPath, [join(repoRoot, 'bin', 'shopfloor.js'), command!, '--help']);
      expect([help.code, help.stdout]).toEqual([0, expect.stringContaining(`usage: shopfloor ${command}`)]);
    }
    expect(stage('runtime').instructions).toContainEqual({ op: 'COPY', args: 'bin bin' });
  });

  it('keeps, with the production dependencies only, every package the CLI loads', () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(stage('build').instructions).toContainEqual({ op: 'RUN', args: 'npm run build && npm prune --omit=dev' });
    const graph = sourceGraph(cliProgram(), 'cli/main.ts');
    const packageName = (spec: string) => spec.split('/').slice(0, spec.startsWith('@') ? 2 : 1).join('/');
    const missing = [...graph.packages].filter((s) => !s.startsWith('node:')).map(packageName).filter((p) => !(p in pkg.dependencies));
    expect(missing).toEqual([]);
  }, 60_000);

  it("installs in the agent target the Debian package of every program the agent runs, and none in the operator's", async () => {
    const program = cliProgram();
    expect([...spawnedPrograms(sourceGraph(program, 'cli/operator.ts'))]).toEqual([]);
    const run = spawnedPrograms(sourceGraph(program, 'cli/agent.ts'));
    // Run under names the code does not write at the call: the managed containerd (its binary
    // option defaults to "containerd"), the shim and runc it starts, the CNI plugins of the
    // conflist the agent writes, from DEFAULT_CNI_BIN_DIR.
    const paths = [...run.keys(), 'containerd', 'containerd-shim-runc-v2', 'runc'].map(onPath);
    const conflist = JSON.parse(renderCniConflist({ dataDir: '/var/lib/shopfloor/containerd', podCIDR: '10.244.0.0/24', bridgeName: 'sf0' })) as { plugins: Array<{ type: string; ipam?: { type: string } }> };
    const plugins = conflist.plugins.flatMap((p) => [p.type, ...(p.ipam ? [p.ipam.type] : [])]);
    expect(plugins).toEqual(expect.arrayContaining(['bridge', 'host-local']));
    paths.push(...plugins.map((p) => join(DEFAULT_CNI_BIN_DIR, p)));

    const install = stage('agent').instructions.find((i) => i.op === 'RUN' && i.args.includes('apt-get install'))!.args;
    const installed = new Set(install.slice(install.indexOf('apt-get install')).split('&&')[0]!.split(/\s+/).filter((w) => /^[a-z0-9][a-z0-9.+-]+$/.test(w) && w !== 'apt-get' && w !== 'install'));
    for (const path of paths) {
      const pkg = await debianPackageOf(path);
      const priority = (await runProgram('dpkg-query', ['-W', '-f=${Priority}', pkg])).stdout;
      // Priority required packages are in every Debian image, node's slim ones too.
      expect([relative('/', path), pkg, installed.has(pkg) || priority === 'required']).toEqual([relative('/', path), pkg, true]);
    }
    expect(stage('operator').instructions.filter((i) => i.op === 'RUN')).toEqual([]);
  }, 60_000);

  it("runs the operator as the chart's non-root user, the agent as root", () => {
    const values = parse(readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8')) as { operator: { podSecurityContext: { runAsUser: number; runAsGroup: number } } };
    expect(inherited('operator', 'USER')).toBe(`${values.operator.podSecurityContext.runAsUser}:${values.operator.podSecurityContext.runAsGroup}`);
    expect(inherited('agent', 'USER')).toBeUndefined();
  });
});
