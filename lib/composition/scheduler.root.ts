import { performance } from 'node:perf_hooks';
import { Logger, type Type } from '@nestjs/common';
import { SystemClock, type Clock } from '../clock/clock.js';
import { OffsetClock } from '../clock/clock-sync.js';
import { ErrorClassifier } from '../errors/error.classifier.js';
import { JobExecutor } from '../execution/job.executor.js';
import { LoopStalls } from '../execution/loop-stalls.js';
import { RunningJobs } from '../execution/running-jobs.js';
import type { JobMiddleware } from '../middleware/job-middleware.js';
import type { Notification } from '../notifier/notifier.js';
import { Planner } from '../planner/planner.js';
import { RebootJobs } from '../planner/reboot.jobs.js';
import { SchedulerLoop } from '../planner/scheduler.loop.js';
import { ClusterSyncPlugin } from '../plugins/cluster-sync.plugin.js';
import { LifelinePlugin } from '../plugins/lifeline.plugin.js';
import { RebootOrphansPlugin } from '../plugins/reboot-orphans.plugin.js';
import { PrunerPlugin } from '../plugins/pruner.plugin.js';
import type { SchedulerPlugin } from '../plugins/scheduler.plugin.js';
import { DeadLetterAlertsPlugin } from '../dead-letters/dead-letter.alerts.js';
import type { DeadLetterHandler } from '../dead-letters/dead-letter.options.js';
import { SchedulerConfigError } from '../scheduler.errors.js';
import { JobProducer } from '../queue/job.producer.js';
import { QueueManager } from '../queue/queue.manager.js';
import { applyQueueStates } from '../queue/queue-states.js';
import { coalesced } from '../common/coalesced.js';
import { RuntimeSchedules } from '../schedule/runtime-schedules.js';
import type { ResolvedOptions } from '../scheduler.options.js';
import type { JobDefinition, SchedulerRegistry } from '../scheduler.registry.js';
import type { StoreBundle, StoreContext } from '../store/store-bundle.js';
import { MemoryStore } from '../store/memory.store.js';
import { SchedulerEvents } from '../telemetry/scheduler.events.js';
import { MetricsPlugin, schedulerMeter } from '../telemetry/metrics/metrics.plugin.js';
import { NodeBeatPlugin } from '../plugins/node-beat.plugin.js';
import { StoreContact } from '../plugins/store-contact.js';
import { PACKAGE_VERSION } from '../scheduler.constants.js';
import type { WorkflowDefinition } from '../workflow/workflow.definition.js';
import { WorkflowEngine } from '../workflow/workflow.engine.js';
import { WorkflowRepairPlugin } from '../workflow/workflow.repair.js';
import { addWorkflow, setupWorkflows } from '../workflow/workflow.setup.js';
import { BreakerBoard } from '../breakers/breaker.board.js';
import { MemoryBreakerStore } from '../breakers/memory-breaker.store.js';
import { PeriodicTask } from '../planner/scheduler.loop.js';
import { RateLimitPlan } from '../rate-limit/rate-limit.plan.js';
import type { QueueRateLimit } from '../queue/rate-limited.claims.js';
import { HealthMonitor } from '../health/health.monitor.js';
import { QueueStatsReader } from '../health/queue-stats.reader.js';
import { Leadership } from './leadership.js';
import { NodeLifecycle } from './node.lifecycle.js';
import { NotificationHandler } from './notification.handler.js';
import type { SchedulerPorts } from './scheduler.ports.js';

/**
 * What composing a scheduler takes: options, the handlers found, and the two things only the host can do.
 * @internal
 */
export interface CompositionInput {
  options: ResolvedOptions;
  /** Handlers and schedules, filled by discovery before composing. */
  registry: SchedulerRegistry;
  /** Opens the store bundle (the store, with the peer and notifier it brings). */
  openStore(context: StoreContext): Promise<StoreBundle>;
  /** The module's middleware followed by a job's own, as instances. */
  resolveMiddleware(definition: JobDefinition): Promise<JobMiddleware[]>;
  /** An instance of a class an option names (`option`, for its error). */
  resolveProvider<T>(type: Type<T>, option: string): Promise<T>;
}

/**
 * The composition root: builds the job's path once (store bundle, peer,
 * notifier, loop, queues, producer, executor, planner, plugins, workflow
 * engine) and hands each part only the ports it uses. Nothing it builds
 * holds a reference back to it; it keeps only what starts and stops the node
 * and the ports it hands to the API above.
 * @internal
 */
