import { Injectable } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { Scheduled, SchedulerModule, type JobContext, type SchedulerModuleOptions } from '../../../lib/index.js';

/** Jobs of the connection tests: `hold` runs until released or aborted; `work` finishes after a few ms, recorded in `finished`. */
@Injectable()
export class HeldJobs {
  /** Ids of `work` jobs whose handler ran to completion on this node, in order. */
  readonly finished: string[] = [];
  /** Running `hold` jobs by id: call to let one finish. */
  readonly holds = new Map<string, () => void>();
  /** `hold` jobs aborted on this node: id and the signal's reason. */
  readonly aborted: { id: string; reason: string }[] = [];

  @Scheduled({ name: 'hold' })
  hold(ctx: JobContext) {
    return new Promise<string>((resolve) => {
      this.holds.set(ctx.id, () => resolve('released'));
      ctx.signal.addEventListener('abort', () => {
        this.aborted.push({ id: ctx.id, reason: String(ctx.abortReason) });
        resolve('aborted');
      });
    });
  }

  @Scheduled({ name: 'work' })
  async work(ctx: JobContext<{ ms: number }>) {
    await new Promise((resolve) => setTimeout(resolve, ctx.args.ms));
    this.finished.push(ctx.id);
  }
}

/** Boots a Nest app with the scheduler and {@link HeldJobs} (the real clock: sockets and leases run in real time). */
export async function bootApp(options: SchedulerModuleOptions): Promise<TestingModule> {
  const app = await Test.createTestingModule({ imports: [SchedulerModule.forRoot(options)], providers: [HeldJobs] }).compile();
  await app.init();
  return app;
}
