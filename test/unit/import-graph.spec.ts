import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// The data path must read forward in the imports: a circle, even through a
// type-only import, means two parts know each other and one of them should be
// handed a port instead.
const lib = join(import.meta.dirname, '..', '..', 'lib');

function sources(dir = lib): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

/** Relative imports and re-exports of a file (static and dynamic), resolved to .ts files under lib/. */
function importsOf(file: string): string[] {
  const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  return importedFiles
    .map((ref) => ref.fileName)
    .filter((spec) => spec.startsWith('.'))
    .map((spec) => {
      const target = join(dirname(file), spec).replace(/\.js$/, '.ts');
      return existsSync(target) ? target : join(target.replace(/\.ts$/, ''), 'index.ts');
    });
}

/** Strongly connected components of more than one file (Tarjan). */
function circles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, index.size);
    low.set(node, index.get(node)!);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue;
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node)!, index.get(next)!));
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1 || (graph.get(node) ?? []).includes(node)) found.push(component);
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found;
}

describe('lib/ import graph', () => {
  const graph = new Map(sources().map((file) => [file, importsOf(file)]));

  it('resolves every relative import to a file under lib/', () => {
    const missing = [...graph].flatMap(([file, targets]) =>
      targets.filter((target) => !graph.has(target)).map((target) => `${relative(lib, file)} -> ${relative(lib, target)}`),
    );
    expect(missing).toEqual([]);
  });

  it('has no import circles', () => {
    const named = circles(graph).map((component) => component.map((file) => relative(lib, file)).sort());
    expect(named).toEqual([]);
  });

  it('finds a circle when there is one', () => {
    const a = join(lib, 'a.ts');
    const b = join(lib, 'b.ts');
    expect(
      circles(
        new Map([
          [a, [b]],
          [b, [a]],
        ]),
      ),
    ).toHaveLength(1);
  });
});
