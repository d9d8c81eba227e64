import { Injectable } from '@nestjs/common';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError, Scheduled, type JobContext, type JobProgressEvent } from '../../lib/index.js';
import { FakeClock } from '../../lib/testing/index.js';
import { startApp, type TestApp } from '../support/app.js';
import { TEST_STORES, type TestStore } from '../support/stores.js';
import { waitFor } from '../support/wait.js';

/** Reports progress, waits at `gate` with 40 % reported, then finishes with 100. */
@Injectable()
class Import {
  open!: () => void;
  gate = new Promise<void>((resolve) => (this.open = resolve));
  refused: unknown[] = [];
  @Scheduled({ name: 'import' })
  async run(ctx: JobContext) {
    ctx.progress(10);
    for (const bad of [101, 'half', [1]]) {
      try {
        ctx.progress(bad as never);
      } catch (error) {
        this.refused.push(error);
      }
    }
    const { progress } = ctx;
    progress({ done: 2, of: 5 });
    progress(40);
    await this.gate;
    ctx.progress(100);
    return 'imported';
  }
}

describe.each(TEST_STORES)('job progress on the $kind store', ({ open }) => {
  let store: TestStore;
  let t: TestApp;
  beforeEach(async () => {
    store = await open('progress_e2e');
    t = await startApp([Import], store.options, new FakeClock(new Date(Math.ceil(Date.now() / 60_000) * 60_000)));
  });
  afterEach(async () => {
    t.get(Import).open();
    await t.close();
    await store.drop();
  });

  it('emits every report, keeps the latest (throttled) for runningJobs(), and the last one once the job ends', async () => {
    // As each event carried it: its job is the running one, which later reports change.
    const events: [string, JobProgressEvent['progress'], unknown][] = [];
    t.scheduler.on('job:progress', (e) => events.push([e.job.id, e.progress, structuredClone(e.job.progress)]));
    const job = await t.scheduler.enqueue('import', {});
    await waitFor(() => events.length === 3, 10_000, 'three progress reports');
    expect(events).toEqual([
      [job.id, 10, 10],
      [job.id, { done: 2, of: 5 }, { done: 2, of: 5 }],
      [job.id, 40, 40],
    ]);
    const importer = t.get(Import);
    expect(importer.refused).toHaveLength(3);
    for (const error of importer.refused) expect(error).toBeInstanceOf(InvalidArgumentError);

    // Within the second, only the first report is written; the rest waits for the interval.
    await waitFor(async () => (await t.scheduler.runningJobs())[0]?.progress === 10, 10_000, 'the first report stored');
    await t.clock.advance('1s');
    await waitFor(async () => (await t.scheduler.runningJobs())[0]?.progress === 40, 10_000, 'the latest report stored');

    // The last report lands before the completion, with no interval to wait.
    importer.open();
    await waitFor(async () => (await t.scheduler.status('import')).lastOutcome === 'completed', 10_000, 'the job completed');
    const status = await t.scheduler.status('import');
    expect(status.lastRun).toMatchObject({ id: job.id, state: 'completed', result: 'imported', progress: 100 });
    expect(events.at(-1)).toEqual([job.id, 100, 100]);
  });
});
