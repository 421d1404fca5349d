// What a build needs beside the compiled JavaScript, copied into its output directory: the CRI
// proto the agent's client loads, and the floor page the operator serves. `npm run build`
// (into dist/) and the benchmarks' own builds (bench/compiled-cli.ts) both copy through here.
//
//   tsx scripts/build-assets.ts OUT_DIR
import { cpSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ASSETS = ['agent/cri/runtime-v1.proto', 'operator/floor/page'];

export function copyBuildAssets(outDir: string): void {
  for (const asset of ASSETS) cpSync(resolve(repoRoot, asset), resolve(outDir, asset), { recursive: true });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outDir = process.argv[2];
  if (!outDir) {
    console.error('usage: tsx scripts/build-assets.ts OUT_DIR');
    process.exit(2);
  }
  copyBuildAssets(resolve(outDir));
}
