// bench/fidelity: how faithfully the devcluster answers as kube-apiserver does. Starts a fresh
// devcluster and a fresh kube-apiserver (test/harness, with Shopfloor's CRDs), runs the same
// kubectl and client-node scenarios (fidelity-scenarios.ts) on both side by side, masks what
// differs on every run (fidelity-compare.ts), and prints each scenario whose answers differ and
// where. Ends with one JSON line: scenarios, differing, differences. `npm run fidelity`.
import { startDevclusterTestCluster } from '../test/harness/devcluster.js';
import { startKubeApiserverTestCluster } from '../test/harness/kube-apiserver.js';
import type { TestCluster } from '../test/harness/test-cluster.js';
import { describeDifference, differences, normalise } from './fidelity-compare.js';
import { apiError, SCENARIOS } from './fidelity-scenarios.js';

/** A scenario's answer, or the error that stopped it (which is compared like an answer). */
async function answer(c: TestCluster, run: (c: TestCluster) => Promise<unknown>): Promise<unknown> {
  try {
    return normalise(await run(c));
  } catch (err) {
    return { scenarioFailed: normalise(apiError(err) ?? (err instanceof Error ? err.message : String(err))) };
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  const clusters = await Promise.allSettled([startDevclusterTestCluster({ crds: true }), startKubeApiserverTestCluster({ crds: true })]);
  const [dev, kube] = clusters.map((r) => (r.status === 'fulfilled' ? r.value : undefined));
  try {
    const failed = clusters.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed || !dev || !kube) throw failed?.reason ?? new Error('an API server did not start');
    let differing = 0;
    let total = 0;
    for (const s of SCENARIOS) {
      const [d, k] = await Promise.all([answer(dev, s.run), answer(kube, s.run)]);
      const found = differences(d, k);
      if (found.length === 0) continue;
      differing++;
      total += found.length;
      console.log(`DIFFERS  ${s.name}`);
      for (const f of found) console.log(`    ${describeDifference(f)}`);
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(`\n${differing} of ${SCENARIOS.length} scenarios answer differently (${total} differences), in ${seconds.toFixed(1)} s`);
    console.log(JSON.stringify({ scenarios: SCENARIOS.length, differing, differences: total, seconds: Number(seconds.toFixed(1)) }));
  } finally {
    await Promise.all([dev?.stop(), kube?.stop()]);
  }
}

await main();
