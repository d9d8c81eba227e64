import 'reflect-metadata';
import type { INestApplication, ModuleMetadata, Provider, VersioningOptions } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import supertest from 'supertest';
import { SchedulerModule, SchedulerService, type SchedulerModuleOptions } from '../../lib/index.js';
import { SchedulerDashboardModule, type SchedulerDashboardOptions } from '../../lib/dashboard/index.js';
import { FakeClock, SchedulerTester } from '../../lib/testing/index.js';
import { afterEach, vi } from 'vitest';
import { T0 } from './app.js';
import type { TestStore } from './stores.js';

/** An HTTP app with the scheduler and its dashboard, on a fake clock. */
export interface DashboardApp {
  app: INestApplication;
  clock: FakeClock;
  scheduler: SchedulerService;
  tester: SchedulerTester;
  /** supertest against the app's server. */
  http(): ReturnType<typeof supertest>;
  close(): Promise<void>;
}

/** How to start one: the scheduler's and the dashboard's options, the platform, a global prefix. */
export interface DashboardAppOptions {
  scheduler?: SchedulerModuleOptions;
  /** `SchedulerDashboardModule.forRoot` options, or a whole dynamic module (e.g. `forRootAsync`). */
  dashboard?: SchedulerDashboardOptions | { module: NonNullable<ModuleMetadata['imports']>[number] };
  providers?: Provider[];
  imports?: NonNullable<ModuleMetadata['imports']>;
  platform?: 'express' | 'fastify';
  prefix?: string;
  versioning?: VersioningOptions;
  clock?: FakeClock;
}

/** Boots the app as a user's would (`createNestApplication`, then `init`), with the dashboard imported beside the scheduler. */
export async function startDashboard(options: DashboardAppOptions = {}): Promise<DashboardApp> {
  const clock = options.clock ?? new FakeClock(T0);
  const given = options.dashboard ?? { allowUnauthenticated: true };
  const dashboard = 'module' in given ? given.module : SchedulerDashboardModule.forRoot(given);
  const moduleRef = await Test.createTestingModule({
    imports: [SchedulerModule.forRoot({ clock, ...options.scheduler }), dashboard, ...(options.imports ?? [])],
    providers: options.providers ?? [],
  }).compile();
  const fastify = options.platform === 'fastify';
  const app = fastify ? moduleRef.createNestApplication(new FastifyAdapter()) : moduleRef.createNestApplication({ logger: false });
  if (fastify) app.useLogger(false);
  if (options.prefix) app.setGlobalPrefix(options.prefix);
  if (options.versioning) app.enableVersioning(options.versioning);
  await app.init();
  if (fastify) await (app.getHttpAdapter().getInstance() as { ready(): Promise<unknown> }).ready();
  return {
    app,
    clock,
    scheduler: app.get(SchedulerService),
    tester: new SchedulerTester(app),
    http: () => supertest(app.getHttpServer()),
    close: () => app.close(),
  };
}

/** The header every dashboard action carries. */
export const CSRF = { 'x-scheduler-csrf': '1' } as const;

/**
 * A web node's dashboard (`queues: false`: nothing claims on its own; the
 * tester drains when a test wants jobs run) on a store each test opens
 * afresh under `label`; a second call in a test restarts the app on the
 * same store. The app is closed, the store dropped and mocks restored
 * after each test. Call it in a `describe` body.
 */
export function webDashboardPerTest(open: (label: string) => Promise<TestStore>, label: string) {
  let app: DashboardApp | undefined;
  let store: TestStore | undefined;
  afterEach(async () => {
    await app?.close();
    await store?.drop();
    app = store = undefined;
    vi.restoreAllMocks();
  });
  // A second call in a test closes the first app and starts another on the same store.
  return async (options: DashboardAppOptions = {}): Promise<DashboardApp> => {
    store ??= await open(label);
    await app?.close();
    app = await startDashboard({ ...options, scheduler: { ...store.options, queues: false, ...options.scheduler } });
    return app;
  };
}
