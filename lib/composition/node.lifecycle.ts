import type { Logger } from '@nestjs/common';
import type { Clock } from '../clock/clock.js';
import { ClockSync, OffsetClock } from '../clock/clock-sync.js';
import { AttemptHeartbeat } from '../execution/attempt.heartbeat.js';
import type { RunningJobs } from '../execution/running-jobs.js';
import type { LoopStalls } from '../execution/loop-stalls.js';
import type { Notifier } from '../notifier/notifier.js';
import type { Peer } from '../peer/peer.js';
import type { Planner } from '../planner/planner.js';
import type { RebootJobs } from '../planner/reboot.jobs.js';
import type { SchedulerLoop } from '../planner/scheduler.loop.js';
import type { SchedulerPlugin } from '../plugins/scheduler.plugin.js';
import type { QueueManager } from '../queue/queue.manager.js';
import { startQueues, type QueueSetupPorts } from '../queue/queue-states.js';
import type { RuntimeSchedules } from '../schedule/runtime-schedules.js';
import type { ResolvedOptions } from '../scheduler.options.js';
import type { JobStore } from '../store/job-store.js';
import { MemoryStore } from '../store/memory.store.js';
import type { Leadership } from './leadership.js';
import type { NotificationHandler } from './notification.handler.js';
import { ACK_GRACE, drainWithin, settledWithin } from './queue.drain.js';
import { whenReachable } from './when-reachable.js';
import type { BreakerBoard } from '../breakers/breaker.board.js';
import { abortLost } from '../execution/lost-attempt.js';

/**
 * What starting and stopping this node uses: the parts the composition root built.
 * @internal
 */
export interface LifecyclePorts {
  options: Pick<ResolvedOptions, 'enabled' | 'peer' | 'queues' | 'heartbeatInterval'>;
  clock: Clock;
  logger: Logger;
  store: JobStore;
  peer: Peer;
  notifier: Notifier;
  loop: SchedulerLoop;
  planner: Planner;
  queues: QueueManager;
  queueSetup: QueueSetupPorts;
  running: RunningJobs;
  /** Told of the heartbeat's timer: one that fires late tells of a stalled event loop. */
  stalls: Pick<LoopStalls, 'armed' | 'fired'>;
  schedules: Pick<RuntimeSchedules, 'load'>;
  reboot: RebootJobs;
  plugins: readonly SchedulerPlugin[];
  notifications: NotificationHandler;
  leadership: Leadership;
  /** This node's circuit breakers: loaded once the store is up, then every job's breaker must be known. */
  breakers: Pick<BreakerBoard, 'load' | 'assertKnown'>;
  /** Ends the spans of workflow runs still open here. */
  closeSpans(): void;
  /** Reads again what other nodes may have changed: queue states, schedules, breakers. */
  catchUp(): Promise<void>;
}

/**
 * This node's start sequence (at bootstrap) and stop sequence (before shutdown).
 * @internal
 */
export class NodeLifecycle {
  private heartbeat: AttemptHeartbeat | null = null;
  private clockSync: ClockSync | null = null;
  /** The node's work, started once its clock was measured (a node started while the store was away). */
  private working: Promise<void> | null = null;
  private unsubscribe: (() => void) | null = null;
  private started = false;
  private stopping = false;
  private initialized = false;
  private booted = false;

  constructor(private readonly ports: LifecyclePorts) {}

  /** True from the moment `stop()` (the application's close) begins. */
  get isStopping(): boolean {
    return this.stopping;
  }

  /** Heartbeats this node's attempts and buffered jobs now (see `AttemptHeartbeat.beat`); nothing before it started. */
  beatNow(): Promise<void> {
    return this.heartbeat?.beat() ?? Promise.resolve();
  }

  /** True once the store's `init()` (its migrations) resolved. */
  get isInitialized(): boolean {
    return this.initialized;
  }

  /**
   * True once `start()` completed (a disabled scheduler too) and the node
   * works: one started while its store was away is not started until its
   * clock is measured. A stopping node says so with {@link isStopping}.
   */
  get isStarted(): boolean {
    return this.booted && (this.clockSync?.isSettled ?? true);
  }

