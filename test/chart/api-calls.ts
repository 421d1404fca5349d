// The Kubernetes API calls a Shopfloor command makes, read from its code with the TypeScript
// compiler, so that the RBAC the chart grants is checked against what the code does rather than
// against what someone remembered. Every call goes through KubeClient (kube/client.ts): a call
// names its resource with a kube/resource.ts constant, or sits inside a relay (a class or
// function handed the resource by its callers) whose callers do. A call that does neither fails
// the analysis, saying where, so that a new kind of call cannot slip past it.
import { relative } from 'node:path';
import ts from 'typescript';
import { GROUP, KINDS } from '../../api/index.js';
import * as resources from '../../kube/resource.js';
import type { ResourceType } from '../../kube/resource.js';
import { repoRoot } from '../harness/kubectl.js';
import { sourceGraph, where, type SourceProgram } from './source-graph.js';

/** One RBAC permission a command needs, and the place in the code that needs it. */
export interface ApiCall {
  /** API group; '' for the core group. */
  group: string;
  /** The plural, or `plural/subresource`. */
  resource: string;
  verb: string;
  at: string;
}

/** KubeClient's methods and the RBAC verb (and subresource) each one asks for; null: no request. */
const METHOD_VERBS: Record<string, { verb: string; subresource?: string } | null> = {
  get: { verb: 'get' },
  list: { verb: 'list' },
  listAll: { verb: 'list' },
  watch: { verb: 'watch' },
  create: { verb: 'create' },
  update: { verb: 'update' },
  patch: { verb: 'patch' },
  patchStatus: { verb: 'patch', subresource: 'status' },
  delete: { verb: 'delete' },
  close: null,
};

/** Where a relay gets its resource from its callers. */
type ResourceFrom = { constructorOption: string } | { argument: number };

/** The classes and functions that make KubeClient calls for a resource their callers choose. */
export const RELAYS: ReadonlyArray<{ name: string; file: string; resourceFrom: ResourceFrom }> = [
  { name: 'Informer', file: 'kube/informer.ts', resourceFrom: { constructorOption: 'resource' } },
  { name: 'patchStatusIfChanged', file: 'kube/status.ts', resourceFrom: { argument: 1 } },
];

const CLIENT_FILE = 'kube/client.ts';
const RESOURCE_FILE = 'kube/resource.ts';

const isResourceType = (v: unknown): v is ResourceType => typeof v === 'object' && v !== null && 'plural' in v && 'group' in v && 'kind' in v;

const fileOf = (node: ts.Node): string => relative(repoRoot, node.getSourceFile().fileName);

/** The symbol a name stands for, through imports. */
function symbolOf(checker: ts.TypeChecker, node: ts.Node): ts.Symbol | undefined {
  const sym = checker.getSymbolAtLocation(node);
  return sym && sym.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(sym) : sym;
}

/** The top-level class or function a node is in. */
function enclosingDeclaration(node: ts.Node): { name: string; file: string } | undefined {
  for (let n: ts.Node | undefined = node; n; n = n.parent) {
    if ((ts.isClassDeclaration(n) || ts.isFunctionDeclaration(n)) && ts.isSourceFile(n.parent) && n.name) return { name: n.name.text, file: fileOf(n) };
  }
  return undefined;
}

function walk(file: ts.SourceFile, visit: (node: ts.Node) => void): void {
  const go = (node: ts.Node): void => {
    visit(node);
    ts.forEachChild(node, go);
  };
  go(file);
}

function permission(r: ResourceType, method: { verb: string; subresource?: string }, at: string): ApiCall {
  return { group: r.group, resource: method.subresource ? `${r.plural}/${method.subresource}` : r.plural, verb: method.verb, at };
}

