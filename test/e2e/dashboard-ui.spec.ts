import { afterEach, describe, expect, it } from 'vitest';
import { startDashboard, type DashboardApp } from '../support/dashboard-app.js';

const PLATFORMS = ['express', 'fastify'] as const;

describe.each(PLATFORMS)('dashboard UI: the page and its assets (%s)', (platform) => {
  let d: DashboardApp | undefined;
  afterEach(async () => {
    await d?.close();
    d = undefined;
  });

  it('serves index.html at <path>/ with a strict CSP, and hashed assets that are immutable and typed', async () => {
    d = await startDashboard({ platform, prefix: 'admin', dashboard: { allowUnauthenticated: true, ui: { title: 'Ops <jobs>' } } });
    // Without the trailing slash, the page's URLs go through the path's last segment.
    const bare = await d.http().get('/admin/scheduler?x=1').expect(200);
    expect(bare.text).toMatch(/src="scheduler\/assets\/app\.[0-9a-f]{10}\.js"/);
    if (platform === 'express') expect((await d.http().get('/admin/scheduler/').expect(200)).text).toMatch(/src="assets\/app\./);
    const page = bare;
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toMatch(/default-src 'self'; script-src 'self'; style-src 'self'/);
    expect(page.headers['content-security-policy']).not.toMatch(/unsafe-inline/);
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.headers['x-robots-tag']).toBe('noindex, nofollow');
    expect(page.text).toContain('<title>Ops &lt;jobs&gt;</title>');
    expect(page.text).not.toMatch(/<script>|<style|style=/);
    const script = /<script type="module" src="scheduler\/(assets\/app\.[0-9a-f]{10}\.js)"\s*><\/script>/.exec(page.text)![1]!;
    const css = /<link rel="stylesheet" href="scheduler\/(assets\/base\.[0-9a-f]{10}\.css)"\s*\/>/.exec(page.text)![1]!;
    const js = await d.http().get(`/admin/scheduler/${script}`).expect(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    // The modules import each other by their hashed names: every one of them is served.
    const imports = [...String(js.text ?? js.body).matchAll(/from '\.\/([\w.-]+\.js)'/g)].map((m) => m[1]!);
    expect(imports).toContain(imports.find((name) => /^pages-jobs\.[0-9a-f]{10}\.js$/.test(name)));
    for (const name of imports) await d.http().get(`/admin/scheduler/assets/${name}`).expect(200);
    const style = await d.http().get(`/admin/scheduler/${css}`).expect(200);
    expect(style.headers['content-type']).toBe('text/css; charset=utf-8');
    await d.http().get('/admin/scheduler/assets/app.js').expect(404);
    await d.http().get('/admin/scheduler/assets/app.0000000000.js').expect(404);
  });

  it('puts the nonce on the tags and sends no CSP of its own with csp.nonce; ui: false serves no page', async () => {
    d = await startDashboard({ platform, dashboard: { allowUnauthenticated: true, csp: { nonce: (req) => `n-${String(req.headers['x-n'])}` } } });
    const page = await d.http().get('/scheduler').set('x-n', '42').expect(200);
    expect(page.headers['content-security-policy']).toBeUndefined();
    expect(page.text).toMatch(/<script type="module" src="scheduler\/assets\/app\.[0-9a-f]{10}\.js"\s+nonce="n-42"><\/script>/);
    expect(page.text).toMatch(/<link rel="stylesheet" href="scheduler\/assets\/base\.[0-9a-f]{10}\.css"\s+nonce="n-42" \/>/);
    await d.close();
    d = await startDashboard({ platform, dashboard: { allowUnauthenticated: true, ui: false, live: 'poll', refreshMs: 2000 } });
    await d.http().get('/scheduler').expect(404);
    expect((await d.http().get('/scheduler/api/config').expect(200)).body).toMatchObject({ ui: null, live: 'poll', refreshMs: 2000 });
  });

  it('runs the access guard on the page: access false is 403', async () => {
    d = await startDashboard({ platform, dashboard: { access: () => false } });
    await d.http().get('/scheduler').expect(403);
  });
});
