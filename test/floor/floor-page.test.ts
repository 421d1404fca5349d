// The floor page in a real browser (Debian's Chromium, driven by playwright-core) against
// `shopfloor up` and a second `shopfloor agent`, in a network namespace standing in for the
// machine, as test/e2e/two-node.test.ts runs them. What is asserted is what a user sees on the
// page, which is never reloaded: a new workload's row goes from Pending to Ready, a killed
// container's restart and its reason show, a scaled-up replica appears on the card of its node,
// and a stopped agent's card turns Unknown while its replica's replacement appears on the other
// node. A screenshot of the floor is left in test-results/floor/ (or $SHOPFLOOR_TEST_ARTIFACTS).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { PAUSE_IMAGE } from '../harness/containerd.js';
import { eventually, notYet } from '../harness/eventually.js';
import { AgentProcess, MachineNetns, UpProcess, whoamiWorkloadYaml } from '../e2e/up-harness.js';
import { laptopPage, launchChromium, screenshot as saveScreenshot } from './browser.js';

const run = promisify(execFile);

/** The second node's Lease and the operator's grace period, as in two-node.test.ts: a lost node is replaced within seconds. */
const LEASE_SECONDS = 6;
const GRACE_SECONDS = 2;
/** The workload the page is watched for. */
const WORKLOAD = 'web';

const netns = new MachineNetns();
const dir1 = mkdtempSync(join(tmpdir(), 'sf-floor-a-'));
const dir2 = mkdtempSync(join(tmpdir(), 'sf-floor-b-'));
const browserDir = mkdtempSync(join(tmpdir(), 'sf-floor-browser-'));
const up = new UpProcess(netns, dir1, {
  extraArgs: ['--node-loss-grace', String(GRACE_SECONDS), '--pod-cidr', 'allocated', '--cluster-pod-cidr', '10.244.0.0/16', '--floor-address', '127.0.0.1:0'],
});
const node1 = hostname().toLowerCase();
const node2 = 'second-node';
const agent2 = new AgentProcess(netns, dir2, ['--kubeconfig', up.kubeconfig, '--node-name', node2,
  '--pod-cidr', 'allocated', '--bridge', 'sf1', '--proxy-table', 'sf1', '--metrics-address', '127.0.0.1:0',
  '--sandbox-image', PAUSE_IMAGE, '--image-preload-dir', up.imagesDir, '--node-lease-duration', String(LEASE_SECONDS)]);
/** Each node's containerd, for finding a container's process. */
const containerdSocket: Record<string, string> = {
  [node1]: join(dir1, 'agent', 'containerd', 'containerd.sock'),
  [node2]: join(dir2, 'containerd', 'containerd.sock'),
};

let browser: Browser | undefined;
let page: Page;
/** Uncaught errors of the page's script: there must be none. */
const pageErrors: string[] = [];
/** Loads of the page after the first: there must be none. */
const navigations: string[] = [];

async function kubectl(...args: string[]): Promise<string> {
  return (await up.kubectl(...args)).stdout;
}

/** The floor's URL, as `up` prints it in its banner. */
function floorUrl(): string {
  const url = /^The floor\b.*?(http:\/\/[^\s,]+)/m.exec(up.stdout)?.[1];
  if (url === undefined) throw new Error(`shopfloor up printed no floor URL:\n${up.stdout}`);
  return url;
}

/** `<name> <node>` of each NodeAssignment of the workload, sorted. */
async function assignments(): Promise<string[]> {
  const out = await kubectl('get', 'na', '-l', `shopfloor.dev/workload=${WORKLOAD}`, '-o', 'jsonpath={range .items[*]}{.metadata.name} {.spec.nodeName}{"\\n"}{end}');
  return out.split('\n').filter(Boolean).sort();
}

/** What the page shows of the workload's rows: `<name> | <card's node> | <phase> | <ready> | <restarts> | <reason>`, sorted. */
async function rowsShown(): Promise<string[]> {
  const rows = await page.locator(`section[data-kind=node] tr[data-kind=assignment][data-key^="default/${WORKLOAD}-"]`).evaluateAll((trs) => trs.map((tr) => {
    const card = tr.closest('section[data-kind=node]')?.getAttribute('data-key') ?? '?';
    // Replica, workload, phase, ready, restarts, reason, pod IP, differences.
    const cells = [...tr.children].map((c) => (c.textContent ?? '').trim());
    return [cells[0], card, cells[2], cells[3], cells[4], cells[5]].join(' | ');
  }));
  return rows.sort();
}