  async start(): Promise<void> {
    const { options, clock, logger, store, peer, notifier, loop } = this.ports;
    await store.init();
    this.initialized = true;
    if (clock instanceof OffsetClock && store.clockNow) {
      const synced = store as Required<Pick<JobStore, 'clockNow'>>;
      this.clockSync = new ClockSync({ clock, storeNow: () => synced.clockNow(), reachable: store.reachable?.() });
      await this.clockSync.start();
    }
    if (!options.peer && store instanceof MemoryStore) {
      logger.warn('peer: false with the memory store: no node in this process plans schedules or prunes old jobs');
    }
    // With waitForDatabase the store may not answer yet: what fails here is
    // loaded by the periodic sync (and leadership) once it does.
    await whenReachable(logger, 'loading runtime schedules', () => this.ports.schedules.load());
    await whenReachable(logger, 'loading circuit breakers', () => this.ports.breakers.load());
    try {
      this.ports.breakers.assertKnown();
    } catch (error) {
      this.clockSync?.stop();
      await store.close();
      throw error;
    }
    if (!options.enabled) {
      logger.log('scheduler disabled (enabled: false): jobs are registered but nothing plans or runs them');
      this.booted = true;
      return;
    }
    const { notifications } = this.ports;
    this.unsubscribe = notifier.subscribe((message) => void notifications.handle(message));
    await notifier.start();
    loop.add(this.ports.planner);
    loop.add(this.ports.queues);
    this.heartbeat = this.createHeartbeat();
    this.heartbeat.start();
    for (const plugin of this.ports.plugins) for (const task of plugin.tasks()) loop.add(task);
    peer.onChange((leader) => void this.ports.leadership.changed(leader));
    this.started = true;
    const sync = this.clockSync;
    if (!sync || sync.isSettled) await this.work();
    else {
      // Started while the store was away: leading, planning, claiming and
      // rescue all judge time, so none begins on a clock not yet measured
      // against the store's (measured the moment it first answers).
      logger.log("waiting for the store's first answer to measure this node's clock before working");
      void sync.settled.then(() => {
        if (this.stopping) return;
        this.working = this.work().catch((error: unknown) => logger.error(`starting to work failed: ${(error as Error)?.message ?? String(error)}`));
      });
    }
    this.booted = true;
  }

  /** Everything that judges time: queue runners (claims), the loop (ticks, rescue, beats), the leader lease and @reboot jobs. */
  private async work(): Promise<void> {
    const { options, logger, store, peer, loop, reboot, notifier } = this.ports;
    if (this.stopping) return;
    if (options.queues) {
      const states = await whenReachable(logger, 'loading queue states', () => store.getQueueStates());
      // A stop that began meanwhile would not halt runners started after it.
      if (this.stopping) return;
      startQueues(this.ports.queueSetup, states ?? []);
    }
    // What other nodes changed while this one loaded came as notices it could not hear yet (schedules and
    // breakers are read before LISTEN is up) or apply (queue states before its runners existed): it reads
    // them once more. Not a `resync`: nothing was missed by the runners, whose push offers stand.
    if (notifier.shared) {
      void this.ports.catchUp().catch((error: unknown) => logger.error(`catching up after start failed: ${(error as Error)?.message ?? String(error)}`));
    }
    await peer.start();
    if (this.stopping) return;
    loop.start();
    reboot.markDue();
    await whenReachable(logger, 'enqueueing @reboot jobs', () => reboot.enqueue());
  }

