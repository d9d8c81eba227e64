import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, posix, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One file the UI serves. @internal */
export interface DashboardUiAsset {
  body: Buffer;
  contentType: string;
}

/** The UI's files, read and hashed once. @internal */
export interface DashboardUiBundle {
  /** `index.html` with its placeholders (see {@link renderIndex}). */
  index: string;
  /** By served name, `<file>.<contenthash>.<ext>`. */
  assets: ReadonlyMap<string, DashboardUiAsset>;
  /** The served name of a source file (`app.js` → `app.1a2b3c4d5e.js`). */
  served: ReadonlyMap<string, string>;
}

const TYPES: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

// Relative module specifiers in the UI's own modules (static and dynamic imports).
const SPECIFIER = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(\.{1,2}\/[^'"]+\.js)\2/g;

/**
 * Where the UI's files are: beside this module, in lib/ when it runs from
 * source and in dist/lib/ once built (the build copies the folder).
 * @internal
 */
export function dashboardUiDir(): string {
  return fileURLToPath(new URL('./ui/', import.meta.url));
}

/**
 * Reads the UI's folder. Files under `assets/` are served flat (`pages/jobs.js`
 * as `pages-jobs.<hash>.js`); the modules' imports of each other are
 * rewritten to those names, so a module's hash covers the modules it
 * imports and a changed page never meets a cached parent.
 * @internal
 */
export function loadDashboardUi(dir = dashboardUiDir()): DashboardUiBundle {
  const indexPath = join(dir, 'index.html');
  if (!existsSync(indexPath)) throw new Error(`the dashboard UI's files are missing (looked for ${indexPath}): was the package built with its ui folder?`);
  const root = join(dir, 'assets');
  const sources = new Map<string, Buffer>();
  const walk = (folder: string): void => {
    for (const name of readdirSync(folder)) {
      const path = join(folder, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (TYPES[extname(name)]) sources.set(relative(root, path).split(sep).join('/'), readFileSync(path));
    }
  };
  walk(root);
  const served = new Map<string, string>();
  const assets = new Map<string, DashboardUiAsset>();
  const visiting = new Set<string>();
  const serve = (file: string): string => {
    const done = served.get(file);
    if (done) return done;
    const source = sources.get(file);
    if (!source) throw new Error(`the dashboard UI imports ${file}, which it does not ship`);
    if (visiting.has(file)) throw new Error(`the dashboard UI's modules import each other in a circle through ${file}`);
    visiting.add(file);
    const ext = extname(file);
    const body =
      ext === '.js'
        ? Buffer.from(
            source.toString('utf8').replace(SPECIFIER, (_match, lead: string, quote: string, spec: string) => {
              const target = posix.normalize(posix.join(posix.dirname(file), spec));
              return `${lead}${quote}./${serve(target)}${quote}`;
            }),
          )
        : source;
    const hash = createHash('sha256').update(body).digest('hex').slice(0, 10);
    const name = `${file.slice(0, -ext.length).replaceAll('/', '-')}.${hash}${ext}`;
    visiting.delete(file);
    served.set(file, name);
    assets.set(name, { body, contentType: TYPES[ext]! });
    return name;
  };
  for (const file of sources.keys()) serve(file);
  return { index: readFileSync(indexPath, 'utf8'), assets, served };
}

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text made safe for HTML text and attribute values. @internal */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => ESCAPES[char]!);
}

/**
 * `index.html` for one request: `{{title}}`, `{{nonce}}` (a `nonce="…"`
 * attribute, or nothing), `{{theme}}` and `{{asset:<file>}}` (a served name,
 * relative to the page: `base` is what leads from the page's URL to the
 * dashboard's path, `''` at `<path>/`, `'<last segment>/'` at `<path>`).
 * @internal
 */
export function renderIndex(bundle: DashboardUiBundle, values: { title: string; theme: string; nonce: string | null; base: string }): string {
  const nonce = values.nonce === null ? '' : `nonce="${escapeHtml(values.nonce)}"`;
  return bundle.index.replace(/\{\{(\w+)(?::([\w./-]+))?\}\}/g, (match, key: string, file: string | undefined) => {
    if (key === 'title') return escapeHtml(values.title);
    if (key === 'theme') return escapeHtml(values.theme);
    if (key === 'nonce') return nonce;
    if (key === 'asset' && file) {
      const name = bundle.served.get(file);
      if (!name) throw new Error(`the dashboard UI's index.html names ${file}, which it does not ship`);
      return `${escapeHtml(values.base)}assets/${name}`;
    }
    return match;
  });
}
