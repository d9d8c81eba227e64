import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, ModuleRef, ModulesContainer } from '@nestjs/core';
import { SystemClock, type Clock } from './clock/clock.js';
import { ClockSync, OffsetClock } from './clock/clock-sync.js';
import { SchedulerExplorer } from './discovery/scheduler.explorer.js';
import { AttemptHeartbeat } from './execution/attempt.heartbeat.js';
import { JobExecutor } from './execution/job.executor.js';
import { RunningJobs } from './execution/running-jobs.js';
import type { JobMiddleware } from './middleware/job-middleware.js';
import { MiddlewareResolver } from './middleware/middleware.resolver.js';
import type { Notification, Notifier } from './notifier/notifier.js';
import type { Peer } from './peer/peer.js';
import { Planner } from './planner/planner.js';
import { PeriodicTask, SchedulerLoop } from './planner/scheduler.loop.js';
import { createLifelineTasks } from './plugins/lifeline.plugin.js';
import { createPrunerTask } from './plugins/pruner.plugin.js';
import { JobProducer } from './queue/job.producer.js';
import { QueueManager } from './queue/queue.manager.js';
import { QueueRunner } from './queue/queue.runner.js';
import { syncRuntimeSchedules } from './schedule/runtime-schedule.js';
import type { WorkflowDefinition } from './workflow/workflow.definition.js';
import type { WorkflowEngine } from './workflow/workflow.engine.js';
import { addWorkflow, repairRuns, setupWorkflows } from './workflow/workflow.setup.js';
import { SCHEDULER_OPTIONS } from './scheduler.constants.js';
import type { ResolvedOptions } from './scheduler.options.js';
import { SchedulerRegistry, type JobDefinition, type ScheduleEntry } from './scheduler.registry.js';
import type { JsonObject } from './common/json.js';
import { createStore } from './store/store.factory.js';
import { MemoryStore } from './store/memory.store.js';
import type { JobStore } from './store/job-store.js';
import { SchedulerEvents } from './telemetry/scheduler.events.js';

/** How long a job aborted at shutdown may take to return before it is handed back regardless. */
const ABORT_GRACE = 5_000;

/**
 * Builds the job's path (store, peer, notifier, planner, queue runners,
 * executor, plugins) and runs its lifecycle: collect at init, start at
 * bootstrap, stop before shutdown.
 */
