import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { SchedulerMetadataAccessor } from './discovery/scheduler-metadata.accessor.js';
import { SchedulerExplorer } from './discovery/scheduler.explorer.js';
import { SchedulerHostModule } from './scheduler.host.js';
import { SCHEDULER_MODULE_OPTIONS, SCHEDULER_OPTIONS_TYPE, SchedulerConfigurableModule } from './scheduler.module-definition.js';
import { carryEnvSources } from './config/env-sources.js';
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
export class SchedulerModule extends SchedulerConfigurableModule {
  /** `SchedulerModule.forRoot(options)`: see {@link SchedulerModuleOptions}; `forRoot()` takes every default (the memory store). */
  static override forRoot(options: typeof SCHEDULER_OPTIONS_TYPE = {}): DynamicModule {
    const module = super.forRoot(options);
    // Nest copies the options key by key (Object.keys), which drops what
    // nestjs-scheduler/config recorded under a symbol: which values came from the environment.
    const keep = (provider: Provider): Provider =>
      typeof provider === 'object' && 'useValue' in provider && provider.provide === SCHEDULER_MODULE_OPTIONS
        ? { ...provider, useValue: carryEnvSources(options, provider.useValue as object) }
        : provider;
    return { ...module, providers: module.providers?.map(keep) };
  }
}
