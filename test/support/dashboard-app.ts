import 'reflect-metadata';
import type { INestApplication, ModuleMetadata, Provider, VersioningOptions } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import supertest from 'supertest';
import { SchedulerModule, SchedulerService, type SchedulerModuleOptions } from '../../lib/index.js';
import { SchedulerDashboardModule, type SchedulerDashboardOptions } from '../../lib/dashboard/index.js';
import { FakeClock, SchedulerTester } from '../../lib/testing/index.js';
import { T0 } from './app.js';

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