/** The API calls of the command whose entry file is `entry` (e.g. cli/agent.ts), one of the program's. */
export function apiCallsOf(program: SourceProgram, entry: string): ApiCall[] {
  const graph = sourceGraph(program, entry);
  const { checker } = graph;
  const calls: ApiCall[] = [];
  /** The KubeClient methods each relay calls for its callers' resource. */
  const relayMethods = new Map<string, Array<{ verb: string; subresource?: string; at: string }>>();

  const resourceConstant = (node: ts.Expression | undefined): ResourceType | undefined => {
    if (!node || !ts.isIdentifier(node)) return undefined;
    const sym = symbolOf(checker, node);
    const decl = sym?.valueDeclaration;
    if (!sym || !decl || fileOf(decl) !== RESOURCE_FILE) return undefined;
    const value = (resources as Record<string, unknown>)[sym.name];
    return isResourceType(value) ? value : undefined;
  };

  // 1. Every KubeClient call, with its resource or its relay.
  for (const file of graph.files) {
    if (relative(repoRoot, file.fileName) === CLIENT_FILE) continue;
    walk(file, (node) => {
      if (!ts.isCallExpression(node) || !ts.isPropertyAccessExpression(node.expression)) return;
      const decl = symbolOf(checker, node.expression.name)?.declarations?.[0];
      if (!decl || !ts.isMethodDeclaration(decl) || !ts.isClassDeclaration(decl.parent) || decl.parent.name?.text !== 'KubeClient' || fileOf(decl) !== CLIENT_FILE) return;
      const at = where(file, node);
      const methodName = node.expression.name.text;
      const method = METHOD_VERBS[methodName];
      if (method === null) return;
      if (!method) throw new Error(`${at}: KubeClient.${methodName} is a call the analysis has no RBAC verb for; add it to METHOD_VERBS in test/chart/api-calls.ts`);
      const constant = resourceConstant(node.arguments[0]);
      if (constant) {
        calls.push(permission(constant, method, at));
        return;
      }
      const relay = enclosingDeclaration(node);
      const declared = relay && RELAYS.find((r) => r.name === relay.name && r.file === relay.file);
      if (!declared) throw new Error(`${at}: KubeClient.${methodName} with a resource that is neither a ${RESOURCE_FILE} constant nor given to a relay of RELAYS in test/chart/api-calls.ts; name the constant there, or declare ${relay?.name ?? 'the enclosing function'} a relay`);
      relayMethods.set(declared.name, [...(relayMethods.get(declared.name) ?? []), { ...method, at }]);
    });
  }

  // 2. Every use of a relay, with the resource its caller hands it.
  for (const file of graph.files) {
    walk(file, (node) => {
      for (const relay of RELAYS) {
        const from = relay.resourceFrom;
        const isUse = 'constructorOption' in from ? ts.isNewExpression(node) : ts.isCallExpression(node);
        if (!isUse) continue;
        const use = node as ts.NewExpression | ts.CallExpression;
        const target = symbolOf(checker, use.expression)?.valueDeclaration;
        if (!target || !(ts.isClassDeclaration(target) || ts.isFunctionDeclaration(target)) || target.name?.text !== relay.name || fileOf(target) !== relay.file) continue;
        const at = where(file, node);
        let arg: ts.Expression | undefined;
        if ('argument' in from) arg = use.arguments?.[from.argument];
        else {
          const options = use.arguments?.[0];
          const prop = options && ts.isObjectLiteralExpression(options) ? options.properties.find((p) => p.name && ts.isIdentifier(p.name) && p.name.text === from.constructorOption) : undefined;
          arg = prop && ts.isPropertyAssignment(prop) ? prop.initializer : undefined;
        }
        const constant = resourceConstant(arg);
        if (!constant) throw new Error(`${at}: ${relay.name} is handed a resource that is not a ${RESOURCE_FILE} constant written at the call; write the constant there so the analysis can see it`);
        for (const m of relayMethods.get(relay.name) ?? []) calls.push(permission(constant, m, `${at} (${relay.name}, ${m.at})`));
      }
    });
  }

  // 3. Owner references that block their owner's deletion: API servers with the
  //    OwnerReferencesPermissionEnforcement admission plugin require update on the owner's
  //    finalizers from whoever writes them.
  for (const file of graph.files) {
    walk(file, (node) => {
      if (!ts.isObjectLiteralExpression(node)) return;
      const prop = (name: string) => node.properties.find((p): p is ts.PropertyAssignment => ts.isPropertyAssignment(p) && ts.isIdentifier(p.name) && p.name.text === name);
      if (prop('blockOwnerDeletion')?.initializer.kind !== ts.SyntaxKind.TrueKeyword) return;
      const kind = prop('kind')?.initializer;
      const at = where(file, node);
      const owner = kind && ts.isStringLiteral(kind) ? Object.values(KINDS).find((k) => k.kind === kind.text) : undefined;
      if (!owner) throw new Error(`${at}: an owner reference with blockOwnerDeletion whose kind is not a Shopfloor kind written as a string; the analysis cannot tell which finalizers it needs`);
      calls.push({ group: GROUP, resource: `${owner.plural}/finalizers`, verb: 'update', at: `${at} (blockOwnerDeletion)` });
    });
  }
  return calls;
}

/** `group resource verb`, the key permissions are compared by. */
export const permissionKey = (p: { group: string; resource: string; verb: string }): string => `${p.group || 'core'} ${p.resource} ${p.verb}`;

