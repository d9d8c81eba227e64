import { Logger } from '@nestjs/common';
import { SystemClock, type Clock } from '../clock/clock.js';
import { ClockSync, OffsetClock } from '../clock/clock-sync.js';
import { AttemptHeartbeat } from '../execution/attempt.heartbeat.js';
import { JobExecutor } from '../execution/job.executor.js';
import { RunningJobs } from '../execution/running-jobs.js';
import type { JobMiddleware } from '../middleware/job-middleware.js';
import { LocalNotifier, type Notification, type Notifier } from '../notifier/notifier.js';
import { LocalPeer, type Peer } from '../peer/peer.js';
import { Planner } from '../planner/planner.js';
import { RebootJobs } from '../planner/reboot.jobs.js';
import { SchedulerLoop } from '../planner/scheduler.loop.js';
import { ClusterSyncPlugin } from '../plugins/cluster-sync.plugin.js';
import { LifelinePlugin } from '../plugins/lifeline.plugin.js';
import { PrunerPlugin } from '../plugins/pruner.plugin.js';
import type { SchedulerPlugin } from '../plugins/scheduler.plugin.js';
import { JobProducer } from '../queue/job.producer.js';
import { QueueManager } from '../queue/queue.manager.js';
import { applyQueueStates, startQueues, type QueueSetupPorts } from '../queue/queue-states.js';
import { RuntimeSchedules } from '../schedule/runtime-schedules.js';
import type { ResolvedOptions } from '../scheduler.options.js';
import type { JobDefinition, SchedulerRegistry } from '../scheduler.registry.js';
import type { JobStore } from '../store/job-store.js';
import { MemoryStore } from '../store/memory.store.js';
import type { StoreBundle, StoreContext } from '../store/store-options.js';
import { SchedulerEvents } from '../telemetry/scheduler.events.js';
import { WorkflowEngine } from '../workflow/workflow.engine.js';
import { WorkflowRepairPlugin } from '../workflow/workflow.repair.js';
import { addWorkflow, setupWorkflows } from '../workflow/workflow.setup.js';
import { NotificationHandler } from './notification.handler.js';
import { drainWithin } from './queue.drain.js';
import type { SchedulerPorts } from './scheduler.ports.js';
import { whenReachable } from './when-reachable.js';

/** What composing a scheduler takes: options, the handlers found, and the two things only the host can do. */
export interface CompositionInput {
  options: ResolvedOptions;
  /** Handlers and schedules, filled by discovery before composing. */
  registry: SchedulerRegistry;
  /** Opens the store bundle (the store, with the peer and notifier it brings). */
  openStore(context: StoreContext): Promise<StoreBundle>;
  /** The module's middleware followed by a job's own, as instances. */
  resolveMiddleware(definition: JobDefinition): Promise<JobMiddleware[]>;
}

/**
 * The composition root: builds the job's path once (store bundle, peer,
 * notifier, loop, queues, producer, executor, planner, plugins, workflow
 * engine), hands each part only the ports it uses, and runs the start and
 * stop sequences. Nothing it builds holds a reference back to it.
 */
export class SchedulerRoot {
  private readonly logger = new Logger('Scheduler');
  private readonly events = new SchedulerEvents();
  private readonly running = new RunningJobs();
  private readonly loop: SchedulerLoop;
  private readonly queues: QueueManager;
  private readonly planner: Planner;
  private readonly workflows: WorkflowEngine;
  private readonly schedules: RuntimeSchedules;
  private readonly reboot: RebootJobs;
  private readonly plugins: SchedulerPlugin[];
  private readonly queueSetup: QueueSetupPorts;
  /** The parts the start and stop sequences drive. */
  private readonly lifecycle: { store: JobStore; peer: Peer; notifier: Notifier; notifications: NotificationHandler };
  private heartbeat: AttemptHeartbeat | null = null;
  private clockSync: ClockSync | null = null;
  private unsubscribe: (() => void) | null = null;
  private started = false;
  /** The ports handed to the API above (service, dead letters, workflows, tester). */
  readonly ports: SchedulerPorts;

