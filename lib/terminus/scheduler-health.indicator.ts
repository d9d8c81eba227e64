import { Injectable } from '@nestjs/common';
import type { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import type {
  DeadLettersCheckOptions,
  HealthCheckName,
  HealthCheckResult,
  HealthPreset,
  HealthState,
  LagCheckOptions,
  LeaderCheckOptions,
  LoopCheckOptions,
  SchedulerHealthOptions,
  StoreCheckOptions,
  StuckCheckOptions,
} from '../health/health.types.js';
import { SchedulerService } from '../scheduler.service.js';
import { loadHealthIndicatorService } from './terminus.package.js';

/**
 * Options of the presets: those of the checks they run.
 * @publicApi
 */
export type SchedulerPresetOptions = Omit<SchedulerHealthOptions, 'checks'>;

/**
 * The scheduler's health checks for `@nestjs/terminus`: add it as a provider
 * next to `TerminusModule` and pass its methods to `HealthCheckService.check`.
 *
 * Each check's result key is `scheduler_<check>` (`scheduler_loop`,
 * `scheduler_store`, …) unless a key is given as the first argument; the
 * presets (`liveness`, `readiness`, `startup`) return one key, `scheduler`,
 * with the checks, the node, the leader and each queue's lag in its details.
 * A degraded check is terminus's `degraded` (the response stays 200 with
 * status `degraded`); a down one makes `check()` answer 503. A scheduler
 * that is not initialised yet is down.
 * @publicApi
 */
@Injectable()
export class SchedulerHealthIndicator {
  private indicators: Promise<HealthIndicatorService> | null = null;

  constructor(private readonly scheduler: SchedulerService) {}

  /** Up while the planner loop and the queues' claims move; down when held up past `maxStallMs`. Reads no database. */
  loop(options?: LoopCheckOptions): Promise<HealthIndicatorResult>;
  loop(key: string, options?: LoopCheckOptions): Promise<HealthIndicatorResult>;
  loop(keyOrOptions?: string | LoopCheckOptions, options?: LoopCheckOptions): Promise<HealthIndicatorResult> {
    return this.single('loop', keyOrOptions, options);
  }

  /** A ping of the store: degraded past `slowMs`, down on error or past `timeoutMs`; one ping per `cacheMs`. */
  store(options?: StoreCheckOptions): Promise<HealthIndicatorResult>;
  store(key: string, options?: StoreCheckOptions): Promise<HealthIndicatorResult>;
  store(keyOrOptions?: string | StoreCheckOptions, options?: StoreCheckOptions): Promise<HealthIndicatorResult> {
    return this.single('store', keyOrOptions, options);
  }

  /** Up while a node holds a live leader lease; leaderless is degraded, then down after `graceMs`. */
  leader(options?: LeaderCheckOptions): Promise<HealthIndicatorResult>;
  leader(key: string, options?: LeaderCheckOptions): Promise<HealthIndicatorResult>;
  leader(keyOrOptions?: string | LeaderCheckOptions, options?: LeaderCheckOptions): Promise<HealthIndicatorResult> {
    return this.single('leader', keyOrOptions, options);
  }

  /** The age of the oldest due, unclaimed job: degraded from `warnMs`, down from `failMs`. */
  lag(options?: LagCheckOptions): Promise<HealthIndicatorResult>;
  lag(key: string, options?: LagCheckOptions): Promise<HealthIndicatorResult>;
  lag(keyOrOptions?: string | LagCheckOptions, options?: LagCheckOptions): Promise<HealthIndicatorResult> {
    return this.single('lag', keyOrOptions, options);
  }

  /** Running jobs past their lease: degraded when any, down when more than `maxCount`. */
  stuck(options?: StuckCheckOptions): Promise<HealthIndicatorResult>;
  stuck(key: string, options?: StuckCheckOptions): Promise<HealthIndicatorResult>;
  stuck(keyOrOptions?: string | StuckCheckOptions, options?: StuckCheckOptions): Promise<HealthIndicatorResult> {
    return this.single('stuck', keyOrOptions, options);
  }

  /** Jobs that died within `windowMs`: degraded when any, down when more than `max`. */
  deadLetters(options?: DeadLettersCheckOptions): Promise<HealthIndicatorResult>;
  deadLetters(key: string, options?: DeadLettersCheckOptions): Promise<HealthIndicatorResult>;
  deadLetters(keyOrOptions?: string | DeadLettersCheckOptions, options?: DeadLettersCheckOptions): Promise<HealthIndicatorResult> {
    return this.single('deadLetters', keyOrOptions, options);
  }

  /** For a liveness probe: `loop` only, no database, however long jobs run. Key `scheduler` unless given. */
  liveness(key?: string, options?: SchedulerPresetOptions): Promise<HealthIndicatorResult> {
    return this.preset('liveness', key, options);
  }

  /** For a readiness probe: `store` + `started` + `draining` (down while the node shuts down). Key `scheduler` unless given. */
  readiness(key?: string, options?: SchedulerPresetOptions): Promise<HealthIndicatorResult> {
    return this.preset('readiness', key, options);
  }

  /** For a startup probe: `discovery` + `migrations` (the store initialised and answering). Key `scheduler` unless given. */
  startup(key?: string, options?: SchedulerPresetOptions): Promise<HealthIndicatorResult> {
    return this.preset('startup', key, options);
  }

  private async single<O extends object>(name: HealthCheckName, keyOrOptions: string | O | undefined, options: O | undefined): Promise<HealthIndicatorResult> {
    const key = typeof keyOrOptions === 'string' ? keyOrOptions : `scheduler_${name}`;
    const given = typeof keyOrOptions === 'string' ? options : keyOrOptions;
    let result: HealthCheckResult;
    try {
      const report = await this.scheduler.health({ checks: [name], [name]: given });
      result = report.checks[name] ?? { status: 'down', message: `no ${name} result` };
    } catch (error) {
      result = { status: 'down', message: (error as Error)?.message ?? String(error) };
    }
    const { status, ...details } = result;
    return this.result(key, status, details);
  }

  private async preset(preset: HealthPreset, key = 'scheduler', options: SchedulerPresetOptions = {}): Promise<HealthIndicatorResult> {
    try {
      const { status, ...details } = await this.scheduler.health({ ...options, checks: preset });
      return this.result(key, status, details);
    } catch (error) {
      return this.result(key, 'down', { message: (error as Error)?.message ?? String(error) });
    }
  }

  private async result(key: string, status: HealthState, details: Record<string, unknown>): Promise<HealthIndicatorResult> {
    this.indicators ??= loadHealthIndicatorService();
    const session = (await this.indicators).check(key);
    if (status === 'up') return session.up(details);
    if (status === 'down') return session.down(details);
    // terminus before 12.1 has no degraded state: such a check counts as up there, marked in its details.
    return typeof session.degraded === 'function' ? session.degraded(details) : session.up({ ...details, degraded: true });
  }
}
