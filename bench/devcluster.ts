// bench/devcluster: the devcluster's API against the physical limit under it (raw etcd puts),
// measured side by side in one run on this machine:
// - create throughput and p99 latency through the API vs raw etcd puts (same concurrency, and
//   each raw put stores the bytes the API stored for a created object)
// - list of 10,000 objects
// - watch delivery latency with 100 concurrent watchers
// The devcluster runs as a child process (the test harness), so load generator and server do
// not share an event loop. They share the machine's cores, so the load generator is kept lean:
// node:https with keep-alive and request bodies serialized before the clock starts. Ends with one JSON line: create_ratio, watch_p99_ms, list10k_s, ...
import { Agent, request } from 'node:https';
import { Etcd3 } from 'etcd3';
import { startDevclusterTestCluster } from '../test/harness/devcluster.js';
import type { TestCluster } from '../test/harness/test-cluster.js';
import { pool } from './pool.js';

const CONCURRENCY = 16;
const CREATES = 2000;
// Raw puts and API creates alternate in rounds so that load from elsewhere on the machine hits both alike.
const ROUNDS = 4;
const LIST_SIZE = 10_000;
const WATCHERS = 100;
const WATCH_WRITES = 100;
const VALUE = 'v'.repeat(600);

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

type Call = (method: string, path: string, body?: unknown, contentType?: string) => Promise<{ status: number; text: string }>;

