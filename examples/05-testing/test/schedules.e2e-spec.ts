import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { SchedulerModule, SchedulerService } from 'nestjs-scheduler';
import { FakeClock, SchedulerTester } from 'nestjs-scheduler/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { AppModule, schedulerModule } from '../src/app.module.js';

/** The whole app, its scheduler swapped for one on a fake clock that starts at `start`. */
async function bootAt(start: string) {
  const clock = new FakeClock(new Date(start));
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] })
    .overrideModule(schedulerModule)
    .useModule(SchedulerModule.forRoot({ clock }))
    .compile();
  const app = moduleRef.createNestApplication();
  await app.init();
  return { app, clock, tester: new SchedulerTester(app) };
}

describe('the nightly settlement across daylight-saving changes (Europe/Paris)', () => {
  let app: INestApplication;
  afterEach(() => app.close());

  it('spring forward: 02:30 does not exist on 29 March, so that night it runs at 03:30 CEST', async () => {
    const t = await bootAt('2026-03-28T00:00:00Z');
    app = t.app;
    await t.clock.advanceTo(new Date('2026-03-30T01:00:00Z'));
    await t.tester.drainQueue();

    t.tester.assertCompleted('nightly-settlement', 3);
    expect(t.tester.runs('nightly-settlement').map((r) => [r.job.scheduledAt.toISOString(), r.result])).toEqual([
      ['2026-03-28T01:30:00.000Z', { day: '2026-03-28' }], // 02:30 CET (UTC+1)
      ['2026-03-29T01:30:00.000Z', { day: '2026-03-29' }], // 03:30 CEST: the gap's 02:30, shifted by the hour
      ['2026-03-30T00:30:00.000Z', { day: '2026-03-30' }], // 02:30 CEST (UTC+2)
    ]);
  });

  it('fall back: 02:30 happens twice on 25 October, and it runs once, at the first', async () => {
    const t = await bootAt('2026-10-24T00:00:00Z');
    app = t.app;
    await t.clock.advanceTo(new Date('2026-10-26T02:00:00Z'));
    await t.tester.drainQueue();

    expect(t.tester.runs('nightly-settlement').map((r) => r.job.scheduledAt.toISOString())).toEqual([
      '2026-10-24T00:30:00.000Z', // 02:30 CEST
      '2026-10-25T00:30:00.000Z', // the first 02:30 (CEST); not the second one at 01:30Z (CET)
      '2026-10-26T01:30:00.000Z', // 02:30 CET
    ]);
    const next = await app.get(SchedulerService).getJob('nightly-settlement');
    expect(next.nextRunAt?.toISOString()).toBe('2026-10-27T01:30:00.000Z');
  });
});
