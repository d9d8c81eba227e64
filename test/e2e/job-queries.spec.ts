import { Injectable } from '@nestjs/common';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError, JobNotFoundError, Scheduled, Worker, type JobWorker } from '../../lib/index.js';
import { startApp, type TestApp } from '../support/app.js';

@Worker({ name: 'mail' })
class Mail implements JobWorker<{ n: number }> {
  perform() {}
}

@Injectable()
class Jobs {
  @Scheduled({ name: 'nightly', cron: '0 3 * * *', zone: 'America/New_York' })
  nightly() {}
}

describe('SchedulerService.findJob, listJobs, nextRuns (memory)', () => {
  let t: TestApp;
  afterEach(() => t?.close());

  it('finds a job by id; lists by filter a page at a time; refuses bad arguments', async () => {
    t = await startApp([Mail, Jobs], { queues: false });
    const jobs = [];
    for (let n = 0; n < 4; n++) jobs.push(await t.scheduler.enqueue('mail', { n }, n === 3 ? { queue: 'other' } : {}));
    expect((await t.scheduler.findJob(jobs[1]!.id))?.args).toEqual({ n: 1 });
    expect(await t.scheduler.findJob('123456789')).toBeNull();
    await expect(t.scheduler.findJob('mail')).rejects.toBeInstanceOf(InvalidArgumentError);

    const ids = (list: { id: string }[]) => list.map((job) => job.id);
    expect(ids(await t.scheduler.listJobs())).toEqual(ids([...jobs].reverse()));
    expect(ids(await t.scheduler.listJobs({ name: 'mail', queue: 'default', limit: 2 }))).toEqual([jobs[2]!.id, jobs[1]!.id]);
    expect(ids(await t.scheduler.listJobs({ queue: 'default', afterId: jobs[1]!.id }))).toEqual([jobs[0]!.id]);
    expect(ids(await t.scheduler.listJobs({ afterId: jobs[1]!.id, order: 'asc' }))).toEqual([jobs[2]!.id, jobs[3]!.id]);
    expect(await t.scheduler.listJobs({ states: ['running'] })).toEqual([]);
    for (const bad of [{ limit: 0 }, { limit: 10_001 }, { states: ['lost'] }, { afterId: 'x' }, { order: 'up' }]) {
      await expect(t.scheduler.listJobs(bad as never)).rejects.toBeInstanceOf(InvalidArgumentError);
    }
  });

  it('gives the next ticks of a schedule in its zone, from now or a given time', async () => {
    t = await startApp([Mail, Jobs], { queues: false });
    // 03:00 in New York is 08:00 UTC in winter.
    expect(t.scheduler.nextRuns('nightly', 2)).toEqual([new Date('2026-01-01T08:00:00Z'), new Date('2026-01-02T08:00:00Z')]);
    expect(t.scheduler.nextRuns('nightly')).toHaveLength(5);
    expect(t.scheduler.nextRuns('nightly', 1, new Date('2026-07-01T00:00:00Z'))).toEqual([new Date('2026-07-01T07:00:00Z')]);
    await t.clock.advance('1d');
    expect(t.scheduler.nextRuns('nightly', 1)).toEqual([new Date('2026-01-02T08:00:00Z')]);
    expect(() => t.scheduler.nextRuns('mail')).toThrow(JobNotFoundError);
    expect(() => t.scheduler.nextRuns('nightly', 0)).toThrow(InvalidArgumentError);
    expect(() => t.scheduler.nextRuns('nightly', 1, new Date(Number.NaN))).toThrow(InvalidArgumentError);
  });
});