function client(c: TestCluster, maxSockets: number): Call {
  const ca = Buffer.from(c.kubeConfig.getCurrentCluster()?.caData ?? '', 'base64');
  const agent = new Agent({ keepAlive: true, maxSockets, ca });
  const { hostname, port } = new URL(c.url);
  return (method, path, body, contentType = 'application/json') => new Promise((resolve, reject) => {
    const data = body === undefined || typeof body === 'string' ? body : JSON.stringify(body);
    const req = request({ hostname, port, path, method, agent, headers: { Authorization: `Bearer ${c.token}`, ...(data ? { 'Content-Type': contentType } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(data);
  });
}

/** Puts `value` (the bytes of one object the API stored) under `count` new keys. */
async function rawPuts(etcd: Etcd3, value: Buffer, from: number, count: number): Promise<{ seconds: number; latencies: number[] }> {
  const keys = Array.from({ length: count }, (_, i) => `/bench-raw/${from + i}`);
  const latencies: number[] = [];
  const start = performance.now();
  await pool(count, CONCURRENCY, async (i) => {
    const t = performance.now();
    await etcd.put(keys[i] as string).value(value);
    latencies.push(performance.now() - t);
  });
  return { seconds: (performance.now() - start) / 1000, latencies };
}

async function apiCreates(call: Call, namespace: string, from: number, count: number): Promise<{ seconds: number; latencies: number[] }> {
  const path = `/api/v1/namespaces/${namespace}/configmaps`;
  const bodies = Array.from({ length: count }, (_, i) => JSON.stringify({ metadata: { name: `cm-${from + i}` }, data: { v: VALUE } }));
  const latencies: number[] = [];
  const start = performance.now();
  await pool(count, CONCURRENCY, async (i) => {
    const t = performance.now();
    const res = await call('POST', path, bodies[i]);
    if (res.status !== 201) throw new Error(`create failed: ${res.status} ${res.text}`);
    latencies.push(performance.now() - t);
  });
  return { seconds: (performance.now() - start) / 1000, latencies };
}

async function watchLatency(c: TestCluster, call: Call): Promise<{ p50: number; p99: number; delivered: number }> {
  const ca = Buffer.from(c.kubeConfig.getCurrentCluster()?.caData ?? '', 'base64');
  const agent = new Agent({ keepAlive: false, maxSockets: WATCHERS + 1, ca });
  const sent = new Map<string, number>();
  const latencies: number[] = [];
  let delivered = 0;
  const created = await call('POST', '/api/v1/namespaces/watch/configmaps', { metadata: { name: 'target' }, data: { seq: '0' } });
  const rv = (JSON.parse(created.text) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
  const streams = await Promise.all(Array.from({ length: WATCHERS }, () => new Promise<() => void>((resolve, reject) => {
    const req = request(new URL(`/api/v1/namespaces/watch/configmaps?watch=true&resourceVersion=${rv}`, c.url), { agent, headers: { Authorization: `Bearer ${c.token}` } }, (res) => {
      let buf = '';
      res.on('data', (d: Buffer) => {
        const now = performance.now();
        buf += d.toString();
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const ev = JSON.parse(buf.slice(0, nl)) as { object: { data?: { seq?: string } } };
          buf = buf.slice(nl + 1);
          const at = sent.get(ev.object.data?.seq ?? '');
          if (at !== undefined) {
            latencies.push(now - at);
            delivered++;
          }
        }
      });
      resolve(() => req.destroy());
    });
    req.on('error', (err) => {
      if (!req.destroyed) reject(err);
    });
    req.end();
  })));
  // Let every watch reach etcd before the first write.
  await new Promise((r) => setTimeout(r, 1000));
  for (let i = 1; i <= WATCH_WRITES; i++) {
    sent.set(String(i), performance.now());
    const res = await call('PATCH', '/api/v1/namespaces/watch/configmaps/target', { data: { seq: String(i) } }, 'application/merge-patch+json');
    if (res.status !== 200) throw new Error(`patch failed: ${res.status} ${res.text}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const expected = WATCHERS * WATCH_WRITES;
  for (let i = 0; i < 100 && delivered < expected; i++) await new Promise((r) => setTimeout(r, 50));
  for (const stop of streams) stop();
  if (delivered < expected) throw new Error(`only ${delivered} of ${expected} watch events arrived`);
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), delivered };
}

async function main(): Promise<void> {
  console.log(`bench/devcluster: ${CREATES} creates at concurrency ${CONCURRENCY} (600-byte values), list of ${LIST_SIZE}, ${WATCHERS} watchers`);
  const c = await startDevclusterTestCluster();
  try {
    const call = client(c, CONCURRENCY);
    for (const ns of ['warmup', 'bench', 'list', 'watch']) await call('POST', '/api/v1/namespaces', { metadata: { name: ns } });
    const etcd = new Etcd3({ hosts: c.etcdEndpoint() });
    const rawRuns: { seconds: number; latencies: number[] }[] = [];
    const apiRuns: { seconds: number; latencies: number[] }[] = [];
    // Warm up both paths first (JIT, TLS sessions, etcd's first allocations), untimed.
    await apiCreates(call, 'warmup', 0, 1000);
    const stored = (await etcd.get('/registry/core/configmaps/warmup/cm-0').buffer()) ?? undefined;
    if (!stored) throw new Error('the created configmap warmup/cm-0 is not at /registry/core/configmaps/warmup/cm-0 in etcd');
    console.log(`(an API-created object is stored as ${stored.length} bytes; raw puts store the same bytes)`);
    await rawPuts(etcd, stored, CREATES, 1000);
    await apiCreates(call, 'warmup', 1000, 1000);
    await rawPuts(etcd, stored, CREATES + 1000, 1000);
    const perRound = CREATES / ROUNDS;
    for (let r = 0; r < ROUNDS; r++) {
      rawRuns.push(await rawPuts(etcd, stored, r * perRound, perRound));
      apiRuns.push(await apiCreates(call, 'bench', r * perRound, perRound));
    }
    await etcd.delete().prefix('/bench-raw/');
    etcd.close();
    const summary = (runs: { seconds: number; latencies: number[] }[]): { perSecond: number; p99: number } => ({
      perSecond: CREATES / runs.reduce((t, x) => t + x.seconds, 0),
      p99: percentile(runs.flatMap((x) => x.latencies), 99),
    });
    const raw = summary(rawRuns);
    const api = summary(apiRuns);
    console.log(`raw etcd put:  ${raw.perSecond.toFixed(0)}/s, p99 ${raw.p99.toFixed(1)} ms`);
    console.log(`API create:    ${api.perSecond.toFixed(0)}/s, p99 ${api.p99.toFixed(1)} ms  (ratio ${(api.perSecond / raw.perSecond).toFixed(2)})`);
    const listed = await apiCreates(call, 'list', 0, LIST_SIZE);
    console.log(`(created ${LIST_SIZE} objects to list at ${(LIST_SIZE / listed.seconds).toFixed(0)}/s)`);
    const listTimes: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t = performance.now();
      const res = await call('GET', '/api/v1/namespaces/list/configmaps');
      const items = (JSON.parse(res.text) as { items: unknown[] }).items.length;
      if (items !== LIST_SIZE) throw new Error(`list returned ${items} items, expected ${LIST_SIZE}`);
      listTimes.push((performance.now() - t) / 1000);
    }
    const list10k = percentile(listTimes, 50);
    console.log(`list ${LIST_SIZE}:   ${list10k.toFixed(3)} s (median of 3, JSON parsed)`);
    const watch = await watchLatency(c, call);
    console.log(`watch:         ${watch.delivered} deliveries, p50 ${watch.p50.toFixed(1)} ms, p99 ${watch.p99.toFixed(1)} ms`);
    console.log(JSON.stringify({
      create_ratio: Number((api.perSecond / raw.perSecond).toFixed(3)),
      watch_p99_ms: Number(watch.p99.toFixed(1)),
      list10k_s: Number(list10k.toFixed(3)),
      api_create_per_s: Math.round(api.perSecond),
      raw_put_per_s: Math.round(raw.perSecond),
      api_create_p99_ms: Number(api.p99.toFixed(1)),
      raw_put_p99_ms: Number(raw.p99.toFixed(1)),
      watch_p50_ms: Number(watch.p50.toFixed(1)),
    }));
  } finally {
    await c.stop();
  }
}

await main();
