import 'reflect-metadata';
import type { Provider, Type } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { SchedulerModule, SchedulerService, type SchedulerModuleOptions } from '../../lib/index.js';
import { FakeClock, SchedulerTester } from '../../lib/testing/index.js';

/** A started test app on a fake clock. */
export interface TestApp {
  app: TestingModule;
  clock: FakeClock;
  scheduler: SchedulerService;
  tester: SchedulerTester;
  get<T>(type: Type<T>): T;
  close(): Promise<void>;
}

export const T0 = new Date('2026-01-01T00:00:00Z');

/** Boots `SchedulerModule.forRoot` with `providers`, as a user's test would. */
export async function startApp(providers: Provider[], options: SchedulerModuleOptions = {}, clock = new FakeClock(T0)): Promise<TestApp> {
  const app = await Test.createTestingModule({
    imports: [SchedulerModule.forRoot({ clock, ...options })],
    providers,
  }).compile();
  await app.init();
  return {
    app,
    clock,
    scheduler: app.get(SchedulerService),
    tester: new SchedulerTester(app),
    get: (type) => app.get(type),
    close: () => app.close(),
  };
}

/** Compiles and inits a module, resolving to the error bootstrap threw. */
export async function bootstrapError(providers: Provider[], options: SchedulerModuleOptions = {}): Promise<unknown> {
  try {
    const app = await Test.createTestingModule({ imports: [SchedulerModule.forRoot({ clock: new FakeClock(T0), ...options })], providers }).compile();
    await app.init();
    await app.close();
  } catch (error) {
    return error;
  }
  throw new Error('bootstrap succeeded');
}
