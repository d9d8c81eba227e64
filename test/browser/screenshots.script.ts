/**
 * `npm run docs:screenshots`: the demo app's pages as PNGs in docs/images/dashboard/ (light, and the overview
 * dark), for docs/dashboard.md. Not a test: run it after changing the UI, and commit the images.
 */
import { mkdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { launchChromium } from './support/chromium.js';
import { startDemo } from './support/demo-app.js';

const OUT = fileURLToPath(new URL('../../docs/images/dashboard/', import.meta.url));

it('saves a screenshot of every page', async () => {
  mkdirSync(OUT, { recursive: true });
  const demo = await startDemo({
    dashboard: { allowUnauthenticated: true, ui: { title: 'Acme scheduler', environment: { label: 'staging', color: '#7c3aed' } } },
  });
  const browser = await launchChromium();
  try {
    // Something in the audit trail, and a paused queue to show.
    await fetch(`${demo.url}api/queues/emails/pause`, { method: 'POST', headers: { 'x-scheduler-csrf': '1' } });
    // A schedule inserted at runtime, which the schedules page can edit (the code ones are read-only).
    await demo.scheduler.insert({ name: 'weekly-digest', handler: 'send-email', cron: '0 8 * * 1', args: { to: 'team@example.com' } });
    const shots: [string, string, 'light' | 'dark', number][] = [
      ['overview', '', 'light', 1280],
      ['overview-dark', '', 'dark', 1280],
      ['queues', '#/queues', 'light', 1280],
      ['jobs', '#/jobs', 'light', 1280],
      ['job', `#/jobs/${demo.data.deadJobs[0]}`, 'light', 1280],
      ['job-waiting', `#/jobs/${demo.data.waitingJob}`, 'light', 1280],
      ['schedules', '#/schedules', 'light', 1280],
      ['workflows', '#/workflows', 'light', 1280],
      ['workflow-run', `#/workflows/${demo.data.completedRun}`, 'light', 1280],
      ['dead-letters', '#/dead-letters', 'light', 1280],
      ['nodes', '#/nodes', 'light', 1280],
      ['audit', '#/audit', 'light', 1280],
      ['jobs-mobile', '#/jobs', 'light', 390],
    ];
    for (const [name, route, colorScheme, width] of shots) {
      const context = await browser.newContext({ colorScheme, viewport: { width, height: 800 }, locale: 'en-US', timezoneId: 'UTC' });
      const page = await context.newPage();
      await page.goto(`${demo.url}${route}`);
      await page.locator('#page-title').waitFor();
      await page.locator('main:not([aria-busy])').waitFor();
      await page.locator('#health:not([hidden])').waitFor();
      const file = `${OUT}${name}.png`;
      await page.screenshot({ path: file });
      await context.close();
      expect(statSync(file).size, name).toBeLessThan(150_000);
    }
  } finally {
    await browser.close();
    await demo.close();
  }
});
