import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Injectable, Logger, Module, type INestApplicationContext, type NestApplicationOptions } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { createObserveModule } from '@nestjs/observe';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Scheduled, SchedulerModule, SchedulerService, Step, Worker, Workflow, type JobContext, type JobWorker } from '../../lib/index.js';
import { FakeClock } from '../../lib/testing/index.js';
import { T0 } from '../support/app.js';

/**
 * Apps whose providers are wrapped by an `instrument.instanceDecorator`, as an
 * APM agent does and as the `nest new` scaffold wires `@nestjs/observe`. The
 * container then holds proxies, and methods may run with the raw instance as
 * their receiver: the module must never compare provider instances by
 * identity, nor read decorator metadata off an instance's (wrapped) methods.
 */

@Injectable()
class Ledger {
  readonly runs: string[] = [];
}

@Injectable()
class TickJobs {
  constructor(private readonly ledger: Ledger) {}
  @Scheduled({ every: '1m', name: 'minutely' })
  minutely() {
    this.ledger.runs.push('minutely');
  }
}

@Worker({ name: 'export' })
class ExportWorker implements JobWorker<{ day: string }> {
  constructor(private readonly ledger: Ledger) {}
  perform(ctx: JobContext<{ day: string }>) {
    this.ledger.runs.push(`export:${ctx.args.day}`);
    return { ok: true };
  }
}

@Workflow({ name: 'greet' })
class Greeting {
  constructor(private readonly ledger: Ledger) {}
  @Step()
  hello() {
    this.ledger.runs.push('step:hello');
  }
}

/** Wraps every object in a Proxy whose methods run on the raw instance (the usual APM wrapper). */
function wrappingDecorator(seen: Set<string>): (instance: unknown) => unknown {
  return (instance) => {
    if (instance === null || typeof instance !== 'object') return instance;
    return new Proxy(instance, {
      get(target, key, receiver) {
        const value: unknown = Reflect.get(target, key, receiver);
        if (typeof value !== 'function' || key === 'constructor') return value;
        const ctor = (target as { constructor?: { name?: string } }).constructor?.name ?? 'Object';
        return function wrapped(...args: unknown[]) {
          seen.add(`${ctor}.${String(key)}`);
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  };
}

async function boot(clock: FakeClock, instrument: NestApplicationOptions['instrument'], imports: unknown[] = []): Promise<INestApplicationContext> {
  @Module({
    imports: [...(imports as never[]), SchedulerModule.forRoot({ clock })],
    providers: [Ledger, TickJobs, ExportWorker, Greeting],
  })
  class AppModule {}
  return NestFactory.createApplicationContext(AppModule, { instrument, logger: false });
}

async function waitFor(check: () => boolean, clock: FakeClock): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await clock.advance(0);
  expect(check()).toBe(true);
}

describe('an app whose providers are wrapped by an instanceDecorator', () => {
  afterEach(() => vi.restoreAllMocks());

  it('plans schedules and runs enqueued jobs; no "imported more than once"', async () => {
    const warn = vi.spyOn(Logger.prototype, 'warn');
    const seen = new Set<string>();
    const clock = new FakeClock(T0);
    const app = await boot(clock, { instanceDecorator: wrappingDecorator(seen) });
    try {
      const ledger = app.get(Ledger);
      await app.get(SchedulerService).enqueue('export', { day: '2026-01-01' });
      await waitFor(() => ledger.runs.includes('export:2026-01-01'), clock);
      await clock.advance(60_000);
      await waitFor(() => ledger.runs.includes('minutely'), clock);
      await app.get(SchedulerService).workflows.start('greet', {});
      await waitFor(() => ledger.runs.includes('step:hello'), clock);
      expect(seen.has('SchedulerService.enqueue')).toBe(true); // the decorator did wrap our providers
      expect(warn.mock.calls.map((c) => String(c[0])).filter((m) => m.includes('more than once'))).toEqual([]);
    } finally {
      await app.close();
    }
  });

  it('still refuses a second SchedulerModule import, first import wins', async () => {
    const warn = vi.spyOn(Logger.prototype, 'warn');
    const clock = new FakeClock(T0);
    @Module({ imports: [SchedulerModule.forRoot({ clock })], exports: [] })
    class Feature {}
    const app = await boot(clock, { instanceDecorator: wrappingDecorator(new Set()) }, [Feature]);
    try {
      const ledger = app.get(Ledger);
      await app.get(SchedulerService).enqueue('export', { day: 'd' });
      await waitFor(() => ledger.runs.includes('export:d'), clock);
      expect(ledger.runs.filter((r) => r === 'export:d')).toHaveLength(1);
      expect(warn.mock.calls.map((c) => String(c[0])).filter((m) => m.includes('more than once'))).toHaveLength(1);
    } finally {
      await app.close();
    }
  });
});

describe('an app wired as the `nest new` scaffold does, with @nestjs/observe', () => {
  // The agent ships telemetry from a worker thread: give it a local collector (no network).
  let collector: Server;
  let endpoint: string;
  beforeAll(async () => {
    collector = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(204).end());
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => collector.close(() => resolve())));

  it('plans schedules and runs enqueued jobs', async () => {
    const { ObserveModule, ObserveInstrument } = createObserveModule();
    const clock = new FakeClock(T0);
    const observe = ObserveModule.forRoot({ appKey: 'test', appSecret: 'test', serviceId: 'scheduler-test', endpoint, runtimeMetrics: false });
    const app = await boot(clock, ObserveInstrument, [observe]);
    try {
      const ledger = app.get(Ledger);
      await app.get(SchedulerService).enqueue('export', { day: '2026-01-02' });
      await waitFor(() => ledger.runs.includes('export:2026-01-02'), clock);
      await clock.advance(60_000);
      await waitFor(() => ledger.runs.includes('minutely'), clock);
      await app.get(SchedulerService).workflows.start('greet', {});
      await waitFor(() => ledger.runs.includes('step:hello'), clock);
    } finally {
      await app.close();
    }
  });
});