  /** Opens the store and builds every part; a failure closes the store again. */
  static async compose(input: CompositionInput): Promise<SchedulerRoot> {
    const { options } = input;
    // Real time is corrected by the offset to the store's clock once it is measured (see ClockSync).
    const clock = options.clock instanceof SystemClock ? new OffsetClock(options.clock) : options.clock;
    const bundle = await input.openStore({ node: options.nodeName, clock, leaseTtl: options.leaseTtl, peerEligible: options.peer });
    try {
      const root = new SchedulerRoot(input, clock, bundle);
      for (const definition of input.registry.allDefinitions()) definition.middleware = await input.resolveMiddleware(definition);
      return root;
    } catch (error) {
      await bundle.store.close().catch(() => undefined);
      throw error;
    }
  }

  private constructor(
    private readonly input: CompositionInput,
    private readonly clock: Clock,
    bundle: StoreBundle,
  ) {
    const { options, registry } = input;
    const { events, running } = this;
    const node = options.nodeName;
    const store: JobStore = bundle.store;
    const peer: Peer = bundle.peer ?? new LocalPeer(node, options.peer);
    const notifier: Notifier = bundle.notifier ?? new LocalNotifier();
    const isLeader = () => peer.isLeader();
    const loop = (this.loop = new SchedulerLoop(clock));
    const queues = (this.queues = new QueueManager(options.pollInterval, () => loop.poke()));
    const producer = new JobProducer(store, notifier, queues, clock, node);
    const executor = new JobExecutor({ store, registry, clock, events, running, onRetry: (queue, runAt) => queues.wakeAt(queue, runAt.getTime()), forgetCompleted: options.keepCompleted === 0 });
    const planner = (this.planner = new Planner({ store, producer, clock, events, misfireThreshold: options.misfireThreshold, isLeader }));
    const engine = (this.workflows = new WorkflowEngine({ store, insert: (jobs) => producer.insert(jobs), clock, events }));
    setupWorkflows(engine, registry, events);
    const broadcast = async (message: Notification) => {
      if (notifier.shared) await notifier.notify(message);
    };
    const schedules = (this.schedules = new RuntimeSchedules({ store, registry, planner, queueNames: options.queueNames, poke: () => loop.poke(), broadcast }));
    this.reboot = new RebootJobs({ registry, producer, clock, node, runsJobs: options.queues !== null });
    this.queueSetup = { specs: options.queues, queues, store, executor, running, clock, node };
    const sync = new ClusterSyncPlugin({
      interval: options.pollInterval * 5,
      shared: notifier.shared,
      applyQueueStates: () => applyQueueStates(this.queueSetup),
      syncSchedules: () => schedules.sync(),
      reboot: this.reboot,
      isLeader,
      plannerLoaded: () => planner.isLoaded,
      loadPlanner: () => this.loadPlanner(),
    });
    this.plugins = [
      sync,
      new LifelinePlugin({ store, events, isLeader, wake: (queue) => queues.wake(queue), interval: options.rescueInterval, rescueAfter: options.rescueAfter }),
      new WorkflowRepairPlugin({ store, engine, isLeader, interval: options.rescueInterval }),
      new PrunerPlugin({ store, isLeader, interval: options.pruneInterval, keepCompleted: options.keepCompleted, keepDead: options.keepDead }),
    ];
    const notifications = new NotificationHandler({
      queues,
      running,
      store,
      applyQueueStates: () => applyQueueStates(this.queueSetup),
      requestScheduleSync: () => schedules.requestSync(),
      sync: () => sync.sync(),
    });
    this.lifecycle = { store, peer, notifier, notifications };
    const jobs = { registry, queueNames: options.queueNames, clock, maxPayloadBytes: store.maxPayloadBytes };
    const register = (def: Parameters<typeof addWorkflow>[2]) => {
      const entry = addWorkflow(engine, registry, def);
      if (entry) void planner.upsert(entry).then(() => loop.poke(), (error: unknown) => this.logger.error(`scheduling workflow ${def.name} failed: ${String(error)}`));
    };
    this.ports = {
      service: { node, enabled: options.enabled, queueSpecs: options.queues, registry, clock, events, store, peer, jobs, producer, queues, planner, schedules, notifier, broadcast },
      deadLetters: { store, clock, wake: (queue) => queues.wake(queue) },
      workflows: { engine, store, clock, notifier, registry, queueNames: options.queueNames, register },
      tester: { node, clock, events, store, running, jobs, execute: (job) => executor.execute(job) },
    };
  }