/** The text a user reads on a node's card heading: its name and its state. */
async function cardHeading(node: string): Promise<string> {
  return (await page.locator(`section[data-kind=node][data-key="${node}"] h3`).innerText()).trim();
}

/** Waits until the workload's card shows these counts and this problems text. */
async function workloadSays(counts: Record<string, number>, problems: string): Promise<void> {
  const card = page.locator(`section[data-kind=workload][data-key="default/${WORKLOAD}"]`);
  const want = `${Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(', ')}; problems: ${problems}`;
  await eventually(`the workload's card to say ${want}`, async () => {
    const shown = await card.locator('.counts > div').evaluateAll((divs) => Object.fromEntries(divs.map((d) => [d.querySelector('dt')?.textContent ?? '', d.querySelector('dd')?.textContent ?? ''])));
    const said = `${Object.keys(counts).map((k) => `${k} ${shown[k]}`).join(', ')}; problems: ${(await card.locator('.problems').innerText()).trim()}`;
    return said === want || notYet(said);
  }, 60_000, 250);
}

function screenshot(name: string): Promise<void> {
  return saveScreenshot(page, name);
}

beforeAll(async () => {
  await netns.create();
  await up.start();
  agent2.start();
  browser = await launchChromium(netns, browserDir);
  page = await laptopPage(browser, pageErrors);
  await page.goto(floorUrl());
  // From here on the page must follow everything without a reload.
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) navigations.push(frame.url());
  });
}, 150_000);