@Injectable()
export class SchedulerOrchestrator implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Scheduler');
  readonly events = new SchedulerEvents();
  readonly running = new RunningJobs();
  readonly clock: Clock;
  readonly node: string;
  store!: JobStore;
  peer!: Peer;
  notifier!: Notifier;
  executor!: JobExecutor;
  producer!: JobProducer;
  queues!: QueueManager;
  planner!: Planner;
  workflows!: WorkflowEngine;
  loop!: SchedulerLoop;
  private heartbeat: AttemptHeartbeat | null = null;
  private clockSync: ClockSync | null = null;
  /**
   * Tells this import of the module from another one. Providers may be
   * wrapped by an `instrument.instanceDecorator` (the container then holds a
   * proxy while methods may run on the raw instance), so instances are never
   * compared: a token read through either gives the same answer.
   */
  readonly importToken: symbol = Symbol('SchedulerModule import');
  /** Itself, or the SchedulerModule instance that owns the work when the module was imported twice. */
  private primaryInstance: SchedulerOrchestrator = this;
  private primary = true;
  private started = false;
  private stopping: Promise<void> | null = null;
  private readonly middlewareByJob = new Map<string, JobMiddleware[]>();
  private unsubscribe: (() => void) | null = null;
  /** Runtime schedules loaded from the store, as JSON, to see what another node changed. */
  private readonly runtimeSchedules = new Map<string, string>();

  constructor(
    @Inject(SCHEDULER_OPTIONS) readonly options: ResolvedOptions,
    readonly registry: SchedulerRegistry,
    private readonly explorer: SchedulerExplorer,
    private readonly moduleRef: ModuleRef,
    private readonly discovery: DiscoveryService,
    private readonly modules: ModulesContainer,
  ) {
    // Real time is corrected by the offset to the store's clock once it is measured (see ClockSync).
    this.clock = options.clock instanceof SystemClock ? new OffsetClock(options.clock) : options.clock;
    this.node = options.nodeName;
  }

  /** The orchestrator that does the work (the first instance, if the module was imported twice). */
  get owner(): SchedulerOrchestrator {
    return this.primaryInstance;
  }

  async onModuleInit(): Promise<void> {
    const first = this.discovery.getProviders().find((w) => w.instance instanceof SchedulerOrchestrator)?.instance as SchedulerOrchestrator | undefined;
    if (first && first.importToken !== this.importToken) {
      this.primaryInstance = first;
      this.primary = false;
      this.logger.warn('SchedulerModule was imported more than once; the first import does the work, the others register nothing.');
      return;
    }
    this.explorer.explore();
    this.workflows = setupWorkflows(this);
    const bundle = await createStore(this.options.store, {
      node: this.node,
      clock: this.clock,
      leaseTtl: this.options.leaseTtl,
      peerEligible: this.options.peer,
    });
    this.store = bundle.store;
    this.peer = bundle.peer;
    this.notifier = bundle.notifier;
    this.loop = new SchedulerLoop(this.clock);
    this.queues = new QueueManager(this.options.pollInterval, () => this.loop.poke());
    this.producer = new JobProducer(this.store, this.notifier, this.queues, this.clock, this.node);
    const resolver = new MiddlewareResolver(this.moduleRef, this.modules);
    for (const definition of this.registry.allDefinitions()) {
      const types = [...this.options.middleware, ...definition.options.middleware];
      this.middlewareByJob.set(definition.name, await resolver.resolve(types, definition.moduleRef, definition.source));
    }
    this.executor = new JobExecutor({
      store: this.store,
      registry: this.registry,
      clock: this.clock,
      events: this.events,
      running: this.running,
      middlewareFor: (definition) => this.middlewareFor(definition),
      onRetry: (queue, runAt) => this.queues.wakeAt(queue, runAt.getTime()),
      forgetCompleted: this.options.keepCompleted === 0,
    });
    this.planner = new Planner({
      store: this.store,
      producer: this.producer,
      clock: this.clock,
      events: this.events,
      misfireThreshold: this.options.misfireThreshold,
      isLeader: () => this.peer.isLeader(),
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.primary) return;
    await this.store.init();
    if (this.clock instanceof OffsetClock && this.store.clockNow) {
      const store = this.store as Required<Pick<JobStore, 'clockNow'>>;
      this.clockSync = new ClockSync({ clock: this.clock, storeNow: () => store.clockNow() });
      await this.clockSync.start();
    }
    if (!this.options.peer && this.store instanceof MemoryStore) {
      this.logger.warn('peer: false with the memory store: no node in this process plans schedules or prunes old jobs');
    }
    // With waitForDatabase the store may not answer yet: what fails here is
    // loaded by the periodic sync (and leadership) once it does.
    await this.whenReachable('loading runtime schedules', () => syncRuntimeSchedules(this, this.runtimeSchedules));
    if (!this.options.enabled) {
      this.logger.log('scheduler disabled (enabled: false): jobs are registered but nothing plans or runs them');
      return;
    }
    this.unsubscribe = this.notifier.subscribe((message) => void this.onNotification(message));
    await this.notifier.start();
    await this.startQueues();
    this.loop.add(this.planner);
    this.loop.add(this.queues);
    this.heartbeat = new AttemptHeartbeat({
      store: this.store,
      clock: this.clock,
      interval: this.options.heartbeatInterval,
      // Running and buffered (claimed, not started) jobs alike; a buffered job's start is not recorded.
      owned: () => [
        ...this.running.all().map((r) => ({ id: r.job.id, attempt: r.job.attempt, startedAt: r.started })),
        ...this.queues.all().flatMap((q) => q.buffered.map((job) => ({ id: job.id, attempt: job.attempt, startedAt: null }))),
      ],
      // An attempt whose job was rescued or cancelled elsewhere stops here.
      lost: (ref) => {
        this.running.get(ref.id)?.abort('lease-lost');
        this.queues.drop(ref.id);
      },
    });
    this.heartbeat.start();
    // Catch-up for notifications a node may have missed (NOTIFY is not durable).
    // In one process (in-process notifier) nothing can change behind this node's back.
    this.loop.add(new PeriodicTask('sync', this.options.pollInterval * 5, () => this.sync(), () => this.notifier.shared || this.pendingReboot || (this.peer.isLeader() && !this.planner.isLoaded)));
    for (const task of createLifelineTasks(this)) this.loop.add(task);
    this.loop.add(new PeriodicTask('workflow-repair', this.options.rescueInterval, () => repairRuns(this, this.workflows), () => this.peer.isLeader()));
    this.loop.add(createPrunerTask(this));
    this.peer.onChange((leader) => void this.onLeadership(leader));
    await this.peer.start();
    this.loop.start();
    this.started = true;
    this.pendingReboot = true;
    await this.whenReachable('enqueueing @reboot jobs', () => this.enqueueReboot());
  }

  /** Runs a start-up read or write; a store that is not reachable yet is logged, not fatal. */
  private async whenReachable<T>(what: string, work: () => Promise<T>): Promise<T | undefined> {
    try {
      return await work();
    } catch (error) {
      this.logger.warn(`${what} failed (${(error as Error)?.message ?? String(error)}); retrying in the background`);
      return undefined;
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (!this.primary) return;
    this.stopping ??= this.shutdown();
    await this.stopping;
  }

  /** The middleware instances of a job: the global ones, then its own. */
  middlewareFor(definition: JobDefinition): JobMiddleware[] {
    return this.middlewareByJob.get(definition.name) ?? [];
  }

  private async startQueues(): Promise<void> {
    if (!this.options.queues) return;
    const stored = new Map(((await this.whenReachable('loading queue states', () => this.store.getQueueStates())) ?? []).map((q) => [q.name, q]));
    for (const [name, spec] of this.options.queues) {
      const state = stored.get(name);
      const runner = new QueueRunner(name, state?.concurrency ?? spec.concurrency, spec.shutdownGracePeriod, spec.prefetch, {
        store: this.store,
        executor: this.executor,
        running: this.running,
        clock: this.clock,
        node: this.node,
      });
      runner.setPaused(state?.paused ?? false);
      this.queues.add(runner);
    }
    for (const runner of this.queues.all()) runner.start();
  }

  private async onNotification(message: Notification): Promise<void> {
    try {
      switch (message.type) {
        case 'insert':
          return this.queues.wake(message.queue, 'insert');
        case 'cancel': {
          this.queues.drop(message.jobId);
          const running = this.running.get(message.jobId);
          if (!running) return;
          // The notice carries only the id (a reason could pass NOTIFY's 8000-byte limit and lose
          // the notice): the reason is the cancel error that `store.cancel` kept on the job.
          const job = await this.store.get(message.jobId).catch(() => null);
          if (job && job.state !== 'cancelled') return;
          return running.abort('cancel', job?.errors.findLast((error) => error.kind === 'cancel')?.message);
        }
        case 'queues':
          return await this.applyQueueStates();
        case 'schedules':
          return await this.requestScheduleSync();
        case 'resync':
          await this.sync();
          return this.queues.wakeAll();
        case 'leader':
          return; // for the peer
      }
    } catch (error) {
      this.logger.error(`handling a "${message.type}" notification failed: ${(error as Error)?.message ?? String(error)}`);
    }
  }

  /** Re-reads what other nodes may have changed: queue states, runtime schedules, pauses. */
  private async sync(): Promise<void> {
    await this.applyQueueStates();
    await this.syncSchedules();
    if (this.pendingReboot) await this.enqueueReboot();
    if (this.peer.isLeader() && !this.planner.isLoaded) await this.loadPlanner();
  }

  private async applyQueueStates(): Promise<void> {
    if (!this.options.queues) return;
    for (const state of await this.store.getQueueStates()) {
      const runner = this.queues.get(state.name);
      if (!runner) continue;
      if (runner.isPaused !== state.paused) runner.setPaused(state.paused);
      const concurrency = state.concurrency ?? this.options.queues.get(state.name)!.concurrency;
      if (runner.limit !== concurrency) runner.scale(concurrency);
    }
  }

  /** Registers a workflow defined at runtime (`workflows.define(...).register()`). */
  registerWorkflow(def: WorkflowDefinition): void {
    const entry = addWorkflow(this, this.workflows, def);
    if (entry) void this.planner.upsert(entry).then(() => this.loop.poke(), (error: unknown) => this.logger.error(`scheduling workflow ${def.name} failed: ${String(error)}`));
  }

  /** Sends a message to the other nodes (nothing to send when the notifier is in-process only). */
  async broadcast(message: Notification): Promise<void> {
    if (this.notifier.shared) await this.notifier.notify(message);
  }

  /** A runtime schedule saved on this node: applied here at once, then announced. */
  async runtimeScheduleSaved(entry: ScheduleEntry, definition: JsonObject): Promise<void> {
    this.registry.replaceSchedule(entry);
    this.runtimeSchedules.set(entry.name, JSON.stringify(definition));
    await this.planner.upsert(entry);
    this.loop.poke();
    await this.broadcast({ type: 'schedules' });
  }

  /** A runtime schedule deleted on this node: applied here at once, then announced. */
  async runtimeScheduleDeleted(name: string): Promise<void> {
    this.registry.removeSchedule(name);
    this.runtimeSchedules.delete(name);
    this.planner.remove(name);
    this.loop.poke();
    await this.broadcast({ type: 'schedules' });
  }

  // Notifications about schedules can arrive in bursts (10,000 inserts on
  // another node): one reload runs at a time, and one more after it covers
  // every message that arrived meanwhile.
  private scheduleSync: Promise<void> | null = null;
  private scheduleSyncAgain = false;

  private requestScheduleSync(): Promise<void> {
    if (this.scheduleSync) {
      this.scheduleSyncAgain = true;
      return this.scheduleSync;
    }
    this.scheduleSync = (async () => {
      do {
        this.scheduleSyncAgain = false;
        await this.syncSchedules();
      } while (this.scheduleSyncAgain);
    })().finally(() => (this.scheduleSync = null));
    return this.scheduleSync;
  }

  /** Reloads runtime schedules and pause flags from the store (changes made on other nodes). */
  private async syncSchedules(): Promise<void> {
    await syncRuntimeSchedules(this, this.runtimeSchedules);
    for (const state of await this.store.getScheduleStates()) this.planner.setPaused(state.name, state.paused);
    this.loop.poke();
  }

  private async onLeadership(leader: boolean): Promise<void> {
    this.events.emit(leader ? 'peer:election' : 'peer:resignation', { node: this.node });
    if (leader) await this.loadPlanner();
    else this.planner.unload();
    this.loop.poke();
  }

  /** Loads every schedule's progress; a store that does not answer yet is retried by the periodic sync. */
  private async loadPlanner(): Promise<void> {
    await this.whenReachable('loading schedule states', () => this.planner.load(this.registry.allSchedules()));
    this.loop.poke();
  }

  /** True until this node's @reboot jobs are stored (the store may be down at start). */
  private pendingReboot = false;

  private async enqueueReboot(): Promise<void> {
    const now = this.clock.now();
    const jobs = this.registry.reboot.map((definition) => ({
      name: definition.name,
      queue: definition.options.queue,
      args: {},
      priority: definition.options.priority,
      maxAttempts: definition.options.maxAttempts,
      timeout: definition.options.timeout,
      runAt: new Date(now),
      pinnedNode: this.options.queues ? this.node : null,
      tags: definition.options.tags,
      meta: { ...definition.options.meta, reboot: true },
    }));
    await this.producer.insert(jobs);
    this.pendingReboot = false;
  }

  private async shutdown(): Promise<void> {
    if (!this.started) {
      this.clockSync?.stop();
      await this.store?.close();
      return;
    }
    // Leadership goes first, so planning goes on elsewhere while this node drains.
    await this.peer.stop();
    await this.loop.stop();
    this.workflows.closeSpans();
    await Promise.all(this.queues.all().map((runner) => runner.stopClaiming()));
    // Heartbeats go on until the last attempt is acknowledged: a job finishing
    // within the grace period is never rescued under the draining node.
    await Promise.all(this.queues.all().map((runner) => this.drainWithin(runner)));
    await this.heartbeat?.stop();
    this.clockSync?.stop();
    this.unsubscribe?.();
    await this.notifier.stop();
    await this.store.close();
    this.started = false;
  }

  /**
   * Lets a queue's running jobs finish within its grace period, then aborts
   * them; an aborted job is handed back when its handler returns, or after
   * {@link ABORT_GRACE} at the latest (named in the log: its handler ignores
   * `ctx.signal` and may run on until the process exits).
   */
  private async drainWithin(runner: QueueRunner): Promise<void> {
    // Nothing running: only acknowledgements may still be in flight.
    if (runner.busy === 0) return runner.drain();
    if (await this.drainedWithin(runner, runner.shutdownGracePeriod)) return;
    const left = this.running.all(runner.name);
    this.logger.warn(`queue ${runner.name}: ${left.length} job(s) still running after the grace period; aborting and handing them back`);
    for (const entry of left) entry.abort('shutdown');
    if (await this.drainedWithin(runner, ABORT_GRACE)) return;
    for (const entry of this.running.all(runner.name)) {
      if (!entry.abortIgnored) continue;
      this.logger.warn(`${entry.job.name} (${entry.job.id}) ignores ctx.signal: handed back ${ABORT_GRACE / 1000} s after its shutdown abort while its handler still runs`);
      entry.forceSettle();
    }
    await runner.drain();
  }

  private async drainedWithin(runner: QueueRunner, ms: number): Promise<boolean> {
    let timer: unknown = null;
    const expired = new Promise<false>((resolve) => (timer = this.clock.setTimeout(() => resolve(false), ms)));
    const drained = await Promise.race([runner.drain().then(() => true), expired]);
    this.clock.clearTimeout(timer);
    return drained;
  }
}