export class SchedulerRoot {
  /** The ports handed to the API above (service, dead letters, workflows, tester). */
  readonly ports: SchedulerPorts;
  private readonly lifecycle: NodeLifecycle;

  /** Opens the store and builds every part; a failure closes the store again. */
  static async compose(input: CompositionInput): Promise<SchedulerRoot> {
    const { options } = input;
    // Real time is corrected by the offset to the store's clock once it is measured (see ClockSync).
    const clock = options.clock instanceof SystemClock ? new OffsetClock(options.clock) : options.clock;
    const bundle = await input.openStore({ node: options.nodeName, clock, leaseTtl: options.leaseTtl, peerEligible: options.peer });
    try {
      const type = options.deadLetters.onDeadLetter;
      const onDeadLetter = type ? await input.resolveProvider(type, 'deadLetters.onDeadLetter') : null;
      if (onDeadLetter && typeof onDeadLetter.handle !== 'function') {
        throw new SchedulerConfigError('SchedulerModule', 'deadLetters.onDeadLetter', `${type?.name ?? 'the class'} has no handle(entry) method`);
      }
      const root = new SchedulerRoot(input, clock, bundle, onDeadLetter);
      // Resolved once here: running a job reads its definition's list and asks nobody.
      for (const definition of input.registry.allDefinitions()) definition.middleware = await input.resolveMiddleware(definition);
      return root;
    } catch (error) {
      await bundle.store.close().catch(() => undefined);
      throw error;
    }
  }

