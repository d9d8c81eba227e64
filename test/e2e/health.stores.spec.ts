import { Logger } from '@nestjs/common';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Worker, type JobWorker } from '../../lib/index.js';
import { startApp, type TestApp } from '../support/app.js';
import { TEST_STORES, type TestStore } from '../support/stores.js';

@Worker({ name: 'later' })
class Later implements JobWorker<Record<string, never>> {
  perform() {}
}

describe.each(TEST_STORES)('health on the $kind store', ({ kind, open }) => {
  let t: TestApp | undefined;
  let store: TestStore | undefined;
  afterEach(async () => {
    await t?.close();
    await store?.drop();
    t = store = undefined;
    vi.restoreAllMocks();
  });

  it('every check answers; a job nobody claims makes lag degraded past warnMs', async () => {
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    store = await open(`health_${kind}`);
    // A web node: it enqueues, no node here claims.
    t = await startApp([Later], { ...store.options, queues: false, nodeName: `web-${kind}` });
    await t.scheduler.enqueue('later', {});
    const first = await t.scheduler.health();
    expect(first.status).toBe('up');
    expect(first.checks).toMatchObject({
      loop: { status: 'up' },
      store: { status: 'up' },
      leader: { status: 'up', leader: `web-${kind}` },
      lag: { status: 'up', lagMs: 0 },
      stuck: { status: 'up', count: 0 },
      deadLetters: { status: 'up', count: 0 },
    });
    expect((await t.scheduler.health({ checks: 'readiness' })).status).toBe('up');
    expect((await t.scheduler.health({ checks: 'startup' })).status).toBe('up');
    await t.clock.advance('61s');
    const late = await t.scheduler.health({ checks: ['lag'] });
    expect(late.checks.lag).toMatchObject({ status: 'degraded', lagMs: 61_000 });
    expect(late.queues).toEqual([{ queue: 'default', lagMs: 61_000, available: 1, paused: false, runners: 0 }]);
    // A paused job name's jobs wait on purpose: counted, not judged. Resumed, they lag again.
    await t.scheduler.pauseJob('later');
    await t.clock.advance('6s');
    const paused = await t.scheduler.health({ checks: ['lag'] });
    expect(paused.checks.lag).toMatchObject({ status: 'up', lagMs: 0 });
    expect(paused.queues).toEqual([{ queue: 'default', lagMs: 0, available: 1, paused: false, runners: 0 }]);
    await t.scheduler.resumeJob('later');
    await t.clock.advance('6s');
    expect((await t.scheduler.health({ checks: ['lag'] })).checks.lag).toMatchObject({ status: 'degraded', lagMs: 73_000 });
  });
});
