// `npm run gen:deploy`: renders charts/shopfloor with its default values with the built helm
// (SHOPFLOOR_TOOLS_BIN, see scripts/build-tools.sh) and writes the kustomize base deploy/base/
// from it (scripts/deploy-base.ts), so that the base stays the chart's defaults.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { DEFAULT_SYSTEM_NAMESPACE } from '../api/index.js';
import { toolBinary } from '../cli/tools-bin.js';
import { DEPLOY_BASE_DIR, deployBaseFiles, type ChartObject } from './deploy-base.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const helm = toolBinary('helm', 'npm run gen:deploy');
const text = execFileSync(helm, ['template', 'shopfloor', join(root, 'charts', 'shopfloor'), '--namespace', DEFAULT_SYSTEM_NAMESPACE], { encoding: 'utf8' });
const objects = parseAllDocuments(text).map((d) => d.toJS() as ChartObject | null).filter((o): o is ChartObject => o !== null);
const crdFiles = readdirSync(join(root, 'crds')).filter((f) => f.endsWith('.yaml')).sort();
const dir = join(root, DEPLOY_BASE_DIR);
mkdirSync(dir, { recursive: true });
const files = deployBaseFiles(objects, DEFAULT_SYSTEM_NAMESPACE, crdFiles);
for (const [name, content] of Object.entries(files)) {
  writeFileSync(join(dir, name), content);
  console.log(`wrote ${DEPLOY_BASE_DIR}/${name}`);
}
for (const name of readdirSync(dir)) {
  if (name.endsWith('.yaml') && !(name in files)) {
    rmSync(join(dir, name));
    console.log(`removed ${DEPLOY_BASE_DIR}/${name}`);
  }
}
