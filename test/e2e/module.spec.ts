import { Injectable, Logger, Module, Scope } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Scheduled, SchedulerConfigError, SchedulerModule, SchedulerService, Worker, type JobContext, type JobWorker } from '../../lib/index.js';
import { FakeClock, SchedulerTester } from '../../lib/testing/index.js';
import { T0, bootstrapError, startApp } from '../support/app.js';

@Injectable()
class ManyJobs {
  runs: string[] = [];
  @Scheduled({ every: '1m' })
  a() {
    this.runs.push('a');
  }
  @Scheduled({ cron: '*/30 * * * * *', name: 'half-minute', priority: 3 })
  b() {
    this.runs.push('b');
  }
  @Scheduled({ queue: 'other' })
  c() {
    this.runs.push('c');
  }
  notAJob() {
    return 1;
  }
}

@Worker({ name: 'export', maxRetries: 1 })
class ExportWorker implements JobWorker<{ day: string }> {
  days: string[] = [];
  perform(ctx: JobContext<{ day: string }>) {
    this.days.push(ctx.args.day);
    return { rows: 3 };
  }
}

describe('SchedulerModule', () => {
  afterEach(() => vi.restoreAllMocks());

  it('discovers every decorated method and worker with its own options', async () => {
    const t = await startApp([ManyJobs, ExportWorker], { queues: { default: 2, other: 1 } });
    const all = await t.scheduler.all();
    expect(all.map((j) => j.name).sort()).toEqual(['ManyJobs.a', 'ManyJobs.c', 'export', 'half-minute']);
    const b = await t.scheduler.getJob('half-minute');
    expect(b).toMatchObject({ kind: 'cron', cron: '*/30 * * * * *', priority: 3, source: 'ManyJobs.b', origin: 'static' });
    expect((await t.scheduler.getJob('ManyJobs.c')).queue).toBe('other');
    expect((await t.scheduler.getJob('export')).maxRetries).toBe(1);
    await t.scheduler.enqueue(ExportWorker, { day: '2026-11-22' });
    await t.clock.advance('1m');
    await t.tester.drainQueue();
    expect(t.get(ExportWorker).days).toEqual(['2026-11-22']);
    expect(t.get(ManyJobs).runs.sort()).toEqual(['a', 'b', 'b']);
    await t.close();
  });

  it('forRootAsync takes options from a factory with injected dependencies', async () => {
    const clock = new FakeClock(T0);
    @Injectable()
    class Config {
      queues = { default: 3 };
    }
    @Module({ providers: [Config], exports: [Config] })
    class ConfigModule {}
    const app = await Test.createTestingModule({
      imports: [
        SchedulerModule.forRootAsync({
          imports: [ConfigModule],
          inject: [Config],
          useFactory: (config: Config) => ({ clock, queues: { ...config.queues, other: 1 } }),
        }),
      ],
      providers: [ManyJobs],
    }).compile();
    await app.init();
    const stats = await app.get(SchedulerService).queueStats('default');
    expect(stats.concurrency).toBe(3);
    await app.close();
  });

  it('is global: a feature module injects SchedulerService without importing the module', async () => {
    @Injectable()
    class Feature {
      constructor(readonly scheduler: SchedulerService) {}
    }
    @Module({ providers: [Feature] })
    class FeatureModule {}
    const app = await Test.createTestingModule({ imports: [SchedulerModule.forRoot({ clock: new FakeClock(T0) }), FeatureModule] }).compile();
    await app.init();
    expect(app.get(Feature).scheduler).toBeInstanceOf(SchedulerService);
    await app.close();
  });

  it('imported twice, registers and runs nothing twice', async () => {
    const clock = new FakeClock(T0);
    const queues = { default: 2, other: 1 };
    @Module({ imports: [SchedulerModule.forRoot({ clock, queues })], providers: [ManyJobs] })
    class FeatureModule {}
    const warn = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const app = await Test.createTestingModule({ imports: [SchedulerModule.forRoot({ clock, queues }), FeatureModule] }).compile();
    await app.init();
    const tester = new SchedulerTester(app);
    await clock.advance('1m');
    await tester.drainQueue();
    expect(app.get(ManyJobs).runs.sort()).toEqual(['a', 'b', 'b']);
    expect((await app.get(SchedulerService).all()).length).toBe(3);
    await app.close();
    warn.mockRestore();
  });

  it('warns about a request-scoped provider instead of crashing', async () => {
    @Injectable({ scope: Scope.REQUEST })
    class PerRequest {
      @Scheduled({ every: '1m' })
      run() {}
    }
    const warn = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const t = await startApp([PerRequest]);
    expect(warn.mock.calls.some(([m]) => String(m).includes('PerRequest') && String(m).includes('request'))).toBe(true);
    expect(await t.scheduler.all()).toEqual([]);
    await t.close();
  });

  describe('bootstrap validation', () => {
    const cases: [string, object, string][] = [
      ['an invalid cron', { cron: '61 * * * *' }, 'cron'],
      ['an invalid zone', { cron: '0 * * * *', zone: 'Mars/Olympus' }, 'zone'],
      ['an invalid duration', { every: '5 parsecs' }, 'every'],
      ['an invalid timeout', { timeout: 'soon' }, 'timeout'],
      ['a priority above 9', { priority: 10 }, 'priority'],
      ['a negative priority', { priority: -1 }, 'priority'],
      ['negative maxRetries', { maxRetries: -1 }, 'maxRetries'],
      ['an unknown queue', { queue: 'nope' }, 'queue'],
      ['@reboot mixed with other expressions', { cron: ['@reboot', '0 * * * *'] }, 'cron'],
      ['an unknown overlap', { every: '1m', overlap: 'sometimes' }, 'overlap'],
      ['a bad misfire policy', { every: '1m', misfire: 'later' }, 'misfire'],
      ['a unique that is not a boolean, key or object', { unique: 42 as unknown as boolean }, 'unique'],
      ['a unique object with an unknown state', { unique: { states: ['queued' as 'running'] } }, 'unique.states'],
      ['a unique object with a period of zero', { unique: { period: 0 } }, 'unique.period'],
      ['an at past year 9999', { at: new Date('+010000-01-01T00:00:00.000Z') }, 'at'],
      ['an at before year 1', { at: new Date('-000001-01-01T00:00:00.000Z') }, 'at'],
      ['a name with a lone surrogate', { name: 'report\uD800' }, 'name'],
    ];
    for (const [what, options, option] of cases) {
      it(`stops bootstrap on ${what}, naming Class.method and the option`, async () => {
        @Injectable()
        class Broken {
          @Scheduled(options)
          job() {}
        }
        const error = await bootstrapError([Broken]);
        expect(error).toBeInstanceOf(SchedulerConfigError);
        expect((error as Error).message).toContain('Broken.job');
        expect((error as SchedulerConfigError).option).toBe(option);
      });
    }

    it('stops bootstrap on a duplicate job name, naming both', async () => {
      @Injectable()
      class One {
        @Scheduled({ name: 'same' })
        job() {}
      }
      @Injectable()
      class Two {
        @Scheduled({ name: 'same' })
        other() {}
      }
      const error = await bootstrapError([One, Two]);
      expect(error).toBeInstanceOf(SchedulerConfigError);
      expect((error as Error).message).toMatch(/Two\.other.*"same".*One\.job/);
    });

    it('stops bootstrap on a worker without perform()', async () => {
      @Worker({ name: 'lazy' })
      class Lazy {}
      const error = await bootstrapError([Lazy]);
      expect(error).toBeInstanceOf(SchedulerConfigError);
      expect((error as Error).message).toContain('perform');
    });

    it('rejects bad module options', async () => {
      expect(await bootstrapError([], { queues: { default: 0 } })).toBeInstanceOf(SchedulerConfigError);
      expect(await bootstrapError([], { pollInterval: 'often' })).toBeInstanceOf(SchedulerConfigError);
      expect(await bootstrapError([], { queues: {} })).toBeInstanceOf(SchedulerConfigError);
    });
  });
});
