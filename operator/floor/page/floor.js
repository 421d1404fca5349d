// @ts-check
// The floor page: draws what the operator's floor server streams (../floor-view.ts is the
// contract). One element per item, keyed by kind and key; a `snapshot` replaces everything, a
// `change` replaces or removes only the items it names, and all the DOM work of the events that
// came during one frame is done in that frame. Relative times ("12 s ago") are the only text
// redrawn every second, offset by the server's clock so that a skewed laptop clock does not lie.
//
// The stream is read with fetch(), not EventSource, so that a bearer token can go in an
// Authorization header: off loopback the server asks for one (401), and the page asks the user.

/** @typedef {import('../floor-view.js').FloorItem} FloorItem */
/** @typedef {import('../floor-view.js').FloorKind} FloorKind */
/** @typedef {import('../floor-view.js').ItemRef} ItemRef */
/** @typedef {import('../floor-view.js').NodeCard} NodeCard */
/** @typedef {import('../floor-view.js').AssignmentRow} AssignmentRow */
/** @typedef {import('../floor-view.js').WorkloadView} WorkloadView */
/** @typedef {import('../floor-view.js').ServiceView} ServiceView */
/** @typedef {import('../floor-view.js').Words} Words */
/** @typedef {import('../floor-view.js').Amount} Amount */
/** @typedef {import('../floor-view.js').FloorSnapshot} FloorSnapshot */
/** @typedef {import('../floor-view.js').FloorChange} FloorChange */
/** @typedef {typeof import('../floor-view.js').FLOOR_PATHS} FloorPaths */

/**
 * The events path, checked against FLOOR_PATHS by the type checker (the page cannot import a .ts
 * file at run time). Asked relative to the page, so that the page works under a path prefix.
 * @type {FloorPaths['events']}
 */
const EVENTS_PATH = '/floor/events';
const EVENTS_URL = new URL(`.${EVENTS_PATH}`, document.baseURI);
const TOKEN_KEY = 'shopfloor.floor.token';
const BACKOFF_FIRST_MS = 1000;
const BACKOFF_MAX_MS = 10_000;
/** The server sends a comment every 15 s: a stream silent for longer than this is dead, whatever TCP says. */
const SILENCE_MS = 40_000;

// ---------------------------------------------------------------------------------------------
// What is shown: the items by kind and key, and their elements.

/** @type {Map<string, FloorItem>} */
const items = new Map();
/** @type {Map<string, HTMLElement>} */
const elements = new Map();
/** Assignment keys by node: a row can arrive before its node's card, and waits here for it. */
/** @type {Map<string, Set<string>>} */
const rowsOfNode = new Map();
/** Server clock minus browser clock, from the latest event. */
let clockOffsetMs = 0;
let idCounter = 0;

/** @param {FloorKind} kind @param {string} key */
const id = (kind, key) => `${kind} ${key}`;

const collator = new Intl.Collator('en', { numeric: true });

/** @param {string} elementId */
function byId(elementId) {
  const el = document.getElementById(elementId);
  if (el === null) throw new Error(`index.html has no element #${elementId}: the page and floor.js disagree`);
  return el;
}

const containers = {
  node: byId('nodes'),
  workload: byId('workloads'),
  service: byId('services'),
};

// ---------------------------------------------------------------------------------------------
// DOM helpers.

/**
 * An element with attributes and children; `false`, null and undefined children are left out.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, string | number | boolean | undefined>} [attrs]
 * @param {...(Node | string | number | null | undefined | false)} children
 * @returns {HTMLElementTagNameMap[K]}
 */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (name === 'class') el.className = String(value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === 'number' ? String(child) : child);
  }
  return el;
}

