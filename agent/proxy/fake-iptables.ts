// A fake of the kernel's iptables nat and filter tables as `iptables-restore --noflush` changes
// them, for tests that apply many rendered inputs and compare the tables they leave. It knows
// the lines iptables-render.ts writes and refuses any other, and enforces what iptables-restore
// refuses: each table's section applies at its COMMIT or not at all; a rule's chain, and a jump's
// target chain, must exist; a rule deleted by spec (-D) must be there; a rule is inserted (-I) at
// 1 to one past the last; a chain is deleted only when it is empty and nothing jumps to it.
// Declaring a chain of ours creates it, or flushes it when it exists (--noflush keeps the rest).

import type { IptablesTable } from './iptables-render.js';

const BUILTIN_CHAINS: Record<IptablesTable, readonly string[]> = {
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
};
/** Targets that are extensions, not chains. */
const TARGETS = new Set(['ACCEPT', 'DROP', 'RETURN', 'DNAT', 'SNAT', 'MASQUERADE', 'MARK', 'REJECT']);

export class FakeIptablesError extends Error {}

type Chains = Map<string, string[]>;

function jumpTarget(rule: string): string | undefined {
  return / -j ([^\s]+)/.exec(rule)?.[1];
}

export class FakeIptables {
  private readonly tables: Record<IptablesTable, Chains> = {
    nat: new Map(BUILTIN_CHAINS.nat.map((c) => [c, []])),
    filter: new Map(BUILTIN_CHAINS.filter.map((c) => [c, []])),
  };

  /** Applies `iptables-restore --noflush` input; throws FakeIptablesError on the first refused line (earlier COMMITs stay). */
  restore(input: string): void {
    let table: IptablesTable | undefined;
    let next: Chains | undefined;
    input.split('\n').forEach((line, i) => {
      const fail = (why: string): never => {
        throw new FakeIptablesError(`line ${i + 1}: ${why}: ${line.slice(0, 200)}`);
      };
      if (line.trim() === '' || line.startsWith('#')) return;
      if (line.startsWith('*')) {
        const name = line.slice(1);
        if (name !== 'nat' && name !== 'filter') fail('a table this fake does not know');
        if (table) fail(`table ${table} has no COMMIT`);
        table = name as IptablesTable;
        next = new Map([...this.tables[table]].map(([c, rules]) => [c, [...rules]]));
        return;
      }
      if (!table || !next) return fail('a line outside a table section');
      const chains = next;
      const mustHaveTarget = (rule: string): void => {
        const target = jumpTarget(rule);
        if (target === undefined) fail('a rule without a target');
        if (!TARGETS.has(target!) && !chains.has(target!)) fail(`no chain or target ${target}`);
      };
      if (line === 'COMMIT') {
        this.tables[table] = next;
        table = undefined;
        next = undefined;
        return;
      }
      let m: RegExpExecArray | null;
      if ((m = /^:([^\s]+) - \[0:0\]$/.exec(line))) {
        if (BUILTIN_CHAINS[table].includes(m[1]!)) fail('a built-in chain is never ours to declare');
        next.set(m[1]!, []);
      } else if ((m = /^-A ([^\s]+) (.+)$/.exec(line))) {
        const rules = next.get(m[1]!) ?? fail(`no chain ${m[1]}`);
        mustHaveTarget(line);
        rules.push(line);
      } else if ((m = /^-D ([^\s]+) (.+)$/.exec(line))) {
        const rules = next.get(m[1]!) ?? fail(`no chain ${m[1]}`);
        // iptables deletes the first rule that matches the spec.
        const at = rules.indexOf(`-A ${m[1]} ${m[2]}`);
        if (at < 0) fail('no such rule');
        rules.splice(at, 1);
      } else if ((m = /^-I ([^\s]+) (\d+) (.+)$/.exec(line))) {
        const rules = next.get(m[1]!) ?? fail(`no chain ${m[1]}`);
        const at = Number(m[2]);
        const rule = `-A ${m[1]} ${m[3]}`;
        mustHaveTarget(rule);
        // iptables inserts at 1 to one past the last rule.
        if (at < 1 || at > rules.length + 1) fail(`no position ${at} in a chain of ${rules.length} rules`);
        rules.splice(at - 1, 0, rule);
      } else if ((m = /^-X ([^\s]+)$/.exec(line))) {
        const name = m[1]!;
        const rules = next.get(name) ?? fail(`no chain ${name}`);
        if (BUILTIN_CHAINS[table].includes(name)) fail('a built-in chain cannot be deleted');
        if (rules.length > 0) fail(`chain ${name} is not empty`);
        for (const [other, r] of next) if (r.some((rule) => jumpTarget(rule) === name)) fail(`chain ${name} is in use by ${other}`);
        next.delete(name);
      } else {
        fail('a line this fake does not know');
      }
    });
    if (table) throw new FakeIptablesError(`table ${table} has no COMMIT`);
  }

  /** `iptables-save -t <table>`: chain declarations, then every rule chain by chain. */
  save(table: IptablesTable): string {
    const chains = [...this.tables[table].keys()].sort();
    const lines = [`*${table}`, ...chains.map((c) => `:${c} ${BUILTIN_CHAINS[table].includes(c) ? 'ACCEPT' : '-'} [0:0]`)];
    for (const c of chains) lines.push(...this.tables[table].get(c)!);
    lines.push('COMMIT');
    return lines.join('\n') + '\n';
  }
}
