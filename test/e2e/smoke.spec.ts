import 'reflect-metadata';
import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { describe, expect, it } from 'vitest';
import { Scheduled, SchedulerModule, SchedulerService, type JobContext } from '../../lib/index.js';
import { FakeClock, SchedulerTester } from '../../lib/testing/index.js';

@Injectable()
class Jobs {
  ticks: Date[] = [];
  seen: unknown[] = [];
  @Scheduled({ every: '10s' })
  tick(ctx: JobContext) {
    this.ticks.push(ctx.scheduledAt);
  }
  @Scheduled()
  work(ctx: JobContext) {
    this.seen.push(ctx.args);
    return { ok: true };
  }
}

describe('smoke', () => {
  it('plans every ticks and runs enqueued jobs', async () => {
    const clock = new FakeClock(new Date('2026-01-01T00:00:00Z'));
    const mod = await Test.createTestingModule({
      imports: [SchedulerModule.forRoot({ clock })],
      providers: [Jobs],
    }).compile();
    const app = mod;
    await app.init();
    const tester = new SchedulerTester(app);
    const scheduler = app.get(SchedulerService);
    await scheduler.enqueue('Jobs.work', { a: 1 });
    await clock.advance('35s');
    const runs = await tester.drainQueue();
    const jobs = app.get(Jobs);
    expect(jobs.ticks.map((d) => d.toISOString())).toEqual(['2026-01-01T00:00:10.000Z', '2026-01-01T00:00:20.000Z', '2026-01-01T00:00:30.000Z']);
    expect(jobs.seen).toEqual([{ a: 1 }]);
    expect(runs.filter((r) => r.outcome === 'completed')).toHaveLength(4);
    await app.close();
    expect(clock.pendingTimers).toBe(0);
  });
});
