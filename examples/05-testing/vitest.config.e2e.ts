import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { tsconfigPaths: true },
  test: {
    globals: true,
    root: './',
    include: ['**/*.e2e-spec.ts'],
    // The daylight-saving tests move a fake clock over two days, firing every timer on the way: a few
    // seconds, near vitest's default of 5 s on a busy machine.
    testTimeout: 20_000,
  },
});