/** @param {string} prefix */
function freshId(prefix) {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

/**
 * A relative-time element for an RFC 3339 instant; its text is redrawn every second by tick().
 * @param {string} instant
 */
function timeEl(instant) {
  const el = h('time', { class: 'rel', datetime: instant, title: instant });
  el.textContent = relative(instant);
  return el;
}

/**
 * A Words sentence, with its `{time}` as a relative-time element.
 * @param {Words} words
 */
function wordsEl(words) {
  const span = h('span', { class: 'words' });
  const at = words.text.indexOf('{time}');
  if (at < 0 || words.time === undefined) {
    span.textContent = words.text;
    return span;
  }
  span.append(words.text.slice(0, at), timeEl(words.time), words.text.slice(at + '{time}'.length));
  return span;
}

/**
 * A key's element in its container, in key order. Items mostly come sorted (a snapshot is
 * sorted before it is drawn), so the walk is from the end and usually stops at once.
 * @param {Element} container
 * @param {HTMLElement} el
 */
function insertSorted(container, el) {
  const key = el.dataset['key'] ?? '';
  let before = container.lastElementChild;
  while (before !== null && collator.compare(/** @type {HTMLElement} */ (before).dataset['key'] ?? '', key) > 0) before = before.previousElementSibling;
  if (before === null) container.prepend(el);
  else before.after(el);
}

// ---------------------------------------------------------------------------------------------
// Numbers and times in words.

/** @param {number} ms */
function duration(ms) {
  const s = Math.floor(ms / 1000);
  if (s < 120) return `${s} s`;
  const min = Math.floor(s / 60);
  if (min < 120) return `${min} min`;
  const hours = Math.floor(min / 60);
  if (hours < 48) return `${hours} h`;
  return `${Math.floor(hours / 24)} d`;
}

/** "12 s ago" or "in 40 s", against the server's clock. @param {string} instant */
function relative(instant) {
  const t = Date.parse(instant);
  if (Number.isNaN(t)) return instant;
  const diff = t - (Date.now() + clockOffsetMs);
  if (Math.abs(diff) < 1000) return 'just now';
  return diff < 0 ? `${duration(-diff)} ago` : `in ${duration(diff)}`;
}

/** Millicores as a user reads them: 250m, 1.5 CPU. @param {number} m */
function cpu(m) {
  return m < 1000 ? `${m}m` : `${Number((m / 1000).toFixed(2))} CPU`;
}

/** Bytes in binary units. @param {number} b */
function bytes(b) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = b;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u += 1;
  }
  return `${Number(v.toFixed(v < 10 && u > 0 ? 1 : 0))} ${units[u]}`;
}

/** @param {number} n @param {string} one @param {string} [many] */
function count(n, one, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}

/** The name part of a `namespace/name` key, when it is in the default namespace. @param {string} key */
function shortKey(key) {
  return key.startsWith('default/') ? key.slice('default/'.length) : key;
}

// ---------------------------------------------------------------------------------------------
// The items' elements.

/**
 * One line of a node's resources: text, then a bar that only repeats the text (aria-hidden).
 * @param {string} label @param {Amount} amount @param {(n: number) => string} show
 */
function amountEl(label, amount, show) {
  const { requested, allocatable } = amount;
  const share = allocatable !== undefined && allocatable > 0 ? requested / allocatable : undefined;
  const text = allocatable === undefined
    ? `${show(requested)} requested (allocatable not reported yet)`
    : `${show(requested)} of ${show(allocatable)}${share === undefined ? '' : ` (${Math.round(share * 100)} %)`}`;
  const fill = h('span', { class: 'fill' });
  // Through the CSSOM: the server's Content-Security-Policy (default-src 'self') refuses style attributes.
  fill.style.width = `${Math.min(100, Math.round((share ?? 0) * 100))}%`;
  const bar = h('span', { class: `bar${share !== undefined && share > 1 ? ' over' : ''}`, 'aria-hidden': 'true' }, fill);
  return h('div', { class: 'amount' }, h('dt', {}, label), h('dd', {}, h('span', { class: 'amount-text' }, text), bar));
}

