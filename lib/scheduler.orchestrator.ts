import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';
import { ModuleRef, ModulesContainer } from '@nestjs/core';
import { SchedulerRoot } from './composition/scheduler.root.js';
import { SchedulerExplorer } from './discovery/scheduler.explorer.js';
import { MiddlewareResolver } from './middleware/middleware.resolver.js';
import { SCHEDULER_OPTIONS } from './scheduler.constants.js';
import { SchedulerHost } from './scheduler.host.js';
import type { ResolvedOptions } from './scheduler.options.js';
import { SchedulerRegistry } from './scheduler.registry.js';
import { createStore } from './store/store.factory.js';

/**
 * The scheduler's Nest lifecycle: collect at init (discovery, then the
 * composition root builds the job's path), start at bootstrap, stop before
 * shutdown. When the module is imported twice, the first import does the
 * work and the others register nothing.
 * @internal
 */
@Injectable()
export class SchedulerOrchestrator implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Scheduler');
  private root: SchedulerRoot | null = null;
  private stopping: Promise<void> | null = null;

  constructor(
    @Inject(SCHEDULER_OPTIONS) private readonly options: ResolvedOptions,
    private readonly registry: SchedulerRegistry,
    private readonly explorer: SchedulerExplorer,
    private readonly host: SchedulerHost,
    private readonly moduleRef: ModuleRef,
    private readonly modules: ModulesContainer,
  ) {}

  async onModuleInit(): Promise<void> {
    if (!this.host.claim()) {
      this.logger.warn('SchedulerModule was imported more than once; the first import does the work, the others register nothing.');
      return;
    }
    this.explorer.explore();
    const { options, registry } = this;
    const middleware = new MiddlewareResolver(this.moduleRef, this.modules);
    this.root = await SchedulerRoot.compose({
      options,
      registry,
      openStore: (context) => createStore(options.store, context),
      resolveMiddleware: (definition) => middleware.resolve([...options.middleware, ...definition.options.middleware], definition.moduleRef, definition.source),
      resolveProvider: (type, option) => middleware.instance(type, option),
    });
    this.host.attach(this.root.ports);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.root?.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (!this.root) return;
    this.stopping ??= this.root.stop();
    await this.stopping;
  }
}
