import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, { default: string }> };
const entries = Object.values(pkg.exports).map((target) => join(root, target.default.replace(/^\.\/dist\//, '').replace(/\.js$/, '.ts')));

/** Every .ts file under lib/. */
function sources(dir = join(root, 'lib')): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

// Only lib/ is parsed: packages and the standard library stay unresolved, which
// is enough to follow re-exports and keeps the check well under a second.
const options: ts.CompilerOptions = {
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  noLib: true,
  types: [],
  noEmit: true,
};
const host = ts.createCompilerHost(options);
const inLib = (file: string) => file.startsWith(join(root, 'lib'));
host.fileExists = (file) => inLib(file) && ts.sys.fileExists(file);
const program = ts.createProgram({ rootNames: sources(), options, host });
const checker = program.getTypeChecker();

type Tagged = ts.Node & { jsDoc?: ts.JSDoc[] };
/** The node that carries the JSDoc: a variable's statement, or the declaration itself. */
const carrier = (decl: ts.Declaration): Tagged => (ts.isVariableDeclaration(decl) ? decl.parent.parent : decl);
const resolve = (symbol: ts.Symbol) => (symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol);
const hasTag = (node: Tagged, tag: string) => (node.jsDoc ?? []).some((doc) => (doc.tags ?? []).some((t) => t.tagName.text === tag));
const where = (node: ts.Node) => {
  const file = node.getSourceFile();
  return `${relative(root, file.fileName)}:${file.getLineAndCharacterOfPosition(node.getStart()).line + 1}`;
};

/** Declarations exported by `file`'s module (through any re-exports), by name. */
function exportsOf(file: string): [string, ts.Declaration][] {
  const module = checker.getSymbolAtLocation(program.getSourceFile(file)!)!;
  return checker
    .getExportsOfModule(module)
    .flatMap((symbol) => (resolve(symbol).declarations ?? []).map((decl): [string, ts.Declaration] => [symbol.name, decl]));
}

const publicApi = new Map<Tagged, string>();
for (const entry of entries) for (const [name, decl] of exportsOf(entry)) if (inLib(decl.getSourceFile().fileName)) publicApi.set(carrier(decl), name);

describe('API tags', () => {
  it('finds the entry points and what they export', () => {
    expect(entries.map((file) => relative(root, file))).toEqual([
      'lib/index.ts',
      'lib/testing/index.ts',
      'lib/store/index.ts',
      'lib/postgres/index.ts',
      'lib/redis/index.ts',
      'lib/sqlite/index.ts',
      'lib/config/index.ts',
      'lib/terminus/index.ts',
      'lib/dashboard/index.ts',
      'lib/metrics/index.ts',
    ]);
    expect(publicApi.size).toBeGreaterThan(150);
  });

  it('tags every declaration an entry point exports @publicApi, and none @internal', () => {
    const untagged = [...publicApi]
      .filter(([node]) => !hasTag(node, 'publicApi') || hasTag(node, 'internal'))
      .map(([node, name]) => `${name} (${where(node)})`);
    expect(untagged).toEqual([]);
  });

  it('tags every other export of lib/ @internal, and none @publicApi', () => {
    const untagged: string[] = [];
    for (const file of sources()) {
      for (const [name, decl] of exportsOf(file)) {
        const node = carrier(decl);
        if (decl.getSourceFile().fileName !== file || publicApi.has(node)) continue;
        if (!hasTag(node, 'internal') || hasTag(node, 'publicApi')) untagged.push(`${name} (${where(node)})`);
      }
    }
    expect(untagged).toEqual([]);
  });

  it('tags @internal every public class member whose signature names an internal type', () => {
    const leaks: string[] = [];
    for (const [node, name] of publicApi) {
      if (!ts.isClassDeclaration(node)) continue;
      for (const member of node.members) {
        if (hasTag(member, 'internal') || ts.getCombinedModifierFlags(member) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) continue;
        const visit = (child: ts.Node): void => {
          if (ts.isBlock(child)) return;
          if (ts.isTypeReferenceNode(child)) {
            const symbol = checker.getSymbolAtLocation(child.typeName);
            const internal = symbol && (resolve(symbol).declarations ?? []).some((decl) => hasTag(carrier(decl), 'internal'));
            if (internal) leaks.push(`${name}: ${child.getText()} (${where(child)})`);
          }
          ts.forEachChild(child, visit);
        };
        ts.forEachChild(member, visit);
      }
    }
    expect(leaks).toEqual([]);
  });
});