/** @param {NodeCard} node @param {string} headingId */
function nodeHead(node, headingId) {
  const proxy = node.proxy;
  return h('div', { class: 'card-head' },
    h('h3', { id: headingId, tabindex: 0 }, node.key, ' ', h('span', { class: `badge state-${node.state}` }, node.state), node.unschedulable ? h('span', { class: 'badge cordoned' }, 'unschedulable') : null),
    h('p', { class: 'state-words' }, wordsEl(node.stateWords)),
    h('p', { class: 'lease' }, node.leaseRenewTime === undefined ? 'Lease: never renewed' : h('span', {}, 'Lease renewed ', timeEl(node.leaseRenewTime))),
    h('dl', { class: 'amounts' },
      amountEl('CPU', node.cpu, cpu),
      amountEl('Memory', node.memory, bytes),
      amountEl('Pods', node.pods, String)),
    h('p', { class: `proxy${proxy !== undefined && !proxy.inSync ? ' bad' : ''}` },
      proxy === undefined
        ? 'Service rules: not reported yet'
        : h('span', {},
          // An agent that stopped reporting may have rules that no longer hold: say the report is old.
          `Service rules${node.state === 'Unknown' ? ' (its last report)' : ''}: ${proxy.inSync ? 'in sync' : 'NOT in sync'}, ${count(proxy.rules, 'rule')} for ${count(proxy.servicePorts, 'service port')}`,
          proxy.lastSyncTime === undefined ? '' : h('span', {}, ', synced ', timeEl(proxy.lastSyncTime)),
          proxy.message ? `: ${proxy.message}` : '')),
    node.podCIDR === undefined ? null : h('p', { class: 'cidr' }, `Pod range ${node.podCIDR}`));
}

/** A node's card: its head (redrawn on each change of the node) and the table of its rows (kept). @param {NodeCard} node */
function nodeCard(node) {
  const headingId = freshId('node');
  const tbody = h('tbody', { class: 'rows' });
  const card = h('section', { class: 'card node', 'data-kind': 'node', 'data-key': node.key, 'data-state': node.state, 'aria-labelledby': headingId },
    nodeHead(node, headingId),
    // Wrapped: a narrow screen scrolls the table, not the page.
    h('div', { class: 'table-wrap' }, h('table', { class: 'rows-table' },
      h('caption', {}, `Replicas on ${node.key}`),
      h('thead', {}, h('tr', {}, ...['Replica', 'Workload', 'Phase', 'Ready', 'Restarts', 'Reason', 'Pod IP', 'Differences'].map((c) => h('th', { scope: 'col' }, c)))),
      tbody)),
    h('p', { class: 'no-rows' }, 'No replicas on this node.'));
  return card;
}

/** @param {HTMLElement} card */
function rowsOf(card) {
  const tbody = card.querySelector('tbody.rows');
  if (tbody === null) throw new Error('a node card without its rows');
  return tbody;
}

/** @param {AssignmentRow} row */
function assignmentRow(row) {
  const name = row.key.slice(row.key.indexOf('/') + 1);
  return h('tr', { 'data-kind': 'assignment', 'data-key': row.key, 'data-phase': row.phase, 'data-ready': String(row.ready) },
    h('th', { scope: 'row', title: `${row.key}, revision ${row.revision}` }, name),
    h('td', {}, shortKey(row.workload)),
    h('td', { class: `phase phase-${row.phase}` }, row.phase),
    h('td', { class: `ready ${row.ready ? 'ok' : 'bad'}` }, row.ready ? 'Ready' : 'Not ready'),
    h('td', { class: row.restarts > 0 ? 'restarts warn' : 'restarts' }, row.restarts),
    h('td', { class: 'reason' }, row.reason === undefined ? '' : wordsEl(row.reason)),
    h('td', { class: 'ip' }, row.podIP ?? ''),
    h('td', { class: 'differences' }, row.differences.length === 0
      ? 'none'
      : h('ul', {}, ...row.differences.map((d) => h('li', {}, wordsEl(d))))));
}

