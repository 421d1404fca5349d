#!/usr/bin/env node
// The `shopfloor` command. It runs the compiled CLI in dist/ (`npm run build` writes it); in a
// development checkout without dist/ it runs the TypeScript sources through tsx.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const compiled = new URL('../dist/cli/main.js', import.meta.url);
let entry = compiled;
if (!existsSync(fileURLToPath(compiled))) {
  try {
    const { register } = await import('tsx/esm/api');
    register();
    entry = new URL('../cli/main.ts', import.meta.url);
  } catch {
    console.error('shopfloor: dist/ is missing; run `npm run build` in the Shopfloor checkout first.');
    process.exit(1);
  }
}
const { run } = await import(entry.href);
process.exitCode = await run(process.argv.slice(2));
