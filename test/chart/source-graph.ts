// The modules a Shopfloor command loads when it runs, read with the TypeScript compiler: from an
// entry file, every module it imports for its values (static imports and re-exports that are not
// `import type`, and `import('...')` of a string), transitively. A type-only import loads
// nothing, so code behind one is not part of the command.
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';
import { repoRoot } from '../harness/kubectl.js';

/** One TypeScript program over a set of entry files, and its type checker. */
export interface SourceProgram {
  program: ts.Program;
  checker: ts.TypeChecker;
  options: ts.CompilerOptions;
}

/** What one entry loads. */
export interface SourceGraph extends SourceProgram {
  /** The project's source files the entry loads, the entry first. */
  files: ts.SourceFile[];
  /** Bare module specifiers (packages, `node:` builtins) those files load. */
  packages: Set<string>;
}

function compilerOptions(): ts.CompilerOptions {
  const path = join(repoRoot, 'tsconfig.json');
  const read = ts.readConfigFile(path, ts.sys.readFile);
  if (read.error) throw new Error(`tsconfig.json: ${ts.flattenDiagnosticMessageText(read.error.messageText, '\n')}`);
  return ts.parseJsonConfigFileContent(read.config, ts.sys, dirname(path)).options;
}

/** The module specifiers `file` loads at run time. */
function loadedSpecifiers(file: ts.SourceFile): string[] {
  const specs: string[] = [];
  for (const s of file.statements) {
    if (ts.isImportDeclaration(s) && !s.importClause?.isTypeOnly && ts.isStringLiteral(s.moduleSpecifier)) specs.push(s.moduleSpecifier.text);
    if (ts.isExportDeclaration(s) && !s.isTypeOnly && s.moduleSpecifier && ts.isStringLiteral(s.moduleSpecifier)) specs.push(s.moduleSpecifier.text);
  }
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [arg] = node.arguments;
      if (arg && ts.isStringLiteralLike(arg)) specs.push(arg.text);
      else throw new Error(`${where(file, node)}: import() of a computed name; the graph cannot tell which module it loads`);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return specs;
}

/** `path/of/file.ts:line`, relative to the checkout. */
export function where(file: ts.SourceFile, node: ts.Node): string {
  return `${relative(repoRoot, file.fileName)}:${file.getLineAndCharacterOfPosition(node.getStart(file)).line + 1}`;
}

/** The program of `entries` (paths relative to the checkout), built once for several graphs. */
export function sourceProgram(entries: readonly string[]): SourceProgram {
  const options = compilerOptions();
  const program = ts.createProgram(entries.map((e) => join(repoRoot, e)), options);
  return { program, checker: program.getTypeChecker(), options };
}

/** What `entry` (relative to the checkout, one of the program's entries) loads when it runs. */
export function sourceGraph(p: SourceProgram, entry: string): SourceGraph {
  const files: ts.SourceFile[] = [];
  const packages = new Set<string>();
  const seen = new Set<string>();
  const queue = [join(repoRoot, entry)];
  while (queue.length > 0) {
    const name = queue.shift()!;
    if (seen.has(name)) continue;
    seen.add(name);
    const file = p.program.getSourceFile(name);
    if (!file) throw new Error(`${relative(repoRoot, name)} is not part of the TypeScript program`);
    files.push(file);
    for (const spec of loadedSpecifiers(file)) {
      if (!spec.startsWith('.')) {
        packages.add(spec);
        continue;
      }
      const resolved = ts.resolveModuleName(spec, file.fileName, p.options, ts.sys).resolvedModule;
      if (!resolved) throw new Error(`${relative(repoRoot, file.fileName)}: cannot resolve "${spec}"`);
      queue.push(resolved.resolvedFileName);
    }
  }
  return { ...p, files, packages };
}

/** Names a runner or spawn is called with as the program to run. */
const SPAWNERS = new Set(['run', 'runChecked', 'start', 'spawn', 'spawnSync', 'execFile', 'execFileSync']);

/**
 * The programs the graph's code runs by a name written at the call (`run('nft', ...)`,
 * `runChecked(run, 'iptables-restore', ...)`, `spawn('openssl', ...)`), with where.
 */
export function spawnedPrograms(graph: SourceGraph): Map<string, string> {
  const programs = new Map<string, string>();
  for (const file of graph.files) {
    const visit = (node: ts.Node): void => {
      if (ts.isCallExpression(node)) {
        const callee = ts.isPropertyAccessExpression(node.expression) ? node.expression.name.text : ts.isIdentifier(node.expression) ? node.expression.text : '';
        const program = SPAWNERS.has(callee) ? node.arguments.slice(0, 2).find((a): a is ts.StringLiteral => ts.isStringLiteral(a) && /^[a-z][\w.+-]*$/.test(a.text)) : undefined;
        if (program && !programs.has(program.text)) programs.set(program.text, where(file, node));
      }
      ts.forEachChild(node, visit);
    };
    visit(file);
  }
  return programs;
}
