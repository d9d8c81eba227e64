import { Controller, Get, Query } from '@nestjs/common';
import { SchedulerService, type ConfigSource } from 'nestjs-scheduler';

@Controller('config')
export class ConfigController {
  constructor(private readonly scheduler: SchedulerService) {}

  /**
   * The effective options, one entry each: `{ option, value, source, variable? }`, the source being
   * `code`, `env` (with the variable) or `default`. Passwords in URLs are `***`: safe to show to operators.
   * `?source=env` keeps the entries of one source.
   */
  @Get()
  describe(@Query('source') source?: ConfigSource) {
    const entries = this.scheduler.describeConfig();
    return source ? entries.filter((entry) => entry.source === source) : entries;
  }
}
