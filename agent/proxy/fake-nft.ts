// A fake of the kernel's nftables ruleset, for tests that apply many rendered transactions and
// compare the tables they leave (knftables has one like it for kube-proxy). It knows only the
// statement shapes nft-render.ts writes and refuses any other line, so a renderer change it does
// not model fails loudly instead of passing unchecked. What it enforces is what the kernel
// refuses: a transaction applies whole or not at all; a table, chain, set or map must exist
// before it is used; an element cannot be deleted when absent nor re-added with another value;
// a chain that a rule or a map element still jumps to cannot be deleted, nor a set a rule reads.

interface FakeSet {
  /** The declaration between the braces, e.g. `type ipv4_addr;`. */
  declaration: string;
  isMap: boolean;
  /** Key → value (undefined for set elements). */
  elements: Map<string, string | undefined>;
}

interface FakeChain {
  /** The declaration between the braces of a base chain, '' for a regular one. */
  declaration: string;
  rules: string[];
}

interface FakeTable {
  comment: string | undefined;
  sets: Map<string, FakeSet>;
  chains: Map<string, FakeChain>;
}

/** A table as the fake lists it: what a ruleset means, in an order that does not depend on history. */
export interface FakeNftListing {
  comment: string | undefined;
  sets: Record<string, { declaration: string; elements: string[] }>;
  chains: Record<string, FakeChain>;
}

export class FakeNftError extends Error {}

function cloneTable(t: FakeTable): FakeTable {
  return {
    comment: t.comment,
    sets: new Map([...t.sets].map(([n, s]) => [n, { declaration: s.declaration, isMap: s.isMap, elements: new Map(s.elements) }])),
    chains: new Map([...t.chains].map(([n, c]) => [n, { declaration: c.declaration, rules: [...c.rules] }])),
  };
}

/** Chains a rule or an element value names as a verdict target. */
function verdictTargets(text: string): string[] {
  return [...text.matchAll(/\b(?:jump|goto) ([\w-]+)/g)].map((m) => m[1]!);
}

/** Sets and maps a rule reads (`@name`). */
function setReferences(text: string): string[] {
  return [...text.matchAll(/@([\w-]+)/g)].map((m) => m[1]!);
}

const ADD_TABLE = /^add table ip ([\w-]+)(?: \{ comment "([^"]*)"; \})?$/;
const DELETE_TABLE = /^delete table ip ([\w-]+)$/;
const ADD_SET = /^add (set|map) ip ([\w-]+) ([\w-]+) \{ (.+) \}$/;
const ADD_CHAIN = /^add chain ip ([\w-]+) ([\w-]+)(?: \{ (.+) \})?$/;
const DELETE_CHAIN = /^delete chain ip ([\w-]+) ([\w-]+)$/;
const FLUSH_CHAIN = /^flush chain ip ([\w-]+) ([\w-]+)$/;
const DELETE_SET = /^delete set ip ([\w-]+) ([\w-]+)$/;
const ADD_RULE = /^add rule ip ([\w-]+) ([\w-]+) (.+)$/;
const ELEMENTS = /^(add|delete) element ip ([\w-]+) ([\w-]+) \{ (.+) \}$/;

/** The ruleset of one network namespace, as far as the `ip` family tables go. */
export class FakeNftRuleset {
  private tables = new Map<string, FakeTable>();

  /** Applies one `nft -f` script as one transaction; throws FakeNftError (and changes nothing) on the first refused line. */
  apply(script: string): void {
    const next = new Map([...this.tables].map(([n, t]) => [n, cloneTable(t)]));
    script.split('\n').forEach((line, i) => {
      if (line.trim() === '') return;
      try {
        applyLine(next, line);
      } catch (err) {
        throw new FakeNftError(`line ${i + 1}: ${(err as Error).message}: ${line.slice(0, 200)}`);
      }
    });
    this.tables = next;
  }

  /** The table's contents, or undefined when there is no such table. */
  list(table: string): FakeNftListing | undefined {
    const t = this.tables.get(table);
    if (!t) return undefined;
    const sets: FakeNftListing['sets'] = {};
    for (const name of [...t.sets.keys()].sort()) {
      const s = t.sets.get(name)!;
      sets[name] = { declaration: s.declaration, elements: [...s.elements].map(([k, v]) => (v === undefined ? k : `${k} : ${v}`)).sort() };
    }
    const chains: FakeNftListing['chains'] = {};
    for (const name of [...t.chains.keys()].sort()) chains[name] = t.chains.get(name)!;
    return { comment: t.comment, sets, chains };
  }
}

