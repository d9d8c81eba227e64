import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { Scheduled, SchedulerService, Worker, type JobContext, type JobWorker } from 'nestjs-scheduler';
import { nodeName } from './node-name.js';

/** The cron, and what this node says about its leadership. */
@Injectable()
export class ClusterJobs implements OnApplicationBootstrap {
  private readonly logger = new Logger(ClusterJobs.name);

  constructor(private readonly scheduler: SchedulerService) {}

  onApplicationBootstrap() {
    const leads = () => this.logger.log(`${nodeName} leads: it plans the cron ticks`);
    // The lease may be taken already, or later (in the background): say so either way.
    if (this.scheduler.isLeader()) leads();
    this.scheduler.on('peer:election', leads);
    this.scheduler.on('peer:resignation', () => this.logger.log(`${nodeName} no longer leads`));
  }

  /**
   * Every second (the first field is seconds). Only the leader plans each
   * tick, under a unique (schedule, tick) key in PostgreSQL; the job then
   * runs on whichever node claims it first. `late`: planned after the tick
   * (a hand-over between leaders), still run once.
   */
  @Scheduled({ cron: '* * * * * *', name: 'tick' })
  tick(ctx: JobContext) {
    this.logger.log(`tick ${ctx.scheduledAt.toISOString()} ran on ${nodeName}${ctx.misfired ? ' (late)' : ''}`);
  }
}

/** A queued job: any node with a free slot on `default` runs it. */
@Worker({ name: 'render-thumbnail' })
export class RenderThumbnailWorker implements JobWorker<{ n: number }> {
  private readonly logger = new Logger(RenderThumbnailWorker.name);

  async perform(ctx: JobContext<{ n: number }>) {
    await sleep(500, undefined, { signal: ctx.signal }); // the work; a shutdown or a cancel aborts it
    this.logger.log(`thumbnail ${ctx.args.n} rendered on ${nodeName}`);
    return { node: nodeName };
  }
}
