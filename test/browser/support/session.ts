import type { Browser, Page } from 'playwright-core';
import { watchErrors } from './chromium.js';

/** A tab on the dashboard, and the errors it logged. */
export interface Tab {
  page: Page;
  errors: string[];
  /** Opens a client route (`#/jobs`) and waits for its heading. */
  go(route: string, heading: string | RegExp): Promise<void>;
}

/** Opens the dashboard at `url` in a fresh context (its own localStorage). */
export async function openTab(browser: Browser, url: string, options: { colorScheme?: 'light' | 'dark'; width?: number } = {}): Promise<Tab> {
  const context = await browser.newContext({ colorScheme: options.colorScheme ?? 'light', viewport: { width: options.width ?? 1280, height: 900 } });
  const page = await context.newPage();
  const errors = watchErrors(page);
  const go = async (route: string, heading: string | RegExp) => {
    await page.goto(`${url}${route}`);
    await page.locator('#page-title', { hasText: heading }).waitFor();
    await page.locator('main:not([aria-busy])').waitFor();
  };
  return { page, errors, go };
}
