import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadDashboardUi, renderIndex } from '../../../lib/dashboard/dashboard-ui.assets.js';
import { resolveDashboardUiOptions } from '../../../lib/dashboard/dashboard-ui.options.js';
import { SchedulerConfigError } from '../../../lib/index.js';

describe('the dashboard UI bundle', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  const folder = (files: Record<string, string>): string => {
    dir = mkdtempSync(join(tmpdir(), 'dashboard-ui-'));
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(join(dir, name, '..'), { recursive: true });
      writeFileSync(join(dir, name), text);
    }
    return dir;
  };

  it('serves flat hashed names, rewrites the imports to them, and a changed module changes the hash of those that import it', () => {
    const files = {
      'index.html': '<script src="{{asset:app.js}}"{{nonce}}></script><title>{{title}}</title>',
      'assets/app.js': "import { a } from './pages/a.js';\nexport const b = a;",
      'assets/pages/a.js': "import { c } from '../c.js';\nexport const a = c;",
      'assets/c.js': 'export const c = 1;',
    };
    const first = loadDashboardUi(folder(files));
    const app = first.served.get('app.js')!;
    const a = first.served.get('pages/a.js')!;
    expect(a).toMatch(/^pages-a\.[0-9a-f]{10}\.js$/);
    expect(first.assets.get(app)!.body.toString()).toBe(`import { a } from './${a}';\nexport const b = a;`);
    expect(first.assets.get(a)!.body.toString()).toContain(`from './${first.served.get('c.js')!}'`);
    expect(first.assets.get(app)!.contentType).toBe('text/javascript; charset=utf-8');
    const html = renderIndex(first, { title: 'A & <B>', theme: 'auto', nonce: 'x"y', base: 'scheduler/' });
    expect(html).toBe(`<script src="scheduler/assets/${app}"nonce="x&quot;y"></script><title>A &amp; &lt;B&gt;</title>`);
    rmSync(dir!, { recursive: true });

    const second = loadDashboardUi(folder({ ...files, 'assets/c.js': 'export const c = 2;' }));
    expect(second.served.get('c.js')).not.toBe(first.served.get('c.js'));
    expect(second.served.get('pages/a.js')).not.toBe(a);
    expect(second.served.get('app.js')).not.toBe(app);
  });

  it('says what is wrong: no index.html, an import of a file it does not ship, modules that import each other', () => {
    expect(() => loadDashboardUi(folder({ 'assets/app.js': '' }))).toThrow(/the dashboard UI's files are missing \(looked for .*index\.html\)/);
    rmSync(dir!, { recursive: true });
    expect(() => loadDashboardUi(folder({ 'index.html': '', 'assets/app.js': "import './gone.js';" }))).toThrow(
      /the dashboard UI imports gone\.js, which it does not ship/,
    );
    rmSync(dir!, { recursive: true });
    expect(() => loadDashboardUi(folder({ 'index.html': '', 'assets/a.js': "import './b.js';", 'assets/b.js': "import './a.js';" }))).toThrow(
      /import each other in a circle/,
    );
  });
});

describe('the dashboard UI options', () => {
  it('fills in the defaults', () => {
    expect(resolveDashboardUiOptions({})).toEqual({
      ui: { title: 'Scheduler', environment: null, locale: null, theme: 'auto' },
      live: 'sse',
      refreshMs: 5000,
      csp: { nonce: null },
    });
    const resolved = resolveDashboardUiOptions({ ui: false, csp: { nonce: (req) => String(req.headers['x-n']) } });
    expect(resolved.ui).toBeNull();
    expect(resolved.csp.nonce!({ headers: { 'x-n': 'abc' } }, {})).toBe('abc');
  });

  it('refuses a bad theme, live mode, refreshMs, title, environment color or nonce', () => {
    const bad: Parameters<typeof resolveDashboardUiOptions>[0][] = [
      { ui: { theme: 'blue' as 'dark' } },
      { live: 'ws' as 'sse' },
      { refreshMs: 10 },
      { ui: { title: '' } },
      { ui: { environment: { label: 'prod', color: 'red; background: url(x)' } } },
      { csp: { nonce: 'abc' as unknown as () => string } },
    ];
    for (const options of bad) expect(() => resolveDashboardUiOptions(options), JSON.stringify(options)).toThrow(SchedulerConfigError);
  });
});