  /** Starts the job's path (at application bootstrap). */
  async start(): Promise<void> {
    const { options } = this.input;
    const { store, peer, notifier, notifications } = this.lifecycle;
    await store.init();
    if (this.clock instanceof OffsetClock && store.clockNow) {
      const synced = store as Required<Pick<JobStore, 'clockNow'>>;
      this.clockSync = new ClockSync({ clock: this.clock, storeNow: () => synced.clockNow() });
      await this.clockSync.start();
    }
    if (!options.peer && store instanceof MemoryStore) {
      this.logger.warn('peer: false with the memory store: no node in this process plans schedules or prunes old jobs');
    }
    // With waitForDatabase the store may not answer yet: what fails here is
    // loaded by the periodic sync (and leadership) once it does.
    await whenReachable(this.logger, 'loading runtime schedules', () => this.schedules.load());
    if (!options.enabled) {
      this.logger.log('scheduler disabled (enabled: false): jobs are registered but nothing plans or runs them');
      return;
    }
    this.unsubscribe = notifier.subscribe((message) => void notifications.handle(message));
    await notifier.start();
    if (options.queues) startQueues(this.queueSetup, (await whenReachable(this.logger, 'loading queue states', () => store.getQueueStates())) ?? []);
    this.loop.add(this.planner);
    this.loop.add(this.queues);
    this.heartbeat = this.createHeartbeat(store);
    this.heartbeat.start();
    for (const plugin of this.plugins) for (const task of plugin.tasks()) this.loop.add(task);
    peer.onChange((leader) => void this.onLeadership(leader));
    await peer.start();
    this.loop.start();
    this.started = true;
    this.reboot.pending = true;
    await whenReachable(this.logger, 'enqueueing @reboot jobs', () => this.reboot.enqueue());
  }

  /** Stops it (before application shutdown): leadership, loop, claims, then drains within each queue's grace period. */
  async stop(): Promise<void> {
    const { store, peer, notifier } = this.lifecycle;
    if (!this.started) {
      this.clockSync?.stop();
      await store.close();
      return;
    }
    // Leadership goes first, so planning goes on elsewhere while this node drains.
    await peer.stop();
    await this.loop.stop();
    this.workflows.closeSpans();
    const runners = this.queues.all();
    await Promise.all(runners.map((runner) => runner.stopClaiming()));
    // Heartbeats go on until the last attempt is acknowledged: a job finishing
    // within the grace period is never rescued under the draining node.
    const drain = { running: this.running, clock: this.clock, logger: this.logger };
    await Promise.all(runners.map((runner) => drainWithin(runner, drain)));
    await this.heartbeat?.stop();
    this.clockSync?.stop();
    this.unsubscribe?.();
    await notifier.stop();
    await store.close();
    this.started = false;
  }

  private createHeartbeat(store: JobStore): AttemptHeartbeat {
    const { running, queues } = this;
    return new AttemptHeartbeat({
      store,
      clock: this.clock,
      interval: this.input.options.heartbeatInterval,
      // Running and buffered (claimed, not started) jobs alike; a buffered job's start is not recorded.
      owned: () => [
        ...running.all().map((r) => ({ id: r.job.id, attempt: r.job.attempt, startedAt: r.started })),
        ...queues.all().flatMap((q) => q.buffered.map((job) => ({ id: job.id, attempt: job.attempt, startedAt: null }))),
      ],
      // An attempt whose job was rescued or cancelled elsewhere stops here.
      lost: (ref) => {
        running.get(ref.id)?.abort('lease-lost');
        queues.drop(ref.id);
      },
    });
  }

  private async onLeadership(leader: boolean): Promise<void> {
    this.events.emit(leader ? 'peer:election' : 'peer:resignation', { node: this.input.options.nodeName });
    if (leader) await this.loadPlanner();
    else this.planner.unload();
    this.loop.poke();
  }

  /** Loads every schedule's progress; a store that does not answer yet is retried by the periodic sync. */
  private async loadPlanner(): Promise<void> {
    await whenReachable(this.logger, 'loading schedule states', () => this.planner.load(this.input.registry.allSchedules()));
    this.loop.poke();
  }
}