function mustTable(tables: Map<string, FakeTable>, name: string): FakeTable {
  const t = tables.get(name);
  if (!t) throw new Error(`no table ip ${name}`);
  return t;
}

function applyLine(tables: Map<string, FakeTable>, line: string): void {
  let m: RegExpExecArray | null;
  if ((m = ADD_TABLE.exec(line))) {
    const t = tables.get(m[1]!) ?? { comment: undefined, sets: new Map(), chains: new Map() };
    if (m[2] !== undefined) t.comment = m[2];
    tables.set(m[1]!, t);
  } else if ((m = DELETE_TABLE.exec(line))) {
    mustTable(tables, m[1]!);
    tables.delete(m[1]!);
  } else if ((m = ADD_SET.exec(line))) {
    const t = mustTable(tables, m[2]!);
    const existing = t.sets.get(m[3]!);
    if (existing && existing.declaration !== m[4]) throw new Error(`${m[1]} ${m[3]} exists with another declaration`);
    if (!existing) t.sets.set(m[3]!, { declaration: m[4]!, isMap: m[1] === 'map', elements: new Map() });
  } else if ((m = ADD_CHAIN.exec(line))) {
    const t = mustTable(tables, m[1]!);
    if (!t.chains.has(m[2]!)) t.chains.set(m[2]!, { declaration: m[3] ?? '', rules: [] });
  } else if ((m = DELETE_CHAIN.exec(line))) {
    const t = mustTable(tables, m[1]!);
    const name = m[2]!;
    if (!t.chains.has(name)) throw new Error(`no chain ${name}`);
    for (const [other, c] of t.chains) if (other !== name && c.rules.some((r) => verdictTargets(r).includes(name))) throw new Error(`chain ${name} is in use by a rule of ${other}`);
    for (const [set, s] of t.sets) for (const v of s.elements.values()) if (v !== undefined && verdictTargets(v).includes(name)) throw new Error(`chain ${name} is in use by an element of ${set}`);
    t.chains.delete(name);
  } else if ((m = FLUSH_CHAIN.exec(line))) {
    const chain = mustTable(tables, m[1]!).chains.get(m[2]!);
    if (!chain) throw new Error(`no chain ${m[2]}`);
    chain.rules = [];
  } else if ((m = DELETE_SET.exec(line))) {
    const t = mustTable(tables, m[1]!);
    const name = m[2]!;
    if (!t.sets.has(name)) throw new Error(`no set ${name}`);
    for (const [chain, c] of t.chains) if (c.rules.some((r) => setReferences(r).includes(name))) throw new Error(`set ${name} is in use by a rule of ${chain}`);
    t.sets.delete(name);
  } else if ((m = ADD_RULE.exec(line))) {
    const t = mustTable(tables, m[1]!);
    const chain = t.chains.get(m[2]!);
    if (!chain) throw new Error(`no chain ${m[2]}`);
    for (const target of verdictTargets(m[3]!)) if (!t.chains.has(target)) throw new Error(`no chain ${target} to jump to`);
    for (const set of setReferences(m[3]!)) if (!t.sets.has(set)) throw new Error(`no set or map ${set}`);
    chain.rules.push(m[3]!);
  } else if ((m = ELEMENTS.exec(line))) {
    const t = mustTable(tables, m[2]!);
    const s = t.sets.get(m[3]!);
    if (!s) throw new Error(`no set or map ${m[3]}`);
    for (const item of m[4]!.split(', ')) {
      const [key, value] = s.isMap && m[1] === 'add' ? item.split(' : ') : [item, undefined];
      if (key === undefined || (s.isMap && m[1] === 'add' && value === undefined)) throw new Error(`element "${item}" does not fit ${m[3]}`);
      if (m[1] === 'delete') {
        if (!s.elements.has(key)) throw new Error(`no element ${key} in ${m[3]}`);
        s.elements.delete(key);
        continue;
      }
      if (s.elements.has(key) && s.elements.get(key) !== value) throw new Error(`element ${key} of ${m[3]} exists with another value`);
      for (const target of value === undefined ? [] : verdictTargets(value)) if (!t.chains.has(target)) throw new Error(`no chain ${target} for ${key}`);
      s.elements.set(key, value);
    }
  } else {
    throw new Error('a statement this fake does not know');
  }
}
