import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import swc from 'unplugin-swc';
import { configDefaults, defineConfig } from 'vitest/config';

const lib = fileURLToPath(new URL('./lib/', import.meta.url));

export default defineConfig({
  plugins: [
    swc.vite({
      jsc: {
        parser: { syntax: 'typescript', decorators: true },
        transform: { legacyDecorator: true, decoratorMetadata: true },
        keepClassNames: true,
        target: 'es2022',
      },
    }),
  ],
  // The examples import the package by name: here it is this checkout's source (their own
  // installs use `file:../..`; .ci/run installs one that way too).
  resolve: {
    alias: [
      { find: /^nestjs-scheduler$/, replacement: `${lib}index.ts` },
      { find: /^nestjs-scheduler\/(.+)$/, replacement: `${lib}$1/index.ts` },
    ],
    // One copy of each, the root's, even when an example has its own node_modules (after
    // `npm install` in it): a second Nest would not see the first one's providers.
    dedupe: [
      '@nestjs/common',
      '@nestjs/core',
      '@nestjs/testing',
      '@nestjs/platform-express',
      '@nestjs/config',
      '@nestjs/terminus',
      '@nestjs/typeorm',
      'reflect-metadata',
      'rxjs',
      '@opentelemetry/api',
      'typeorm',
    ],
  },
  test: {
    include: ['test/**/*.spec.ts', 'examples/*/test/**/*.e2e-spec.ts'],
    // The browser tests have their own run (`npm run test:browser`, vitest.browser.config.ts).
    exclude: [...configDefaults.exclude, 'test/browser/**'],
    globalSetup: ['./test/support/postgres.global-setup.ts', './test/support/redis.global-setup.ts'],
    reporters: ['default', './test/support/plain-count.reporter.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // A worker keeps its modules from one file to the next (Nest, the drivers, the library): importing
    // them afresh for each of ~220 files was ~40 % of the run's CPU. The tests leave no global state
    // behind (env variables restored, real timers put back, no module mocks).
    isolate: false,
    // Vitest's default is one worker fewer than the cores: one on a 2-core machine. The tests mostly
    // wait (sockets, timers, child processes: ~55 % of two cores with two workers), so a worker more
    // than the cores.
    maxWorkers: Math.max(3, availableParallelism() + 1),
  },
});
