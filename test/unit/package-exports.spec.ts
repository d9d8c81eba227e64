import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, { types: string; default: string }> };

/** Every .ts file under lib/. */
function sources(dir = join(root, 'lib')): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

describe('package exports', () => {
  it('each subpath is built from a source entry, with its types beside it', () => {
    expect(Object.keys(pkg.exports)).toEqual([
      '.',
      './testing',
      './store',
      './postgres',
      './redis',
      './sqlite',
      './config',
      './terminus',
      './dashboard',
      './metrics',
    ]);
    for (const [subpath, target] of Object.entries(pkg.exports)) {
      const base = target.default.replace(/^\.\/dist\//, '').replace(/\.js$/, '');
      expect(target.types, subpath).toBe(`./dist/${base}.d.ts`);
      expect(existsSync(join(root, `${base}.ts`)), `${subpath} → ${base}.ts`).toBe(true);
    }
  });

  it('no shipped file imports a test runner (the store conformance suite takes it as an argument)', () => {
    const offenders = sources().filter((file) => /^import [^;]*from ['"](vitest|@jest\/globals|jest)['"]/m.test(readFileSync(file, 'utf8')));
    expect(offenders).toEqual([]);
  });
});
