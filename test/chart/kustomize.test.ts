// deploy/base, the kustomize base, is the chart with its default values: it is what
// `npm run gen:deploy` writes from them now, and what kustomize (the built kubectl's) builds from
// it is the objects `helm template` renders, without Helm's labels, plus the namespace.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { toolBinary } from '../../cli/tools-bin.js';
import { DEPLOY_BASE_DIR, deployBaseFiles, withoutHelmLabels } from '../../scripts/deploy-base.js';
import { repoRoot } from '../harness/kubectl.js';
import { runProgram } from '../harness/program.js';
import { DEFAULTS, NAMESPACE, parseObjects, render, type RenderedObject } from './chart.js';

const baseDir = join(repoRoot, DEPLOY_BASE_DIR);
const crdFiles = (): string[] => readdirSync(join(repoRoot, 'crds')).filter((f) => f.endsWith('.yaml')).sort();
const key = (o: RenderedObject): string => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
describe('deploy/base', () => {
  it('is what npm run gen:deploy writes from the chart now', async () => {
    const want = deployBaseFiles(await render(DEFAULTS), NAMESPACE, crdFiles());
    const have = readdirSync(baseDir).filter((f) => f.endsWith('.yaml')).sort();
    expect(have).toEqual(Object.keys(want).sort());
    for (const [name, text] of Object.entries(want)) {
      if (readFileSync(join(baseDir, name), 'utf8') !== text) throw new Error(`${DEPLOY_BASE_DIR}/${name} is not what the chart renders now: run npm run gen:deploy (with SHOPFLOOR_TOOLS_BIN set) and commit it`);
    }
  });

  it("builds with kustomize into the chart's default objects and CRDs, without Helm's labels, and the namespace", async () => {
    const built = await runProgram(toolBinary('kubectl', 'the kustomize base suite'), ['kustomize', baseDir]);
    if (built.code !== 0) throw new Error(`kubectl kustomize ${DEPLOY_BASE_DIR}: ${built.stderr}`);
    const fromKustomize = parseObjects(built.stdout, 'kubectl kustomize').sort((a, b) => key(a).localeCompare(key(b)));
    const fromHelm = (await render(DEFAULTS, { includeCrds: true })).map(withoutHelmLabels);
    const namespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE, labels: { 'app.kubernetes.io/part-of': 'shopfloor' } } };
    expect(fromKustomize).toEqual([...fromHelm, namespace].sort((a, b) => key(a).localeCompare(key(b))));
  });
});
