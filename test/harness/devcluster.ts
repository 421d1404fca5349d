// The devcluster behind startTestCluster (test-cluster.ts) when SHOPFLOOR_TEST_API_SERVER is
// devcluster or unset. The devcluster runs as a child process (`node --import tsx cli/main.ts
// devcluster ...` from source), so that a suite exercises the same command users run, restart() is a real process restart on the same
// data dir, and a crash in the API server cannot take the test process down with it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { installCrds, kubectlFor, repoRoot } from './kubectl.js';
import type { TestCluster, TestClusterOptions } from './test-cluster.js';
import { stopChild } from '../../devcluster/child-process.js';

interface Running {
  child: ChildProcess;
  url: string;
  etcd: string;
  exited: Promise<void>;
}

function launch(dataDir: string, port: number): Promise<Running> {
  // SHOPFLOOR_DEVCLUSTER_NODE_ARGS: node flags for the devcluster child, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`
  // to profile it under a benchmark (the profile is written when it exits on the harness's SIGTERM).
  const nodeArgs = (process.env.SHOPFLOOR_DEVCLUSTER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [
    ...nodeArgs, '--import', 'tsx', 'cli/main.ts', 'devcluster', '--data-dir', dataDir, '--port', String(port),
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

function halt(running: Running): Promise<void> {
  return stopChild(running.child, running.exited, 15_000);
}

/** Starts a devcluster on a fresh temp data dir; `crds: true` applies crds/*.yaml and waits for Established. */
export async function startDevclusterTestCluster(opts: TestClusterOptions = {}): Promise<TestCluster> {
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
  const kubectl = kubectlFor(kubeconfigPath);

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
      await installCrds(kubectl);
    } catch (err) {
      await cluster.stop();
      throw err;
    }
  }
  return cluster;
}
