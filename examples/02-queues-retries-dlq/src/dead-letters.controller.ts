import { Controller, Get, NotFoundException, Param, Post, Query } from '@nestjs/common';
import { JobNotFoundError, SchedulerService } from 'nestjs-scheduler';

@Controller('dead-letters')
export class DeadLettersController {
  constructor(private readonly scheduler: SchedulerService) {}

  /** The dead letters, newest death first, optionally of one queue. */
  @Get()
  async list(@Query('queue') queue?: string) {
    const entries = await this.scheduler.deadLetters.list({ queue, limit: 50 });
    return entries.map((e) => ({
      id: e.id,
      name: e.name,
      queue: e.queue,
      args: e.args,
      attempts: e.attempts,
      errorClass: e.errorClass,
      lastError: e.errors.at(-1)?.message,
      lastFailedAt: e.lastFailedAt,
    }));
  }

  /** Puts one back in its queue, due now, with a fresh set of attempts. */
  @Post(':id/retry')
  async retry(@Param('id') id: string) {
    const job = await this.scheduler.deadLetters.retry(id).catch((error: unknown) => {
      // Not a dead letter (any more): it was retried already, deleted, or never died.
      throw error instanceof JobNotFoundError ? new NotFoundException(error.message) : error;
    });
    return { id: job.id, state: job.state, runAt: job.runAt };
  }
}
