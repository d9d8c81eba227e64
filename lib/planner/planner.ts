import { Logger } from '@nestjs/common';
import type { Clock } from '../clock/clock.js';
import { BinaryHeap } from '../common/binary-heap.js';
import { FailureReport } from '../common/failure-report.js';
import type { JobProducer } from '../queue/job.producer.js';
import type { ScheduleEntry } from '../scheduler.registry.js';
import type { JobStore } from '../store/job-store.js';
import type { NewJob } from '../store/job.types.js';
import type { JobSource, SchedulerEvents } from '../telemetry/scheduler.events.js';
import type { ScheduleSpec } from '../schedule/schedule-spec.js';
import type { LoopTask } from './scheduler.loop.js';
import { ticksToPlan } from './tick-planner.js';
import { tickSkipReason, tickUnique } from './tick-unique.js';

interface Slot {
  entry: ScheduleEntry;
  plannedUntil: number;
  paused: boolean;
  /** The extra tick of `runOnStart`, due when the schedule was first registered; cleared once planned. */
  startTick?: number;
  /** Changes when the schedule is replaced or removed, so stale heap items are dropped. */
  version: number;
}

interface Due {
  at: number;
  name: string;
  version: number;
}

/**
 * What the planner needs.
 * @internal
 */
export interface PlannerDeps {
  store: JobStore;
  producer: JobProducer;
  clock: Clock;
  events: SchedulerEvents;
  misfireThreshold: number;
  isLeader(): boolean;
  /** Whether a circuit breaker is open (its ticks are skipped). @default never */
  circuitOpen?(breaker: string): boolean;
}

// A failed planning round (store down) is retried this much later, not in a tight loop.
const RETRY_AFTER_FAILURE_MS = 1_000;
/** The `job:enqueue` source of a schedule's ticks, by the kind of its schedule. */
const TICK_SOURCE: Record<ScheduleSpec['kind'], JobSource> = { cron: 'cron', every: 'interval', at: 'once', reboot: 'once' };

/**
 * Plans schedule ticks (leader only): a heap of each schedule's next tick
 * drives one loop timer. Every tick is inserted under a (schedule, tick)
 * key that the store keeps unique, so a tick planned twice — by a new
 * leader after a fail-over, or after a restart — still runs once.
 * How far each schedule was planned is stored, so misfires are seen across
 * restarts.
 * @internal
 */
export class Planner implements LoopTask {
  readonly precise = true;
  readonly name = 'planner';
  private readonly logger = new Logger('Scheduler');
  /** Schedules whose planning fails, by name: an outage logs a line a schedule and a reminder a minute, not one a retry. */
  private readonly failing = new Map<string, FailureReport>();
  private readonly slots = new Map<string, Slot>();
  private readonly heap = new BinaryHeap<Due>((a, b) => a.at - b.at);
  private version = 0;
  private loaded = false;
  /**
   * Runtime changes made while a load reads the store (`null`: removed).
   * The load works from the schedules it was given, so a schedule inserted
   * meanwhile would otherwise wait for the next leadership to be planned.
   */
  private pending: Map<string, ScheduleEntry | null> | null = null;
  /** Counts {@link unload}s: a load that sees it change (leadership lost meanwhile) leaves the planner unloaded. */
  private generation = 0;

  constructor(private readonly deps: PlannerDeps) {}

  /** Reads stored progress and pause flags for `entries` (on becoming leader). One load at a time (the caller's to ensure). */
  async load(entries: readonly ScheduleEntry[]): Promise<void> {
    const generation = this.generation;
    this.pending ??= new Map();
    const states = new Map((await this.deps.store.getScheduleStates()).map((s) => [s.name, s]));
    if (generation !== this.generation) return;
    const now = this.deps.clock.now();
    this.slots.clear();
    this.heap.clear();
    for (const entry of entries) {
      const state = states.get(entry.name);
      let plannedUntil = state?.plannedUntil?.getTime();
      const first = plannedUntil === undefined;
      if (first) {
        // A schedule seen for the first time starts now: no backfill.
        plannedUntil = now;
        await this.deps.store.setScheduleState(entry.name, { plannedUntil: new Date(now) });
        if (generation !== this.generation) return;
      }
      this.put(entry, plannedUntil!, state?.paused ?? false, first && entry.runOnStart ? plannedUntil : undefined);
    }
    this.loaded = true;
    const pending = this.pending ?? new Map<string, ScheduleEntry | null>();
    this.pending = null;
    for (const [name, entry] of pending) {
      if (entry) await this.upsert(entry);
      else this.remove(name);
    }
  }

  /** True once `load` succeeded (this node leads and knows every schedule's progress). */
  get isLoaded(): boolean {
    return this.loaded;
  }

  unload(): void {
    this.generation++;
    this.loaded = false;
    this.pending = null;
    this.slots.clear();
    this.heap.clear();
  }

  /** Adds or replaces a schedule while leader (runtime insert/update). */
  async upsert(entry: ScheduleEntry): Promise<void> {
    if (!this.loaded) {
      this.pending?.set(entry.name, entry);
      return;
    }
    const old = this.slots.get(entry.name);
    let plannedUntil = old?.plannedUntil;
    let first = false;
    if (plannedUntil === undefined) {
      // Runtime schedules reach a new leader through here too: only one never planned runs on start.
      if (entry.runOnStart) first = !(await this.deps.store.getScheduleStates()).some((x) => x.name === entry.name && x.plannedUntil);
      plannedUntil = this.deps.clock.now();
      await this.deps.store.setScheduleState(entry.name, { plannedUntil: new Date(plannedUntil) });
    }
    // A replaced slot (the same schedule reloaded) keeps a start tick not planned yet.
    this.put(entry, plannedUntil, old?.paused ?? false, first ? plannedUntil : old?.startTick);
  }