afterAll(async () => {
  try {
    if (browser !== undefined) {
      await screenshot('floor-last.png').catch((err: Error) => console.error(`no screenshot of the floor: ${err.message}`));
      await browser.close();
    }
  } finally {
    await agent2.kill();
    await up.kill();
    await netns.remove();
    for (const dir of [dir1, dir2, browserDir]) rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);

describe('the floor page in a browser', () => {
  it('is live and shows both nodes Ready', async () => {
    await page.locator('#connection', { hasText: 'Live' }).waitFor({ timeout: 30_000 });
    for (const node of [node1, node2]) {
      await eventually(`${node}'s card to say Ready`, async () => (await cardHeading(node).catch(() => '')) === `${node} Ready` || notYet(await cardHeading(node).catch(() => 'no card')), 60_000, 250);
    }
    await page.locator('#summary-nodes', { hasText: 'Nodes: 2 of 2 ready' }).waitFor();
    // Marked, to show at the end that the page redrew only what changed: the card is the same element.
    await page.locator(`section[data-kind=node][data-key="${node1}"]`).evaluate((card) => Object.assign(card, { floorMark: true }));
    // Headings in order: the page's, then its three sections'.
    expect(await page.locator('h1:visible, h2:visible').allInnerTexts()).toEqual(['Shopfloor floor', 'Nodes', 'Workloads', 'Services']);
  }, 90_000);

  it('shows a new workload\'s row go from Pending to Ready', async () => {
    // Pending lasts while the agent starts the sandbox: long enough to be drawn, and seen here.
    const pendingShown = page.locator(`tr[data-kind=assignment][data-key^="default/${WORKLOAD}-"]`, { has: page.locator('td.phase', { hasText: 'Pending' }) }).first().waitFor({ state: 'attached', timeout: 90_000 });
    const file = join(dir1, `${WORKLOAD}.yaml`);
    writeFileSync(file, whoamiWorkloadYaml(WORKLOAD, `  placement:
    mode: Replicas
    replicas: 1
  service:
    ports:
      - name: http
        port: 80
        targetPort: http`));
    await kubectl('apply', '-f', file);
    await pendingShown;
    const rows = await eventually('the page to show one Running, Ready row of the workload', async () => {
      const shown = await rowsShown();
      return (shown.length === 1 && / \| Running \| Ready \| 0 \| /.test(shown[0]!) && shown) || notYet(JSON.stringify(shown));
    }, 90_000, 250);
    const [name, node] = rows[0]!.split(' | ') as [string, string];
    // On the card of the node the operator placed it on.
    expect(await assignments()).toEqual([`${name} ${node}`]);
    // The workload's card and its service's say so too.
    const workload = page.locator(`section[data-kind=workload][data-key="default/${WORKLOAD}"]`);
    await workload.locator('dd[data-count=ready]', { hasText: '1' }).waitFor();
    await workload.locator('.where', { hasText: `${node}: 1 replica (${name})` }).waitFor();
    const service = page.locator(`section[data-kind=service][data-key="default/${WORKLOAD}"]`);
    await service.locator('caption', { hasText: 'Endpoints: 1 of 1 ready' }).waitFor({ timeout: 30_000 });
    expect(await service.locator('.ports').innerText()).toMatch(/^10\.250\.\d+\.\d+:80\/TCP → http \(http\)$/);
  }, 120_000);

  it('shows a killed container\'s restart and why', async () => {
    const [name, node] = (await assignments())[0]!.split(' ') as [string, string];
    const containerID = (await kubectl('get', 'na', name, '-o', 'jsonpath={.status.containers[0].containerID}')).replace(/^containerd:\/\//, '');
    expect(containerID).not.toBe('');
    const { stdout: tasks } = await run('ctr', ['--address', containerdSocket[node]!, '--namespace', 'k8s.io', 'tasks', 'ls']);
    const pid = Number(tasks.split('\n').find((l) => l.startsWith(containerID))?.split(/\s+/)[1]);
    expect(pid).toBeGreaterThan(1);
    process.kill(pid, 'SIGKILL');
    const row = page.locator(`tr[data-kind=assignment][data-key="default/${name}"]`);
    await row.locator('td.restarts', { hasText: '1' }).waitFor({ timeout: 60_000 });
    // Why it restarted, in words: killed (exit 137, 128 + SIGKILL's 9).
    await row.locator('td.reason', { hasText: /exit 137|signal 9|SIGKILL/ }).waitFor({ timeout: 30_000 });
    await row.locator('td.ready', { hasText: /^Ready$/ }).waitFor({ timeout: 60_000 });
  }, 90_000);

  it('shows a scaled-up replica on the card of its node', async () => {
    await kubectl('scale', `nw/${WORKLOAD}`, '--replicas=2');
    const shown = await eventually('the page to show two Ready rows of the workload, one on each node', async () => {
      const rows = await rowsShown();
      const nodes = rows.map((r) => r.split(' | ')[1]).sort();
      return (rows.length === 2 && rows.every((r) => / \| Running \| Ready \| /.test(r)) && JSON.stringify(nodes) === JSON.stringify([node1, node2].sort()) && rows) || notYet(JSON.stringify(rows));
    }, 90_000, 250);
    // Each on the card of the node the operator placed it on.
    expect(shown.map((r) => r.split(' | ').slice(0, 2).join(' ')).sort()).toEqual(await assignments());
    await page.locator(`section[data-kind=service][data-key="default/${WORKLOAD}"] caption`, { hasText: 'Endpoints: 2 of 2 ready' }).waitFor({ timeout: 30_000 });
    await workloadSays({ Desired: 2, Placed: 2, Ready: 2, Available: 2 }, 'None.');
    await screenshot('floor.png');
  }, 120_000);

  it('turns a stopped agent\'s card Unknown and shows its replica\'s replacement on the other node', async () => {
    const before = await rowsShown();
    const onFirst = before.filter((r) => r.split(' | ')[1] === node1).map((r) => r.split(' | ')[0]);
    // Like kubelet, a stopped agent leaves its pods running: only its Lease stops.
    expect(await agent2.stop('SIGTERM')).toBe(0);
    await eventually(`${node2}'s card to say Unknown`, async () => (await cardHeading(node2)) === `${node2} Unknown` || notYet(await cardHeading(node2)), 60_000, 250);
    await page.locator('#summary-nodes', { hasText: 'Nodes: 1 of 2 ready' }).waitFor();
    expect(await page.locator(`section[data-kind=node][data-key="${node2}"] .state-words`).innerText()).not.toBe('');
    await eventually(`a second Ready row on ${node1}'s card: the replacement`, async () => {
      const rows = (await rowsShown()).filter((r) => r.split(' | ')[1] === node1 && / \| Running \| Ready \| /.test(r));
      return (rows.length === 2 && rows.some((r) => !onFirst.includes(r.split(' | ')[0]))) || notYet(JSON.stringify(rows));
    }, 60_000, 250);
    // Two replicas wanted, both ready on the first node; the lost node's stays placed, Unknown.
    await workloadSays({ Desired: 2, Ready: 2, Available: 2 }, 'None.');
    await screenshot('floor-node-lost.png');
    expect(navigations).toEqual([]);
    expect(await page.locator(`section[data-kind=node][data-key="${node1}"]`).evaluate((card) => 'floorMark' in card)).toBe(true);
    expect(pageErrors).toEqual([]);
  }, 90_000);
});
