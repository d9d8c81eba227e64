import { Injectable } from '@nestjs/common';
import { afterEach, describe, expect, it } from 'vitest';
import { DiscardJobError, Scheduled, SchedulerConfigError, type JobContext } from '../../lib/index.js';
import type { DashboardHistory } from '../../lib/dashboard/index.js';
import { T0 } from '../support/app.js';
import { startDashboard, type DashboardApp } from '../support/dashboard-app.js';

@Injectable()
class Work {
  @Scheduled({ name: 'ok' })
  ok() {}
  @Scheduled({ name: 'flaky', maxRetries: 1, backoff: '20s' })
  flaky(ctx: JobContext) {
    throw new Error(`boom ${ctx.attempt}`);
  }
  @Scheduled({ name: 'bye' })
  bye() {
    throw new DiscardJobError('not wanted');
  }
}

const API = '/scheduler/api';
const at = (ms: number) => new Date(T0.getTime() + ms).toISOString();

describe('dashboard: GET api/metrics/history (memory store, fake clock)', () => {
  let app: DashboardApp | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('samples this node’s work every historyIntervalMs from events, keeps historySize samples, and filters by range', async () => {
    app = await startDashboard({ providers: [Work], dashboard: { allowUnauthenticated: true, historyIntervalMs: 10_000, historySize: 3 } });
    const { scheduler, tester, clock } = app;
    await scheduler.enqueueMany('ok', [{}, {}, {}]);
    await scheduler.enqueue('flaky', {});
    await scheduler.enqueue('bye', {});
    await tester.drainQueue();
    await clock.advance('10s'); // first sample
    await clock.advance('10s'); // an empty one; flaky's retry is due at 20 s and runs in the next
    await tester.drainQueue();
    await clock.advance('10s');
    const first = (await app.http().get(`${API}/metrics/history`).expect(200)).body as DashboardHistory;
    expect(first.intervalMs).toBe(10_000);
    expect(
      first.samples.map((s) => ({ ...s, meanDurationMs: s.meanDurationMs === null ? null : 'ms', maxDurationMs: s.maxDurationMs === null ? null : 'ms' })),
    ).toEqual([
      { at: at(10_000), started: 5, completed: 3, retried: 1, dead: 0, discarded: 1, cancelled: 0, running: 0, meanDurationMs: 'ms', maxDurationMs: 'ms' },
      { at: at(20_000), started: 0, completed: 0, retried: 0, dead: 0, discarded: 0, cancelled: 0, running: 0, meanDurationMs: null, maxDurationMs: null },
      { at: at(30_000), started: 1, completed: 0, retried: 0, dead: 1, discarded: 0, cancelled: 0, running: 0, meanDurationMs: 'ms', maxDurationMs: 'ms' },
    ]);
    await clock.advance('10s'); // a fourth: the oldest goes
    const kept = (await app.http().get(`${API}/metrics/history`).expect(200)).body as DashboardHistory;
    expect(kept.samples.map((s) => s.at)).toEqual([at(20_000), at(30_000), at(40_000)]);
    const recent = (await app.http().get(`${API}/metrics/history?range=15s`).expect(200)).body as DashboardHistory;
    expect(recent.samples.map((s) => s.at)).toEqual([at(30_000), at(40_000)]);
    await app.http().get(`${API}/metrics/history?range=soon`).expect(400);
  });

  it('historySize 0 keeps no history; a bad interval fails bootstrap', async () => {
    app = await startDashboard({ providers: [Work], dashboard: { allowUnauthenticated: true, historySize: 0 } });
    await app.clock.advance('1m');
    expect(((await app.http().get(`${API}/metrics/history`).expect(200)).body as DashboardHistory).samples).toEqual([]);
    await app.close();
    app = undefined;
    await expect(startDashboard({ dashboard: { allowUnauthenticated: true, historyIntervalMs: 5 } })).rejects.toBeInstanceOf(SchedulerConfigError);
  });
});