  private constructor(input: CompositionInput, clock: Clock, bundle: StoreBundle, onDeadLetter: DeadLetterHandler | null) {
    const { options, registry } = input;
    const logger = new Logger('Scheduler');
    const events = new SchedulerEvents();
    const running = new RunningJobs();
    const node = options.nodeName;
    const store = bundle.store;
    const { peer, notifier } = bundle;
    const isLeader = () => peer.isLeader();
    // What this node sees of the store's reachability (the loop's tasks and the beats): the lifeline holds rescue back after an outage.
    const contact = new StoreContact(() => clock.now(), options.rescueAfter);
    const loop = new SchedulerLoop(
      clock,
      (run) => contact.watch(run, false),
      (dueAt) => contact.stalled(dueAt),
    );
    const poke = () => loop.poke();
    const queues = new QueueManager(options.pollInterval, poke);
    const runnersOf = (queue?: string) => (queue === undefined ? queues.all() : queues.all().filter((runner) => runner.name === queue));
    const wake = (queue: string) => queues.wake(queue);
    // The queues known here: the ones this node runs and the ones its configuration names.
    const knownQueues = () => [...new Set([...queues.all().map((runner) => runner.name), ...(options.queueNames ?? [])])];
    const queueStats = new QueueStatsReader({ store, nodes: store.nodes, clock, knownQueues });
    // Built first: the executor, the runners and the producer record through it (nothing when no SDK is registered).
    const metrics = new MetricsPlugin(
      {
        options: options.metrics,
        events,
        now: () => clock.now(),
        queueStats,
        isLeader,
        localQueues: () => queues.all().map((runner) => ({ queue: runner.name, limit: runner.limit, executing: runner.busy })),
      },
      schedulerMeter(options.metrics, PACKAGE_VERSION),
    );
    const { storeTimer } = metrics;
    const producer = new JobProducer(store, notifier, queues, clock, node, events, storeTimer);
    const breakers = new BreakerBoard({
      // A store without its own breakers (one process) gets them in memory; held jobs then wait their time out.
      store: store.breakers ?? new MemoryBreakerStore(() => []),
      jobs: store,
      registry,
      configured: options.circuitBreakers,
      clock,
      events,
      wakeAt: (queue, at) => queues.wakeAt(queue, at),
      notify: (message) => notifier.notify(message),
    });
    const classifier = new ErrorClassifier({
      classify: options.errors.classify,
      defaults: options.defaults,
      now: () => clock.now(),
      warn: (message) => logger.warn(message),
    });
    // A handler that holds the event loop past a heartbeat is named in the log.
    const stalls = new LoopStalls(options.heartbeatInterval, options.rescueAfter, logger);
    const reboot = new RebootJobs({ registry, producer, clock, node, runsJobs: options.queues !== null });
    const executor = new JobExecutor({
      store,
      registry,
      classifier,
      clock,
      events,
      running,
      onRetry: (queue, runAt) => queues.wakeAt(queue, runAt.getTime()),
      forgetCompleted: options.keepCompleted === 0,
      breakers,
      metrics: metrics.attempts,
      storeTimer,
      stalls,
      superseded: (job) => reboot.superseded(job),
    });
    const planner = new Planner({
      store,
      producer,
      clock,
      events,
      misfireThreshold: options.misfireThreshold,
      isLeader,
      circuitOpen: (breaker) => breakers.isOpen(breaker),
    });
    const engine = new WorkflowEngine({ store, insert: (jobs) => producer.insert(jobs, 'workflow'), clock, events });
    setupWorkflows(engine, registry, events);
    const broadcast = async (message: Notification) => {
      if (notifier.shared) await notifier.notify(message);
    };
    const schedules = new RuntimeSchedules({ store, registry, planner, queueNames: options.queueNames, poke, broadcast });
    const plan = rateLimitPlan(options, registry, store.rateLimits !== undefined, logger);
    const rateLimit = (queue: string) => queueRateLimit(plan, queue, events, (at) => queues.wakeAt(queue, at));
    const queueSetup = {
      specs: options.queues,
      queues,
      store,
      executor,
      running,
      clock,
      node,
      rateLimit,
      registry,
      events,
      storeTimer,
      rescueAfter: options.rescueAfter,
    };
    const leadership = new Leadership({ planner, schedules: () => registry.allSchedules(), poke, events, node, logger });
    // One read of each at a time, whether a notice or the periodic sync asks: see `coalesced`.
    const readQueueStates = coalesced(() => applyQueueStates(queueSetup));
    const refreshBreakers = coalesced(() => breakers.refresh());
    const sync = new ClusterSyncPlugin({
      interval: options.pollInterval * 5,
      shared: notifier.shared,
      applyQueueStates: readQueueStates,
      syncSchedules: schedules.requestSync,
      reboot,
      isLeader,
      plannerLoaded: () => planner.isLoaded,
      loadPlanner: () => leadership.loadPlanner(),
    });
    const lifeline = new LifelinePlugin({ store, storeTimer, events, isLeader, wake, interval: options.rescueInterval, contact });
    const plugins: SchedulerPlugin[] = [
      sync,
      lifeline,
      new WorkflowRepairPlugin({ store, engine, isLeader, interval: options.rescueInterval }),
      new PrunerPlugin({
        store,
        storeTimer,
        events,
        isLeader,
        now: () => clock.now(),
        elapsed: () => performance.now(),
        interval: options.pruneInterval,
        keepCompleted: options.keepCompleted,
        deadLetters: options.deadLetters,
      }),
      // Breakers other nodes changed are re-read every poll (a `breakers` notice is faster, but may be missed).
      {
        name: 'breakers',
        tasks: () => [new PeriodicTask('breakers', options.pollInterval, refreshBreakers, () => notifier.shared || !breakers.isLoaded)],
      },
    ];
    plugins.push(
      new NodeBeatPlugin({
        registry: store.nodes,
        node,
        version: PACKAGE_VERSION,
        interval: options.heartbeatInterval,
        ttl: options.rescueAfter,
        contact,
        queues: () => Object.fromEntries(queues.all().map((runner) => [runner.name, runner.limit])),
      }),
    );
    // A node gone before its @reboot jobs ran leaves them pinned to it for ever: the leader cancels them.
    if (store.nodes && registry.reboot.length > 0) {
      const names = registry.reboot.map((definition) => definition.name);
      const ttl = options.rescueAfter;
      plugins.push(
        new RebootOrphansPlugin({ store, nodes: store.nodes, notifier, events, names, node, isLeader, interval: options.rescueInterval, ttl, contact }),
      );
    }
    plugins.push(metrics);
    if (onDeadLetter)
      plugins.push(
        new DeadLetterAlertsPlugin({ store, clock, handler: onDeadLetter, interval: options.pollInterval, shutdownGracePeriod: options.shutdownGracePeriod }),
      );
    // After a gap in notices (a reconnection, the node's own start): what other nodes may have changed.
    const catchUp = async (): Promise<void> => {
      await sync.sync();
      await refreshBreakers();
    };
    const notifications = new NotificationHandler({
      queues,
      node,
      running,
      store,
      clock,
      events,
      applyQueueStates: readQueueStates,
      requestScheduleSync: schedules.requestSync,
      catchUp,
      refreshBreakers,
      beatNow: (): Promise<void> => lifecycle.beatNow(),
    });
    const closeSpans = () => engine.closeSpans();
    const lifecycle = new NodeLifecycle({
      options,
      clock,
      logger,
      store,
      peer,
      notifier,
      loop,
      planner,
      queues,
      queueSetup,
      running,
      stalls,
      schedules,
      reboot,
      plugins,
      notifications,
      leadership,
      breakers,
      closeSpans,
      catchUp,
    });
    this.lifecycle = lifecycle;
    const register = (def: WorkflowDefinition) => {
      const entry = addWorkflow(engine, registry, def);
      if (entry) void planner.upsert(entry).then(poke, (error: unknown) => logger.error(`scheduling workflow ${def.name} failed: ${String(error)}`));
    };
    const jobs = { registry, queueNames: options.queueNames, clock, maxPayloadBytes: store.maxPayloadBytes };
    this.ports = {
      service: {
        node,
        enabled: options.enabled,
        options,
        queueSpecs: options.queues,
        registry,
        clock,
        events,
        store,
        peer,
        jobs,
        producer,
        queues,
        planner,
        schedules,
        notifier,
        broadcast,
        readQueueStates,
        breakers,
        // A job enqueued into a memory store while the node closes would be lost with the process.
        refusesWork: () => lifecycle.isStopping && store instanceof MemoryStore,
      },
      deadLetters: { store, clock, wake, events },
      errors: { classifier, registry },
      lifeline: { checkNow: () => lifeline.checkNow(clock.now()) },
      rateLimits: { plan, store: store.rateLimits, clock },
      workflows: { engine, store, clock, notifier, registry, queueNames: options.queueNames, register },
      tester: {
        node,
        clock,
        events,
        store,
        running,
        jobs,
        execute: (job) => executor.execute(job),
        rateLimits: (queue) => (store.rateLimits ? plan.forQueue(queue) : null),
        settled: async (queue) => {
          await loop.settled();
          await Promise.all(runnersOf(queue).map((runner) => runner.claimsSettled()));
        },
        buffered: (queue) => runnersOf(queue).reduce((n, runner) => n + runner.buffered.length, 0),
        planning: () => isLeader() && planner.isLoaded,
      },
      breakers,
      health: new HealthMonitor({
        node,
        clock,
        pollInterval: options.pollInterval,
        leaseTtl: options.leaseTtl,
        rescueAfter: options.rescueAfter,
        store,
        peer,
        queueStats,
        stalledSince: () => earliest([loop.stalledSince(), ...queues.all().map((runner) => runner.claimingSince)]),
        initialized: () => lifecycle.isInitialized,
        started: () => lifecycle.isStarted,
        stopping: () => lifecycle.isStopping,
      }),
    };
  }