/** @param {WorkloadView} w */
function workloadCard(w) {
  const headingId = freshId('workload');
  /** @type {Map<string, string[]>} */
  const byNode = new Map();
  for (const r of w.replicas) byNode.set(r.node, [...(byNode.get(r.node) ?? []), r.assignment.slice(r.assignment.indexOf('/') + 1)]);
  const healthy = w.problems.length === 0 && w.unplaced.length === 0 && w.available === w.desired;
  return h('section', { class: `card workload${healthy ? '' : ' unhealthy'}`, 'data-kind': 'workload', 'data-key': w.key, 'aria-labelledby': headingId },
    h('h3', { id: headingId, tabindex: 0 }, shortKey(w.key), ' ', h('span', { class: `badge ${healthy ? 'state-Ready' : 'state-NotReady'}` }, healthy ? 'Available' : 'Needs a look')),
    h('dl', { class: 'counts' },
      ...[['Mode', w.mode], ['Desired', w.desired], ['Placed', w.placed], ['Ready', w.ready], ['Available', w.available]]
        .map(([k, v]) => h('div', {}, h('dt', {}, String(k)), h('dd', { 'data-count': String(k).toLowerCase() }, String(v))))),
    w.currentRevision === undefined ? null : h('p', { class: 'revision' }, `Revision ${w.currentRevision}`),
    h('h4', {}, 'Where it runs'),
    byNode.size === 0
      ? h('p', { class: 'where' }, 'Nowhere yet.')
      : h('ul', { class: 'where' }, ...[...byNode].sort(([a], [b]) => collator.compare(a, b)).map(([node, names]) => h('li', { 'data-node': node }, `${node}: ${count(names.length, 'replica')} (${names.sort(collator.compare).join(', ')})`))),
    w.unplaced.length === 0 ? null : h('h4', {}, 'Not placed'),
    w.unplaced.length === 0 ? null : h('ul', { class: 'unplaced' }, ...w.unplaced.map((u) => h('li', {}, `${u.node}: ${u.reason}`))),
    h('h4', {}, 'Problems'),
    w.problems.length === 0 ? h('p', { class: 'problems' }, 'None.') : h('ul', { class: 'problems bad' }, ...w.problems.map((p) => h('li', {}, p))));
}

