import { Logger } from '@nestjs/common';
import type { TestingModule } from '@nestjs/testing';
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SchedulerService, type SchedulerModuleOptions } from '../../lib/index.js';
import { channelName } from '../../lib/postgres/postgres.connection.js';
import { databaseUrl, withClient } from '../support/postgres.js';
import { bootApp, HeldJobs } from '../support/postgres/apps.js';
import { waitFor } from '../support/wait.js';

/**
 * Two deployments in one database whose (schema, prefix) pairs read alike:
 * `<base>_b` + `c_` and `<base>` + `b_c_` (both "<base>_b_c_"). Fresh tables
 * give both the same job ids.
 */
describe('deployments that share a database', () => {
  const url = databaseUrl();
  const base = `dp${randomBytes(5).toString('hex')}`;
  const one = { schema: `${base}_b`, tablePrefix: 'c_' };
  const two = { schema: base, tablePrefix: 'b_c_' };
  const apps: TestingModule[] = [];
  beforeEach(() => {
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
    await withClient(url, (c) => c.query(`DROP SCHEMA IF EXISTS "${one.schema}" CASCADE; DROP SCHEMA IF EXISTS "${two.schema}" CASCADE`));
    vi.restoreAllMocks();
  });

  async function start(deployment: { schema: string; tablePrefix: string }, options: Partial<SchedulerModuleOptions> = {}) {
    // Polling an hour apart: every job here starts because a notice woke its node.
    const app = await bootApp({ store: { type: 'postgres', url, ...deployment }, pollInterval: '1h', peer: { leaseTtl: '3s' }, ...options });
    apps.push(app);
    return app;
  }
  const state = async (deployment: { schema: string; tablePrefix: string }, id: string) =>
    withClient(
      url,
      async (c) => (await c.query(`SELECT state FROM "${deployment.schema}"."${deployment.tablePrefix}jobs" WHERE id = $1`, [id])).rows[0]?.state,
    );

  it("listen on different channels, and a cancel in one never aborts the other's running job with the same id", async () => {
    expect(channelName(one.schema, one.tablePrefix)).not.toBe(channelName(two.schema, two.tablePrefix));
    const a = await start(one);
    const b = await start(two);
    const jobA = await a.get(SchedulerService).enqueue('hold');
    const jobB = await b.get(SchedulerService).enqueue('hold');
    expect(jobA.id).toBe(jobB.id);
    await waitFor(() => a.get(HeldJobs).holds.has(jobA.id) && b.get(HeldJobs).holds.has(jobB.id), 5_000, 'both jobs to start');
    expect(await a.get(SchedulerService).cancelJob(jobA.id)).toBe(1);
    await waitFor(() => a.get(HeldJobs).aborted.length === 1, 5_000, 'the cancelled job to abort');
    // Notices reach a listener in commit order: once b has run a job that a later notice woke it for,
    // a cancel notice on its channel would have arrived before.
    const later = await b.get(SchedulerService).enqueue('hold');
    await waitFor(() => b.get(HeldJobs).holds.has(later.id), 5_000, 'the later job on the other deployment');
    expect(b.get(HeldJobs).aborted).toEqual([]);
    expect(await state(two, jobB.id)).toBe('running');
    expect(await state(one, jobA.id)).toBe('cancelled');
    for (const release of b.get(HeldJobs).holds.values()) release();
    await waitFor(async () => (await state(two, jobB.id)) === 'completed', 5_000, "the other deployment's job to complete");
  });

  it('each has a leader of its own and sees only its own jobs', async () => {
    const a = await start(one);
    const b = await start(two);
    await waitFor(() => a.get(SchedulerService).isLeader() && b.get(SchedulerService).isLeader(), 5_000, 'a leader in each deployment');
    const job = await a.get(SchedulerService).enqueue('work', { ms: 1 });
    await waitFor(async () => (await state(one, job.id)) === 'completed', 5_000, 'the job to complete');
    expect(a.get(HeldJobs).finished).toEqual([job.id]);
    expect(b.get(HeldJobs).finished).toEqual([]);
    expect(await b.get(SchedulerService).listJobs()).toEqual([]);
    expect(await b.get(SchedulerService).findJob(job.id)).toBeNull();
  });

  it('a cancel with a 10 KB reason still aborts the running job on another node, with the reason from the store', async () => {
    const worker = await start(one);
    const web = await start(one, { queues: false, peer: false });
    const cancels: string[] = [];
    worker.get(SchedulerService).on('job:cancel', (event) => void cancels.push(event.reason));
    const job = await web.get(SchedulerService).enqueue('hold');
    await waitFor(() => worker.get(HeldJobs).holds.has(job.id), 5_000, 'the job to start');
    const reason = 'x'.repeat(10_000);
    expect(await web.get(SchedulerService).cancelJob(job.id, { reason })).toBe(1);
    await waitFor(() => worker.get(HeldJobs).aborted.length === 1, 5_000, 'the job to abort');
    // "cancel", not "lease-lost": the notice arrived; a lost one leaves it to the next heartbeat.
    expect(worker.get(HeldJobs).aborted).toEqual([{ id: job.id, reason: 'cancel' }]);
    await waitFor(() => cancels.length === 1, 5_000, 'the job:cancel event');
    expect(cancels[0]!.startsWith('x'.repeat(1_000))).toBe(true);
  });
});