  /** Starts the job's path (at application bootstrap). */
  start(): Promise<void> {
    return this.lifecycle.start();
  }

  /** Stops it (before application shutdown): leadership, loop, claims, then drains within each queue's grace period. */
  stop(): Promise<void> {
    return this.lifecycle.stop();
  }
}

/** The earliest of some instants (epoch ms), `null` when there is none. */
function earliest(instants: readonly (number | null)[]): number | null {
  let first: number | null = null;
  for (const at of instants) if (at !== null && (first === null || at < first)) first = at;
  return first;
}

/** The node's rate limits; refused when some are configured and the store keeps none. */
function rateLimitPlan(options: ResolvedOptions, registry: SchedulerRegistry, storeKeepsThem: boolean, logger: Logger): RateLimitPlan {
  const plan = new RateLimitPlan(options.rateLimits, registry.allDefinitions());
  if (plan.any && !storeKeepsThem) {
    throw new SchedulerConfigError(
      'SchedulerModule',
      'rateLimits',
      'this store keeps no rate limits (JobStore.rateLimits); remove the limits or use a store that has them',
    );
  }
  const unknown = plan.unknownJobs((name) => registry.findDefinition(name) !== undefined);
  if (unknown.length > 0) logger.warn(`rateLimits.jobs names no handler of this node: ${unknown.join(', ')} (jobs of that name are still limited here)`);
  return plan;
}

/** A queue runner's rate limits: held jobs become `job:skip` events, and the runner is woken when their token is due. */
function queueRateLimit(plan: RateLimitPlan, queue: string, events: SchedulerEvents, wakeAt: (at: number) => void): QueueRateLimit | undefined {
  const limits = plan.forQueue(queue);
  if (!limits) return undefined;
  return {
    limits,
    held: (job) =>
      events.emit('job:skip', { name: job.name, schedule: job.schedule, reason: 'rate_limited', job, tick: null, duration: 0, outcome: 'skipped' }),
    wakeAt,
  };
}