/** @param {ServiceView} s */
function serviceCard(s) {
  const headingId = freshId('service');
  const vip = s.clusterIP ?? '(VIP not allocated yet)';
  const ready = s.endpoints.filter((e) => e.ready).length;
  return h('section', { class: 'card service', 'data-kind': 'service', 'data-key': s.key, 'aria-labelledby': headingId },
    h('h3', { id: headingId, tabindex: 0 }, shortKey(s.key)),
    h('ul', { class: 'ports' }, ...s.ports.map((p) => h('li', {},
      `${vip}:${p.port}/${p.protocol} → ${p.targetPort}`,
      p.name ? ` (${p.name})` : '',
      p.nodePort === undefined ? '' : `, node port ${p.nodePort}`))),
    h('table', { class: 'endpoints' },
      h('caption', {}, `Endpoints: ${ready} of ${s.endpoints.length} ready`),
      h('thead', {}, h('tr', {}, ...['Replica', 'Node', 'Pod IP', 'Ready'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, ...s.endpoints.map((e) => h('tr', { 'data-assignment': e.assignment },
        h('th', { scope: 'row' }, e.assignment.slice(e.assignment.indexOf('/') + 1)),
        h('td', {}, e.node),
        h('td', {}, e.podIP ?? ''),
        h('td', { class: e.ready ? 'ok' : 'bad' }, e.ready ? 'Ready' : 'Not ready (no traffic)'))))));
}

// ---------------------------------------------------------------------------------------------
// Applying events.

/** @param {FloorItem} item */
function upsert(item) {
  const k = id(item.kind, item.key);
  const previous = items.get(k);
  const old = elements.get(k);
  items.set(k, item);
  switch (item.kind) {
    case 'node': {
      if (old !== undefined) {
        // The head only: the rows stay where they are.
        const head = old.querySelector('.card-head');
        const headingId = head?.querySelector('h3')?.id ?? freshId('node');
        head?.replaceWith(nodeHead(item, headingId));
        old.dataset['state'] = item.state;
        return;
      }
      const card = nodeCard(item);
      elements.set(k, card);
      insertSorted(containers.node, card);
      const tbody = rowsOf(card);
      const waiting = [...(rowsOfNode.get(item.key) ?? [])].sort(collator.compare);
      for (const rowKey of waiting) {
        const row = elements.get(id('assignment', rowKey));
        if (row !== undefined) tbody.append(row);
      }
      return;
    }
    case 'assignment': {
      const row = assignmentRow(item);
      elements.set(k, row);
      const before = previous?.kind === 'assignment' ? previous.node : undefined;
      if (old !== undefined && before === item.node) {
        old.replaceWith(row);
        return;
      }
      old?.remove();
      if (before !== undefined) rowsOfNode.get(before)?.delete(item.key);
      const waiting = rowsOfNode.get(item.node) ?? new Set();
      waiting.add(item.key);
      rowsOfNode.set(item.node, waiting);
      const card = elements.get(id('node', item.node));
      if (card !== undefined) insertSorted(rowsOf(card), row);
      return;
    }
    case 'workload':
    case 'service': {
      const el = item.kind === 'workload' ? workloadCard(item) : serviceCard(item);
      elements.set(k, el);
      if (old !== undefined) old.replaceWith(el);
      else insertSorted(containers[item.kind], el);
      return;
    }
  }
}

/** @param {ItemRef} ref */
function remove(ref) {
  const k = id(ref.kind, ref.key);
  const item = items.get(k);
  elements.get(k)?.remove();
  elements.delete(k);
  items.delete(k);
  if (item?.kind === 'assignment') rowsOfNode.get(item.node)?.delete(item.key);
  // A removed node's rows stay known (rowsOfNode), to go into its card should it come back.
}

const KIND_ORDER = { node: 0, assignment: 1, workload: 2, service: 3 };

/** @param {FloorSnapshot} snapshot */
function applySnapshot(snapshot) {
  items.clear();
  elements.clear();
  rowsOfNode.clear();
  for (const c of Object.values(containers)) c.replaceChildren();
  const sorted = [...snapshot.items].sort((a, b) => KIND_ORDER[a.kind] - KIND_ORDER[b.kind] || collator.compare(a.key, b.key));
  for (const item of sorted) upsert(item);
}

/** @param {FloorChange} change */
function applyChange(change) {
  for (const ref of change.remove) remove(ref);
  for (const item of change.upsert) upsert(item);
}

/** What the service rules line says now, to draw it only when that changes. */
let rulesSaid = '';

/** @param {HTMLElement} el @param {string} text */
function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

/** The lines that sum the floor up: they read every item, which is cheap beside drawing any. */
function refreshSummary() {
  let nodes = 0;
  let nodesReady = 0;
  let replicas = 0;
  let replicasReady = 0;
  let workloads = 0;
  let services = 0;
  /** @type {NodeCard[]} */
  const cards = [];
  for (const item of items.values()) {
    if (item.kind === 'node') {
      nodes += 1;
      if (item.state === 'Ready') nodesReady += 1;
      cards.push(item);
    } else if (item.kind === 'assignment') {
      replicas += 1;
      if (item.ready) replicasReady += 1;
    } else if (item.kind === 'workload') workloads += 1;
    else services += 1;
  }
  setText(byId('summary-nodes'), `Nodes: ${nodesReady} of ${nodes} ready`);
  setText(byId('summary-replicas'), `Replicas: ${replicasReady} of ${replicas} ready`);
  byId('nodes-empty').hidden = nodes > 0;
  byId('workloads-empty').hidden = workloads > 0;
  byId('services-empty').hidden = services > 0;
  // Each agent syncs every service at once: whether its rules hold them is its node's to say.
  const rules = byId('service-rules');
  const reported = cards.filter((c) => c.proxy !== undefined).sort((a, b) => collator.compare(a.key, b.key));
  // Drawn again only when what it says changes, not on every Lease renewal.
  const said = JSON.stringify(reported.map((c) => [c.key, c.state === 'Unknown', c.proxy]));
  if (said === rulesSaid) return;
  rulesSaid = said;
  if (reported.length === 0) {
    rules.textContent = 'Service rules: no agent has reported yet.';
    return;
  }
  rules.replaceChildren('Service rules: ', ...reported.flatMap((c, i) => {
    const p = /** @type {NonNullable<NodeCard['proxy']>} */ (c.proxy);
    return [i === 0 ? '' : '; ', h('span', { class: p.inSync ? 'ok' : 'bad', 'data-node': c.key },
      `${c.key} ${p.inSync ? 'in sync' : 'NOT in sync'}${c.state === 'Unknown' ? ' when it last reported' : ''}`,
      p.lastSyncTime === undefined ? '' : h('span', {}, ' (synced ', timeEl(p.lastSyncTime), ')'),
      p.message ? `: ${p.message}` : '')];
  }), '.');
}

/** Redraws the relative times, only where their text changes. */
function tick() {
  for (const el of document.getElementsByClassName('rel')) {
    const instant = el.getAttribute('datetime');
    if (instant === null) continue;
    const text = relative(instant);
    if (el.textContent !== text) el.textContent = text;
  }
}

// ---------------------------------------------------------------------------------------------
// Events wait for the next frame, and are drawn together in it.

/** @typedef {{ type: 'snapshot' | 'change', data: string }} Pending */
/** @type {Pending[]} */
let queue = [];
let frame = 0;
/** @type {ReturnType<typeof setTimeout> | undefined} */
let fallback;

/** @param {Pending} event */
function enqueue(event) {
  // A snapshot replaces everything: what came before it need not be drawn.
  if (event.type === 'snapshot') queue = [event];
  else queue.push(event);
  if (frame !== 0) return;
  frame = requestAnimationFrame(flush);
  // A hidden tab gets no frames: a timer (throttled there, but not stopped) keeps the queue from growing all day.
  fallback = setTimeout(flush, 1000);
}

function flush() {
  cancelAnimationFrame(frame);
  clearTimeout(fallback);
  frame = 0;
  const batch = queue;
  queue = [];
  try {
    for (const event of batch) {
      const data = /** @type {FloorSnapshot | FloorChange} */ (JSON.parse(event.data));
      clockOffsetMs = Date.parse(data.serverTime) - Date.now();
      if (event.type === 'snapshot') applySnapshot(/** @type {FloorSnapshot} */ (data));
      else applyChange(/** @type {FloorChange} */ (data));
    }
  } catch (err) {
    // What is drawn no longer follows the server: start over from a fresh snapshot.
    console.error('floor: an event could not be drawn; reconnecting for a fresh snapshot', err);
    restart(`an event could not be drawn (${err instanceof Error ? err.message : String(err)})`);
  }
  refreshSummary();
  tick();
}

// ---------------------------------------------------------------------------------------------
// The stream.

/** @param {'connecting' | 'live' | 'reconnecting' | 'token'} state @param {string} text */
function setConnection(state, text) {
  const el = byId('connection');
  el.dataset['state'] = state;
  setText(el, text);
  byId('floor').classList.toggle('stale', state !== 'live');
}

/** @type {AbortController | undefined} */
let current;
/** Why the current stream was aborted by the page itself, if it was. */
let abortReason = '';

/** @param {string} why */
function restart(why) {
  abortReason = why;
  current?.abort();
}

/**
 * Reads one stream to its end: 'token' when the server wants a (different) token, otherwise
 * resolves or throws with why it ended.
 * @param {AbortSignal} signal
 * @returns {Promise<'token' | string>}
 */
async function readStream(signal) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  /** @type {Record<string, string>} */
  const headers = { Accept: 'text/event-stream' };
  if (token) headers['Authorization'] = `Bearer ${token}`;
  const res = await fetch(EVENTS_URL, { headers, cache: 'no-store', signal });
  if (res.status === 401 || res.status === 403) {
    if (token) sessionStorage.removeItem(TOKEN_KEY);
    showTokenForm(token !== null, res.status === 403 ? 'The server refused that token: it may not list nodeworkloads. Paste another.' : 'The server refused the last token: paste another.');
    return 'token';
  }
  if (!res.ok || res.body === null) throw new Error(`${EVENTS_URL.pathname} answered ${res.status} ${res.statusText}`);

  let lastByte = Date.now();
  const watchdog = setInterval(() => {
    if (Date.now() - lastByte > SILENCE_MS) restart(`no data for ${SILENCE_MS / 1000} s`);
  }, 5000);
  try {
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    // An SSE parser (lines ending in \n or \r\n): a blank line dispatches the event gathered.
    let buf = '';
    let from = 0;
    let type = '';
    /** @type {string[]} */
    let data = [];
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return 'the server ended the stream';
      lastByte = Date.now();
      buf += value;
      let nl;
      // `from`: where the search for the next newline starts, so that a snapshot of many chunks is not scanned again from its start.
      while ((nl = buf.indexOf('\n', from)) >= 0) {
        const line = buf.slice(0, buf[nl - 1] === '\r' ? nl - 1 : nl);
        buf = buf.slice(nl + 1);
        from = 0;
        if (line === '') {
          if (data.length > 0 && (type === 'snapshot' || type === 'change')) {
            if (type === 'snapshot') setConnection('live', 'Live');
            backoffMs = BACKOFF_FIRST_MS;
            enqueue({ type, data: data.join('\n') });
          }
          type = '';
          data = [];
        } else if (line.startsWith(':')) {
          // A comment: the server's keep-alive.
        } else {
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          let val = colon < 0 ? '' : line.slice(colon + 1);
          if (val.startsWith(' ')) val = val.slice(1);
          if (field === 'event') type = val;
          else if (field === 'data') data.push(val);
        }
      }
      from = buf.length;
    }
  } finally {
    clearInterval(watchdog);
  }
}

