#!/usr/bin/env node
// The `shopfloor` command. It runs the compiled CLI in dist/ (`npm run build` writes it).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  console.error('shopfloor: dist/ is missing; run `npm run build` in the Shopfloor checkout first.');
  process.exit(1);
}
const { run } = await import(main.href);
process.exitCode = await run(process.argv.slice(2));
