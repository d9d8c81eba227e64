import { Injectable, Logger, Scope } from '@nestjs/common';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { JobNotFoundError, Scheduled, SchedulerConfigError, Step, Worker, Workflow, type JobContext, type JobWorker } from '../../lib/index.js';
import { bootstrapError, startApp } from '../support/app.js';

/** A @Worker class named `Export`, as two modules of one app might each declare. */
function exportWorker(name: string) {
  @Worker({ name })
  class Export implements JobWorker<{ n: number }> {
    seen: number[] = [];
    perform(ctx: JobContext<{ n: number }>) {
      this.seen.push(ctx.args.n);
    }
  }
  return Export;
}

describe('discovery', () => {
  afterEach(() => vi.restoreAllMocks());

  it('finds a @Worker class by identity: two classes with one name each run their own jobs', async () => {
    const Billing = exportWorker('billing-export');
    const Audit = exportWorker('audit-export');
    expect(Billing.name).toBe(Audit.name);
    const t = await startApp([Billing, Audit]);
    await t.scheduler.enqueue(Audit, { n: 1 });
    await t.scheduler.enqueue(Billing, { n: 2 });
    await t.tester.drainQueue();
    expect(t.get(Audit).seen).toEqual([1]);
    expect(t.get(Billing).seen).toEqual([2]);
    await t.close();
  });

  it('refuses to enqueue a class that is not a registered @Worker, even one named like a job', async () => {
    @Injectable()
    class Jobs {
      @Scheduled({ name: 'Report' })
      run() {}
    }
    class Report {}
    const t = await startApp([Jobs]);
    const error = await t.scheduler.enqueue(Report as never, {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobNotFoundError);
    expect((error as Error).message).toBe('@Worker class "Report" not found');
    expect(await t.scheduler.history('Report')).toEqual([]);
    await t.close();
  });

  it('stops bootstrap for a @Scheduled method in a @Workflow class, pointing to the workflow schedule', async () => {
    @Workflow({ name: 'orders' })
    class Orders {
      @Step() reserve() {}
      @Scheduled({ cron: '0 * * * *' })
      @Step({ after: 'reserve' })
      charge() {}
    }
    const error = await bootstrapError([Orders]);
    expect(error).toBeInstanceOf(SchedulerConfigError);
    expect(error).toMatchObject({ source: 'Orders.charge', option: 'Scheduled' });
    expect((error as Error).message).toContain('@Workflow({ name, schedule: { cron } })');
  });

  it('stops bootstrap for a class that is both a @Workflow and a @Worker', async () => {
    @Worker({ name: 'w' })
    @Workflow({ name: 'wf' })
    class Both {
      @Step() go() {}
      perform() {}
    }
    expect(await bootstrapError([Both])).toMatchObject({ name: 'SchedulerConfigError', source: 'Both', option: 'Worker' });
  });

  it('checks the scope before reading a workflow: a request-scoped @Workflow is skipped with a warning', async () => {
    @Injectable({ scope: Scope.REQUEST })
    @Workflow({ name: 'per-request' })
    class PerRequestFlow {
      @Step() go() {}
    }
    const warn = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const t = await startApp([PerRequestFlow]);
    expect(warn.mock.calls.some(([m]) => String(m).startsWith('PerRequestFlow is request- or transient-scoped'))).toBe(true);
    expect(t.scheduler.workflows.listAll()).toEqual([]);
    await t.close();
  });
});