let backoffMs = BACKOFF_FIRST_MS;
let connecting = false;

/** Streams until the server asks for a token, reconnecting after each drop with a growing wait. */
async function connect() {
  if (connecting) return;
  connecting = true;
  try {
    for (;;) {
      const controller = new AbortController();
      current = controller;
      abortReason = '';
      setConnection('connecting', 'Connecting…');
      let why;
      try {
        why = await readStream(controller.signal);
      } catch (err) {
        why = abortReason || (err instanceof Error ? err.message : String(err));
      }
      if (why === 'token') return;
      setConnection('reconnecting', `Reconnecting in ${backoffMs / 1000} s: ${why}`);
      await new Promise((resolve) => setTimeout(resolve, backoffMs));
      backoffMs = Math.min(backoffMs * 2, BACKOFF_MAX_MS);
    }
  } finally {
    connecting = false;
  }
}

// ---------------------------------------------------------------------------------------------
// The token form.

const form = /** @type {HTMLFormElement} */ (byId('token-form'));
const tokenInput = /** @type {HTMLInputElement} */ (byId('token'));

/** @param {boolean} refused @param {string} why */
function showTokenForm(refused, why) {
  setConnection('token', 'Waiting for a token');
  const note = byId('token-refused');
  note.textContent = why;
  note.hidden = !refused;
  form.hidden = false;
  tokenInput.value = '';
  tokenInput.focus();
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  const token = tokenInput.value.trim();
  if (token === '') return;
  sessionStorage.setItem(TOKEN_KEY, token);
  tokenInput.value = '';
  form.hidden = true;
  backoffMs = BACKOFF_FIRST_MS;
  void connect();
});

setInterval(tick, 1000);
void connect();
