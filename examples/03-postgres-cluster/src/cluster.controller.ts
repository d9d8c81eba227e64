import { Controller, DefaultValuePipe, Get, ParseIntPipe, Post, Query } from '@nestjs/common';
import { SchedulerService } from 'nestjs-scheduler';

@Controller()
export class ClusterController {
  constructor(private readonly scheduler: SchedulerService) {}

  /** This node, the leader (read from PostgreSQL), and the default queue as the cluster sees it. */
  @Get('cluster')
  async cluster() {
    const [health, leader, queue] = await Promise.all([
      this.scheduler.health({ checks: ['leader'] }),
      this.scheduler.leaderNode(),
      this.scheduler.queueStats('default'),
    ]);
    const { runningHere, available, scheduled, running, completed, dead } = queue;
    return { node: health.node, leader, leading: this.scheduler.isLeader(), queue: { runningHere, available, scheduled, running, completed, dead } };
  }

  /** Enqueues `count` thumbnails (one insert): both nodes take some. */
  @Post('thumbnails')
  async thumbnails(@Query('count', new DefaultValuePipe(6), ParseIntPipe) count: number) {
    const jobs = await this.scheduler.enqueueMany(
      'render-thumbnail',
      Array.from({ length: count }, (_, i) => ({ n: i + 1 })),
    );
    return { enqueued: jobs.length };
  }
}