  /** Leadership, loop, claims, then each queue drained within its grace period; the store closes last. */
  async stop(): Promise<void> {
    const { store, peer, notifier, loop, queues, running, clock, logger } = this.ports;
    this.stopping = true;
    if (!this.started) {
      this.clockSync?.stop();
      await store.close();
      return;
    }
    // Work that began once the clock was measured has its runners and lease
    // to stop first; work that has not begun never will (it checks `stopping`).
    if (this.working && !(await settledWithin(this.working, ACK_GRACE, clock))) {
      logger.warn(`starting work has not ended after ${ACK_GRACE / 1000} s (the store does not answer): stopping meanwhile`);
    }
    // No job starts and no claim is sent from the signal on, not even while
    // the lease is released (a store that answers late takes its timeout).
    const runners = queues.all();
    for (const runner of runners) runner.halt();
    // Leadership goes next, so planning goes on elsewhere while this node
    // drains. A release the store does not answer (behind a lease renewal on
    // a silent socket) is waited for ACK_GRACE at most: the drain and its
    // grace period go on meanwhile, and the release ends, by its own
    // timeouts, before the store closes.
    const handedOver = peer.stop().catch((error: unknown) => logger.error(`handing leadership over failed: ${(error as Error)?.message ?? String(error)}`));
    if (!(await settledWithin(handedOver, ACK_GRACE, clock))) {
      logger.warn(`handing leadership over has not ended after ${ACK_GRACE / 1000} s (the store does not answer): draining meanwhile`);
    }
    // Then the buffer goes back, and the grace period begins at once. Neither
    // waits for the claim or the loop's task under way: on a store that does
    // not answer, those take up to its statement timeout, and the grace
    // period would not run meanwhile.
    const claimsStopped = Promise.all(runners.map((runner) => runner.stopClaiming()));
    const loopStopped = (async () => {
      await loop.stop();
      for (const plugin of this.ports.plugins) if (plugin.stop) await plugin.stop();
    })().catch((error: unknown) => logger.error(`stopping the scheduler's loop and plugins failed: ${(error as Error)?.message ?? String(error)}`));
    // Heartbeats go on until the last attempt is acknowledged: a job finishing
    // within the grace period is never rescued under the draining node.
    await Promise.all(runners.map((runner) => drainWithin(runner, { running, clock, logger })));
    // A claim, a hand-back of the buffer or a loop task that the store never answers (a frozen server, a
    // half-open socket its retries keep alive) must not hold the close open: what it left is rescued later.
    if (!(await settledWithin(Promise.all([claimsStopped, loopStopped]), ACK_GRACE, clock))) {
      logger.error(
        `the store has not answered the last claim, the hand-back of buffered jobs or a loop task after ${ACK_GRACE / 1000} s more; ` +
          'closing without them: jobs still claimed here are rescued later (those never started without spending an attempt)',
      );
    }
    this.ports.closeSpans();
    // The heartbeat under way, on a store that never answers, is not waited for past the same bound.
    if (this.heartbeat) await settledWithin(this.heartbeat.stop(), ACK_GRACE, clock);
    this.clockSync?.stop();
    this.unsubscribe?.();
    await handedOver;
    await notifier.stop();
    await store.close();
    this.started = false;
  }

  private createHeartbeat(): AttemptHeartbeat {
    const { running, queues, store, clock, options, stalls } = this.ports;
    return new AttemptHeartbeat({
      store,
      storeTimer: this.ports.queueSetup.storeTimer,
      clock,
      interval: options.heartbeatInterval,
      // Running and buffered (claimed, not started) jobs alike; a buffered job's start is not recorded.
      owned: (now) => [
        ...running.all().map((r) => ({ id: r.job.id, attempt: r.job.attempt, startedAt: r.started })),
        ...queues.all().flatMap((q) => q.heartbeatRefs(now)),
      ],
      // An attempt whose job was rescued or cancelled elsewhere stops here (as a cancel when it was one). That attempt
      // only: once rescued, the job may have been claimed again by this node (a newer attempt).
      lost: (ref) => {
        const attempt = running.get(ref.id);
        if (attempt?.job.attempt === ref.attempt) void abortLost(store, attempt);
        const dropped = queues.drop(ref.id, ref.attempt);
        // A buffered job cancelled while the notice was lost: its job:cancel is told now.
        if (dropped) void this.ports.notifications.settleDropped(dropped);
      },
      // The buffered jobs not lost are this node's as of the beat: they start without asking again.
      answered: (held) => {
        for (const runner of queues.all()) runner.heartbeatAnswered(held);
      },
      armed: (now, due) => stalls.armed(now, due),
      fired: (now) => stalls.fired(now, running.all()),
    });
  }
}
