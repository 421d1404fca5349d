// Debian's Chromium, driven by playwright-core, inside a suite's network namespace: the floor
// listens there (on its loopback, or on the namespace's own address), so the browser must run
// there too. playwright talks to the browser over pipes, which nsenter passes on.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { MachineNetns } from '../e2e/up-harness.js';

/** Debian's package `chromium` (scripts/install-deps.sh --test installs it for `npm test`). */
const CHROMIUM = '/usr/bin/chromium';

/** Where screenshots go: a CI job's artifacts dir, or test-results/ beside jest's results (git-ignored). */
export const ARTIFACTS = resolve(process.env.SHOPFLOOR_TEST_ARTIFACTS ?? 'test-results', 'floor');

/**
 * Launches a headless Chromium in `netns`, with a fresh profile (playwright's temporary one,
 * removed on close), through a wrapper script written to `dir`.
 */
export async function launchChromium(netns: MachineNetns, dir: string): Promise<Browser> {
  const wrapper = join(dir, 'chromium-in-netns');
  writeFileSync(wrapper, `#!/bin/sh\nexec nsenter --net=/run/netns/${netns.name} ${CHROMIUM} "$@"\n`);
  chmodSync(wrapper, 0o755);
  return chromium.launch({
    executablePath: wrapper,
    headless: true,
    // No sandbox as root; nothing reaches out of the namespace (there is nowhere to reach).
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** A page on a laptop's screen (the floor must read well there), with its uncaught errors kept in `errors`. */
export async function laptopPage(browser: Browser, errors: string[]): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
  page.on('pageerror', (err) => errors.push(err.message));
  return page;
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, name), fullPage: true });
}
