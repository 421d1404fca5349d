// The shared devcluster harness for integration suites. The devcluster runs as a child process
// (`node --import tsx cli/main.ts devcluster ...` from source), so that a
// suite exercises the same command users run, restart() is a real process restart on the same
// data dir, and a crash in the API server cannot take the test process down with it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface TestCluster {
  dataDir: string;
  kubeconfigPath: string;
  url: string;
  token: string;
  kubeConfig: KubeConfig;
  kubectl(args: string[], opts?: { input?: string }): Promise<KubectlResult>;
  /** Stops and starts the devcluster again on the same data dir and port. */
  restart(): Promise<void>;
  /** Stops everything and removes the temp data dir. */
  stop(): Promise<void>;
  /** etcd's client URL (changes on restart), for suites that compact or inspect storage. */
  etcdEndpoint(): string;
  /** The devcluster child's pid (changes on restart). */
  pid(): number | undefined;
}

interface Running {
  child: ChildProcess;
  url: string;
  etcd: string;
  exited: Promise<void>;
}

function launch(dataDir: string, port: number): Promise<Running> {
  const child = spawn(process.execPath, [
    '--import', 'tsx', 'cli/main.ts', 'devcluster', '--data-dir', dataDir, '--port', String(port),
  ], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  return new Promise((resolvePromise, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`devcluster did not start within 60 s; stderr: ${err.slice(-2000)}`));
    }, 60_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      let nl: number;
      while ((nl = out.indexOf('\n')) >= 0) {
        const line = out.slice(0, nl);
        out = out.slice(nl + 1);
        try {
          const rec = JSON.parse(line) as { msg?: string; url?: string; etcd?: string };
          if (rec.msg === 'devcluster is serving' && rec.url && rec.etcd) {
            clearTimeout(timer);
            resolvePromise({ child, url: rec.url, etcd: rec.etcd, exited });
          }
        } catch {
          // not a log line
        }
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      err = (err + chunk.toString()).slice(-8000);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`devcluster exited during start (code ${code}, signal ${signal}): ${err.slice(-2000)}`));
    });
  });
}

async function halt(running: Running): Promise<void> {
  if (running.child.exitCode !== null || running.child.signalCode !== null) return;
  const killer = setTimeout(() => running.child.kill('SIGKILL'), 15_000);
  running.child.kill('SIGTERM');
  await running.exited;
  clearTimeout(killer);
}

/** Starts a devcluster on a fresh temp data dir; `crds: true` applies crds/*.yaml and waits for Established. */
export async function startTestCluster(opts: { crds?: boolean } = {}): Promise<TestCluster> {
  const dataDir = mkdtempSync(join(tmpdir(), 'shopfloor-devcluster-'));
  let running: Running;
  try {
    running = await launch(dataDir, 0);
  } catch (err) {
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  const port = Number(new URL(running.url).port);
  const kubeconfigPath = join(dataDir, 'kubeconfig');
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfigPath);
  const token = kubeConfig.getCurrentUser()?.token ?? '';

  const kubectl = (args: string[], o: { input?: string } = {}): Promise<KubectlResult> =>
    new Promise((res, rej) => {
      const child = spawn('kubectl', ['--kubeconfig', kubeconfigPath, ...args], { stdio: [o.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('error', rej);
      child.on('close', (code) => res({ code: code ?? -1, stdout, stderr }));
      if (child.stdin) {
        // kubectl may exit (an error) before it reads its input; that is its answer, not ours.
        child.stdin.on('error', () => undefined);
        child.stdin.end(o.input);
      }
    });

  const cluster: TestCluster = {
    dataDir,
    kubeconfigPath,
    url: running.url,
    token,
    kubeConfig,
    kubectl,
    async restart() {
      await halt(running);
      running = await launch(dataDir, port);
    },
    async stop() {
      await halt(running);
      rmSync(dataDir, { recursive: true, force: true });
    },
    etcdEndpoint: () => running.etcd,
    pid: () => running.child.pid,
  };

  if (opts.crds) {
    try {
      const dir = join(repoRoot, 'crds');
      const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
      if (files.length === 0) throw new Error(`no CRDs in ${dir}; run npm run gen:crds`);
      const applied = await kubectl(['apply', ...files.flatMap((f) => ['-f', join(dir, f)])]);
      if (applied.code !== 0) throw new Error(`kubectl apply of crds/ failed: ${applied.stderr}`);
      const waited = await kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all']);
      if (waited.code !== 0) throw new Error(`CRDs did not become Established: ${waited.stderr}`);
    } catch (err) {
      await cluster.stop();
      throw err;
    }
  }
  return cluster;
}
