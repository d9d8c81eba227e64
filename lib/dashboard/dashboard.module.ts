import { Module, type DynamicModule, type Type } from '@nestjs/common';
import { PATH_METADATA } from '@nestjs/common/constants.js';
import { DEFAULT_REDACTED_KEYS } from '../middleware/logging.middleware.js';
import { SchedulerHostModule } from '../scheduler.host.js';
import { DashboardAccessGuard } from './dashboard-access.guard.js';
import { DashboardConfigController } from './dashboard-config.controller.js';
import { DashboardDeadLettersController } from './dashboard-dead-letters.controller.js';
import { DashboardBulkController } from './dashboard-bulk.controller.js';
import { DashboardErrorsInterceptor } from './dashboard-errors.interceptor.js';
import { DashboardEventHub, DashboardEventsController } from './dashboard-events.js';
import { DashboardJobsController } from './dashboard-jobs.controller.js';
import { DashboardJobActionsController } from './dashboard-job-actions.controller.js';
import { DashboardNodesController } from './dashboard-nodes.controller.js';
import { DashboardRetryAllController } from './dashboard-retry-all.controller.js';
import { DashboardSettingsController } from './dashboard-settings.controller.js';
import { DashboardQueuesController } from './dashboard-queues.controller.js';
import { DashboardSearchController } from './dashboard-search.controller.js';
import { DashboardSchedulesController } from './dashboard-schedules.controller.js';
import { DashboardWorkflowsController } from './dashboard-workflows.controller.js';
import { DashboardUiController } from './dashboard-ui.controller.js';
import { DashboardHistoryRing } from './dashboard-history.js';
import { DashboardStats } from './dashboard-stats.service.js';
import { DashboardWaiting } from './dashboard-waiting.js';
import { DashboardAudit } from './dashboard.audit.js';
import { DASHBOARD_OPTIONS, DASHBOARD_ROUTES } from './dashboard.constants.js';
import { DASHBOARD_ASYNC_OPTIONS_TYPE, DASHBOARD_MODULE_OPTIONS, DASHBOARD_OPTIONS_TYPE, DashboardConfigurableModule } from './dashboard.module-definition.js';
import { resolveDashboardOptions, type ResolvedDashboardOptions, type SchedulerDashboardOptions } from './dashboard.options.js';

const CONTROLLERS: readonly Type<object>[] = [
  DashboardConfigController,
  DashboardQueuesController,
  DashboardBulkController,
  DashboardJobsController,
  DashboardSchedulesController,
  DashboardDeadLettersController,
  DashboardWorkflowsController,
  DashboardEventsController,
  DashboardNodesController,
  DashboardJobActionsController,
  DashboardSettingsController,
  DashboardRetryAllController,
  DashboardSearchController,
  DashboardUiController,
];

/**
 * The scheduler's dashboard: a JSON API under `path` (see docs/dashboard.md),
 * served by real Nest controllers (the app's global prefix, versioning,
 * global guards and interceptors apply; Express and Fastify). Import
 * `SchedulerDashboardModule.forRoot(options)` (or `forRootAsync`) beside
 * `SchedulerModule`. Without `guards` or `access` it refuses to boot, unless
 * `allowUnauthenticated: true`.
 * @publicApi
 */
@Module({
  imports: [SchedulerHostModule],
  providers: [
    {
      provide: DASHBOARD_OPTIONS,
      inject: [DASHBOARD_MODULE_OPTIONS],
      useFactory: (options: SchedulerDashboardOptions) => resolveDashboardOptions(options, DEFAULT_REDACTED_KEYS),
    },
    DashboardAccessGuard,
    DashboardErrorsInterceptor,
    DashboardAudit,
    DashboardStats,
    DashboardWaiting,
    DashboardEventHub,
    DashboardHistoryRing,
  ],
})
export class SchedulerDashboardModule extends DashboardConfigurableModule {
  /** `SchedulerDashboardModule.forRoot(options)`: see {@link SchedulerDashboardOptions}. */
  static override forRoot(options: typeof DASHBOARD_OPTIONS_TYPE): DynamicModule {
    return routed(super.forRoot(options));
  }

  /** `forRootAsync({ imports, inject, useFactory })`: the options (the path too) computed when the app starts. */
  static override forRootAsync(options: typeof DASHBOARD_ASYNC_OPTIONS_TYPE): DynamicModule {
    return routed(super.forRootAsync(options));
  }
}

/**
 * The module with controllers of its own (subclasses, so two dashboards in
 * one app keep two paths), whose path is written once the options are
 * resolved: providers are built before the app registers its routes, so a
 * path from `forRootAsync`'s factory is honoured.
 */
function routed(module: DynamicModule): DynamicModule {
  const controllers = CONTROLLERS.map((base) => {
    const routedController = class extends (base as Type<object>) {};
    Object.defineProperty(routedController, 'name', { value: base.name });
    Reflect.defineMetadata(PATH_METADATA, '/', routedController);
    return routedController;
  });
  const routes = {
    provide: DASHBOARD_ROUTES,
    inject: [DASHBOARD_OPTIONS],
    useFactory: (options: ResolvedDashboardOptions) => {
      for (const controller of controllers) Reflect.defineMetadata(PATH_METADATA, options.path || '/', controller);
      return options.path;
    },
  };
  return { ...module, controllers, providers: [...(module.providers ?? []), routes] };
}
