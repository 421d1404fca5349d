// The floor page off loopback, in a real browser (Debian's Chromium through playwright-core): the
// operator's FloorServer on the address of a network namespace, fed a handwritten floor
// (token-floor.ts), asks for a bearer token. The page shows its token form, says when a token is
// refused (401) or not allowed to list nodeworkloads (403), keeps an accepted token for the tab
// (a reload needs none), draws a row that came before its node's card once the card comes, and
// after a dropped stream reconnects and starts over from the new snapshot.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { HOST_ADDRESS } from '../harness/host-netns.js';
import { eventually } from '../harness/eventually.js';
import { stopChild } from '../../devcluster/child-process.js';
import { MachineNetns } from '../e2e/up-harness.js';
import { laptopPage, launchChromium, screenshot } from './browser.js';

const netns = new MachineNetns();
const dir = mkdtempSync(join(tmpdir(), 'sf-floor-token-'));
let server: ChildProcess | undefined;
let serverExit: Promise<number | null> = Promise.resolve(null);
const serverLines: string[] = [];
let browser: Browser | undefined;
let page: Page;
const pageErrors: string[] = [];

/** Sends a line to the fixture server and waits for it to say it is done. */
async function tell(line: string): Promise<void> {
  const seen = serverLines.length;
  server!.stdin!.write(`${line}\n`);
  await eventually(`the floor server to do "${line}"`, () => serverLines.slice(seen).includes(`done ${line}`), 10_000, 50);
}

async function submitToken(token: string): Promise<void> {
  await page.getByLabel('Bearer token').fill(token);
  await page.getByRole('button', { name: 'Connect' }).click();
}

const connection = () => page.locator('#connection');
const row = (name: string) => page.locator(`section[data-kind=node] tr[data-kind=assignment][data-key="default/${name}"]`);

beforeAll(async () => {
  await netns.create();
  const [file, argv] = netns.argv(process.execPath, '--import', 'tsx', 'test/floor/token-floor.ts', HOST_ADDRESS, '0');
  const child = spawn(file, argv, { stdio: ['pipe', 'pipe', 'inherit'] });
  server = child;
  serverExit = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  createInterface({ input: child.stdout! }).on('line', (l) => serverLines.push(l));
  const url = await eventually('the floor server to print its URL', () => serverLines.find((l) => l.startsWith('http://')), 30_000, 50);
  expect(url).toMatch(new RegExp(`^http://${HOST_ADDRESS.replaceAll('.', '\\.')}:\\d+/$`));
  browser = await launchChromium(netns, dir);
  page = await laptopPage(browser, pageErrors);
  await page.goto(url);
}, 60_000);

afterAll(async () => {
  try {
    await browser?.close();
  } finally {
    if (server) await stopChild(server, serverExit, 5000, 'SIGTERM');
    await netns.remove();
    rmSync(dir, { recursive: true, force: true });
  }
}, 30_000);

describe('the floor page off loopback', () => {
  it('asks for a token, and says why', async () => {
    await page.getByLabel('Bearer token').waitFor();
    expect(await page.locator('#token-form').innerText()).toContain('This floor is served off loopback: paste a Kubernetes bearer token allowed to list nodeworkloads.');
    await connection().filter({ hasText: 'Waiting for a token' }).waitFor();
    expect(await page.locator('#token-refused').isVisible()).toBe(false);
    // Nothing of the floor was shown without one.
    expect(await page.locator('section[data-kind=node]').count()).toBe(0);
  });

  it('says when a token is not authenticated (401) or may not list nodeworkloads (403)', async () => {
    await submitToken('nobody');
    await page.locator('#token-refused', { hasText: 'The server refused the last token' }).waitFor();
    await submitToken('weak');
    await page.locator('#token-refused', { hasText: 'it may not list nodeworkloads' }).waitFor();
    // A string: the suite's types have no DOM (tsconfig.json); this runs in the page.
    expect(await page.evaluate("sessionStorage.getItem('shopfloor.floor.token')")).toBe(null);
  });

  it('shows the floor with an accepted token, and keeps it for the tab', async () => {
    await submitToken('good');
    await connection().filter({ hasText: 'Live' }).waitFor();
    expect(await page.locator('#token-form').isVisible()).toBe(false);
    await row('web-1').filter({ hasText: 'Running' }).waitFor();
    await page.reload();
    await connection().filter({ hasText: 'Live' }).waitFor();
    await row('web-1').waitFor();
    expect(await page.locator('#token-form').isVisible()).toBe(false);
  });

  it('puts a row that came before its node\'s card into the card once it comes', async () => {
    await tell('change');
    await page.locator('section[data-kind=node][data-key="node-b"] tr[data-kind=assignment][data-key="default/web-3"]').waitFor();
    await page.locator('#summary-nodes', { hasText: 'Nodes: 2 of 2 ready' }).waitFor();
    await page.locator('#summary-replicas', { hasText: 'Replicas: 2 of 2 ready' }).waitFor();
  });

  it('reconnects after a dropped stream and starts over from the new snapshot', async () => {
    // Seen as it happens: the restart is over before the test's next look.
    const reconnecting = connection().and(page.locator('[data-state=reconnecting]')).waitFor({ timeout: 10_000 });
    await tell('restart');
    await reconnecting;
    await row('web-2').waitFor({ timeout: 20_000 });
    await connection().filter({ hasText: 'Live' }).waitFor();
    // The new snapshot replaced everything: what it does not hold is gone.
    expect(await row('web-1').count()).toBe(0);
    expect(await row('web-3').count()).toBe(0);
    expect(await page.locator('section[data-kind=node]').evaluateAll((cards) => cards.map((c) => c.getAttribute('data-key')))).toEqual(['node-a']);
    await screenshot(page, 'floor-token.png');
    expect(pageErrors).toEqual([]);
  });
});
