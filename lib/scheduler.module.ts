import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { SchedulerMetadataAccessor } from './discovery/scheduler-metadata.accessor.js';
import { SchedulerExplorer } from './discovery/scheduler.explorer.js';
import { SchedulerHostModule } from './scheduler.host.js';
import { SCHEDULER_MODULE_OPTIONS, SchedulerConfigurableModule } from './scheduler.module-definition.js';
import { SCHEDULER_OPTIONS } from './scheduler.constants.js';
import { resolveOptions, type SchedulerModuleOptions } from './scheduler.options.js';
import { SchedulerOrchestrator } from './scheduler.orchestrator.js';
import { SchedulerRegistry } from './scheduler.registry.js';
import { SchedulerService } from './scheduler.service.js';

/**
 * The scheduler. Global: import `SchedulerModule.forRoot(options)` (or
 * `forRootAsync({ imports, inject, useFactory })`) once in the root module;
 * `SchedulerService` is then injectable everywhere.
 * @publicApi
 */
@Module({
  imports: [DiscoveryModule, SchedulerHostModule],
  providers: [
    {
      provide: SCHEDULER_OPTIONS,
      inject: [SCHEDULER_MODULE_OPTIONS],
      useFactory: (options: SchedulerModuleOptions) => resolveOptions(options),
    },
    SchedulerRegistry,
    SchedulerMetadataAccessor,
    SchedulerExplorer,
    SchedulerOrchestrator,
    SchedulerService,
  ],
  exports: [SchedulerService, SchedulerRegistry],
})
export class SchedulerModule extends SchedulerConfigurableModule {}
