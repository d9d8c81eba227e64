import { defineConfig, mergeConfig } from 'vitest/config';
import root from './vitest.config.js';

/**
 * `npm run test:browser`: the dashboard's UI in real Chromium (test/browser), apart from `npm test`.
 * `npm run docs:screenshots` runs the screenshot script with it instead.
 */
export default mergeConfig(
  { ...root, test: { ...root.test, include: [], exclude: [], globalSetup: [] } },
  defineConfig({
    test: {
      include: process.env.DASHBOARD_SCREENSHOTS ? ['test/browser/screenshots.script.ts'] : ['test/browser/**/*.browser.spec.ts'],
      testTimeout: 60_000,
      hookTimeout: 60_000,
      // One browser at a time: the machine is shared.
      fileParallelism: false,
    },
  }),
);
