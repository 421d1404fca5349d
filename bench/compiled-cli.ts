// The CLI compiled the way `npm run build` compiles it (tsc, then the assets beside the code:
// scripts/build-assets.ts), into a directory of the benchmark's own under node_modules/.cache so that dist/ is
// left alone; benchmarks run the product compiled, as users run it, so that a process's
// memory and start-up are its own and not a TypeScript loader's.
import { execFileSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { copyBuildAssets } from '../scripts/build-assets.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The compiled `cli/main.js` of the build named `name` (built or not). */
export function compiledCliEntry(name: string): string {
  return resolve(repoRoot, 'node_modules', '.cache', name, 'cli', 'main.js');
}

/** Compiles the sources into the build named `name`; throws with tsc's errors when they do not compile. */
export function buildCli(name: string): string {
  const entry = compiledCliEntry(name);
  const outDir = resolve(dirname(entry), '..');
  execFileSync(process.execPath, [resolve(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json', '--outDir', outDir], { cwd: repoRoot, stdio: 'inherit' });
  copyBuildAssets(outDir);
  return entry;
}

/** Node's arguments that run `shopfloor <args>` from the compiled `entry`. */
export function cliArgv(entry: string, args: readonly string[]): string[] {
  return ['--input-type=module', '-e', `import { run } from ${JSON.stringify(pathToFileURL(entry).href)}; process.exitCode = await run(process.argv.slice(1));`, ...args];
}