  remove(name: string): void {
    this.pending?.set(name, null);
    this.slots.delete(name);
    this.failing.delete(name);
  }

  setPaused(name: string, paused: boolean): void {
    const slot = this.slots.get(name);
    if (slot) slot.paused = paused;
  }

  /** The next tick of a schedule after now, as the planner sees it. */
  nextTick(entry: ScheduleEntry, now: number): number | null {
    const slot = this.slots.get(entry.name);
    return entry.spec.next(Math.max(now, slot?.plannedUntil ?? now));
  }

  nextAt(): number | null {
    if (!this.loaded || !this.deps.isLeader()) return null;
    for (let top = this.heap.peek(); top; top = this.heap.peek()) {
      if (this.slots.get(top.name)?.version === top.version) return top.at;
      this.heap.pop();
    }
    return null;
  }

  async run(now: number): Promise<void> {
    while (this.deps.isLeader()) {
      const top = this.heap.peek();
      if (!top || top.at > now) return;
      this.heap.pop();
      const slot = this.slots.get(top.name);
      if (!slot || slot.version !== top.version) continue;
      try {
        await this.plan(slot, now);
        this.failing.get(top.name)?.succeeded();
        this.failing.delete(top.name);
      } catch (error) {
        let report = this.failing.get(top.name);
        if (!report) this.failing.set(top.name, (report = new FailureReport(this.logger, `planning ${slot.entry.name}`, false)));
        report.failed(error);
        this.heap.push({ at: now + RETRY_AFTER_FAILURE_MS, name: top.name, version: slot.version });
        continue;
      }
      this.schedule(slot);
    }
  }

  /** `startTick`: the `runOnStart` tick still to plan, if any. */
  private put(entry: ScheduleEntry, plannedUntil: number, paused: boolean, startTick?: number): void {
    const slot: Slot = { entry, plannedUntil, paused, version: ++this.version };
    if (startTick !== undefined && entry.runOnStart) slot.startTick = startTick;
    this.slots.set(entry.name, slot);
    this.schedule(slot);
  }

  private schedule(slot: Slot): void {
    const tick = slot.entry.spec.next(slot.plannedUntil);
    const next = slot.startTick === undefined ? tick : Math.min(slot.startTick, tick ?? Infinity);
    if (next !== null) this.heap.push({ at: next, name: slot.entry.name, version: slot.version });
  }

  private async plan(slot: Slot, now: number): Promise<void> {
    const { entry } = slot;
    const ticks = ticksToPlan(entry.spec, slot.plannedUntil, now, this.deps.misfireThreshold, entry.options.misfire);
    if (slot.startTick !== undefined && slot.startTick <= now) ticks.unshift({ at: slot.startTick, misfired: false });
    const breaker = entry.options.circuitBreaker;
    const open = breaker !== null && this.deps.circuitOpen?.(breaker) === true;
    if (slot.paused || open) {
      for (const tick of ticks) {
        this.deps.events.emit('job:skip', {
          name: entry.handler.name,
          schedule: entry.name,
          reason: slot.paused ? 'paused' : 'circuit_open',
          job: null,
          tick: new Date(tick.at),
          duration: 0,
          outcome: 'skipped',
        });
      }
    } else if (ticks.length > 0) {
      const results = await this.deps.producer.insert(
        ticks.map((tick) => tickJob(entry, tick.at, tick.misfired)),
        TICK_SOURCE[entry.spec.kind],
      );
      results.forEach((result, i) => {
        if (result.inserted || result.conflict === 'tick') return;
        this.deps.events.emit('job:skip', {
          name: entry.handler.name,
          schedule: entry.name,
          reason: tickSkipReason(entry, result.conflict),
          job: result.job,
          tick: new Date(ticks[i]!.at),
          duration: 0,
          outcome: 'skipped',
        });
      });
    }
    await this.deps.store.setScheduleState(entry.name, { plannedUntil: new Date(now) });
    slot.plannedUntil = now;
    slot.startTick = undefined;
  }
}

/**
 * The job of one tick of a schedule.
 * @internal
 */
export function tickJob(entry: ScheduleEntry, at: number, misfired: boolean): NewJob {
  const { options } = entry;
  return {
    ...scheduleJobBase(entry),
    runAt: new Date(at),
    scheduledAt: new Date(at),
    misfired,
    tickKey: `${entry.name}@${new Date(at).toISOString()}`,
    meta: { ...options.meta, scheduled: true, schedule: entry.spec.description },
  };
}

/**
 * The fields every job of a schedule shares (ticks and `runNow`).
 * @internal
 */
export function scheduleJobBase(entry: ScheduleEntry): Omit<NewJob, 'runAt'> {
  const { options } = entry;
  const key = `schedule:${entry.name}`;
  return {
    name: entry.handler.name,
    schedule: entry.name,
    queue: options.queue,
    args: entry.args ?? {},
    priority: options.priority,
    maxAttempts: options.maxAttempts,
    timeout: options.timeout,
    ...tickUnique(entry),
    serialKey: options.overlap === 'bufferOne' ? key : null,
    tags: options.tags,
    meta: options.meta,
  };
}
