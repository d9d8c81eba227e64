import { Logger } from '@nestjs/common';
import type { Clock } from '../clock/clock.js';
import type { Notification } from '../notifier/notifier.js';
import type { SchedulerRegistry } from '../scheduler.registry.js';
import type { JobStore } from '../store/job-store.js';
import type { Job } from '../store/job.types.js';
import type { SchedulerEvents } from '../telemetry/scheduler.events.js';
import { SchedulerConfigError } from '../scheduler.errors.js';
import { newBreaker } from './breaker.machine.js';
import { toBreakerState } from './breaker-state.js';
import type { BreakerChange, BreakerOutcome, BreakerRecord, BreakerSettings, CircuitBreakerStore, CircuitState } from './circuit-breaker.types.js';

/**
 * What the breakers of one node use.
 * @internal
 */
export interface BreakerBoardPorts {
  store: CircuitBreakerStore;
  /** Hands back a job a breaker holds (`unclaim` with a run time: no attempt spent). */
  jobs: Pick<JobStore, 'unclaim'>;
  registry: Pick<SchedulerRegistry, 'breakerFor' | 'jobsOfBreaker' | 'allDefinitions' | 'allSchedules'>;
  /** The breakers of the module's options. */
  configured: ReadonlyMap<string, BreakerSettings>;
  clock: Clock;
  events: SchedulerEvents;
  /** Wakes this node's runner of `queue` at `at` (epoch ms). */
  wakeAt(queue: string, at: number): void;
  /** Tells every node, this one included (a released queue wakes its runners, `breakers` has them re-read). */
  notify(message: Notification): Promise<void>;
}

/**
 * What the executor asks of the breakers: a closed breaker answers at once,
 * from this node's copy; any other asks the store.
 * @internal
 */
export interface BreakerGate {
  /** True once any breaker is known: jobs without one never reach the other calls. */
  readonly active: boolean;
  breakerOf(job: Job<unknown>): string | null;
  admit(breaker: string, job: Job<unknown>): 'run' | Promise<'run' | 'probe' | Date>;
  hold(breaker: string, job: Job<unknown>, until: Date): Promise<void>;
  /** Resolves once the breaker knows; `undefined` when there was nothing to tell it. */
  settle(breaker: string, job: Job<unknown>, outcome: BreakerOutcome, error?: unknown): Promise<void> | undefined;
}

/**
 * This node's side of the circuit breakers: a copy of every breaker (kept
 * from the answers of its own calls, re-read every poll and at a `breakers`
 * notice when the store is shared), the gate in front of each job of a
 * breaker, the outcome of each of its attempts, and the events.
 *
 * Closed breakers, and open ones before their half-open instant, are judged
 * from the copy; every other verdict is the store's, one atomic call, so
 * half-open probes are counted once for the cluster. A job held on a stale
 * copy (a reset elsewhere whose notice has not arrived) waits at most until
 * the instant it was held for.
 * @internal
 */
export class BreakerBoard implements BreakerGate {
  private readonly logger = new Logger('Scheduler');
  private readonly known = new Map<string, BreakerRecord>();
  /** Attempts running on a half-open breaker's probe slot, as `id:attempt`. */
  private readonly probes = new Set<string>();
  /** Breakers registered before the store was ready: stored by {@link load}. */
  private readonly pending = new Map<string, BreakerSettings>();
  private loaded = false;

  constructor(private readonly ports: BreakerBoardPorts) {}

  get active(): boolean {
    return this.known.size > 0;
  }

  /** Whether the store holds this node's breakers yet (a store still unreachable at start is loaded by {@link refresh}). */
  get isLoaded(): boolean {
    return this.loaded;
  }

  /**
   * At start: stores the configured breakers (their settings win over stored
   * ones) and those registered before, then reads every breaker.
   */
  async load(): Promise<void> {
    const now = new Date(this.ports.clock.now());
    for (const [name, settings] of [...this.ports.configured, ...this.pending]) this.keep(await this.ports.store.define(name, settings, now));
    this.pending.clear();
    this.loaded = true;
    await this.refresh();
  }

  /** Re-reads every breaker (other nodes may have changed them). */
  async refresh(): Promise<void> {
    if (!this.loaded) return this.load();
    for (const record of await this.ports.store.list()) this.keep(record);
  }

  /**
   * Keeps a copy the store answered unless this node holds a newer one: a
   * re-read sent before one of this node's calls can be answered after it,
   * and calls on separate connections can be answered out of order.
   */
  private keep(record: BreakerRecord): void {
    const held = this.known.get(record.name);
    if (held === undefined || record.version >= held.version) this.known.set(record.name, record);
  }

  /**
   * Fails bootstrap for a job or schedule naming a breaker neither configured
   * nor registered (here, or on another node when the store is shared).
   */
  assertKnown(): void {
    const { registry, configured } = this.ports;
    const sources = [
      ...registry.allDefinitions().map((d) => ({ source: d.source, breaker: d.options.circuitBreaker })),
      ...registry.allSchedules().map((s) => ({ source: `schedule "${s.name}"`, breaker: s.options.circuitBreaker })),
    ];
    for (const { source, breaker } of sources) {
      if (breaker === null || this.known.has(breaker)) continue;
      const names = [...new Set([...configured.keys(), ...this.known.keys()])];
      throw new SchedulerConfigError(
        source,
        'circuitBreaker',
        `unknown circuit breaker "${breaker}": name it in SchedulerModule's circuitBreakers option, or register it (scheduler.circuitBreakers.register) before the application bootstraps; known: ${names.join(', ') || '(none)'}`,
      );
    }
  }

  has(name: string): boolean {
    return this.known.has(name);
  }

  names(): string[] {
    return [...this.known.keys()];
  }

  record(name: string): BreakerRecord | undefined {
    return this.known.get(name);
  }

  breakerOf(job: Job<unknown>): string | null {
    return this.ports.registry.breakerFor(job);
  }

  /** The breaker open, as this node last saw it, and not yet due to turn half-open: a tick is skipped. */
  isOpen(name: string): boolean {
    const record = this.known.get(name);
    return record !== undefined && record.state === 'open' && this.ports.clock.now() < (record.nextProbeAt ?? 0);
  }

  admit(breaker: string, job: Job<unknown>): 'run' | Promise<'run' | 'probe' | Date> {
    const record = this.known.get(breaker);
    if (record === undefined || record.state === 'closed') return 'run';
    // Open and not yet due: held without asking (a buffer of held jobs would cost a round trip each).
    if (record.state === 'open' && this.ports.clock.now() < (record.nextProbeAt ?? 0)) return Promise.resolve(new Date(record.nextProbeAt!));
    return this.acquire(breaker, job);
  }

  /** Hands a held job back, due when the breaker lets probes through; its attempt is not spent. */
  async hold(breaker: string, job: Job<unknown>, until: Date): Promise<void> {
    const handed = await this.ports.jobs.unclaim([{ id: job.id, attempt: job.attempt }], { runAt: until });
    if (handed === 0) return;
    this.ports.events.emit('circuit:reject', { name: breaker, job, until });
    // Closed while this job was being handed back (its probe answered meanwhile): the close released the others already.
    if (this.known.get(breaker)?.state === 'closed') {
      const now = this.ports.clock.now();
      await this.ports.store.release([job.name], until, new Date(now));
      this.ports.wakeAt(job.queue, now);
    } else this.ports.wakeAt(job.queue, until.getTime());
  }

  settle(breaker: string, job: Job<unknown>, outcome: BreakerOutcome, error?: unknown): Promise<void> | undefined {
    const probe = this.probes.size > 0 && this.probes.delete(`${job.id}:${job.attempt}`);
    const record = this.known.get(breaker);
    // The common case costs nothing: a success, or a hand-back, with a closed breaker and no failure to forget.
    if (!probe && outcome !== 'failure' && (outcome === 'abandon' || (record?.state === 'closed' && record.failures === 0))) return undefined;
    return this.ports.store.record(breaker, outcome, probe, new Date(this.ports.clock.now())).then(
      async (change) => {
        if (change) await this.changed(change, error);
      },
      (e: unknown) => this.logger.error(`circuit breaker ${breaker}: recording an attempt of job ${job.id} failed: ${describe(e)}`),
    );
  }

  /** Registers (or re-configures) a breaker at runtime. */
  async register(name: string, settings: BreakerSettings): Promise<BreakerRecord> {
    if (!this.loaded) {
      this.pending.set(name, settings);
      const record = { ...(this.known.get(name) ?? newBreaker(name, settings)), ...settings };
      this.known.set(name, record);
      return record;
    }
    const record = await this.ports.store.define(name, settings, new Date(this.ports.clock.now()));
    this.keep(record);
    await this.ports.notify({ type: 'breakers' });
    return record;
  }

  /** Closes a breaker; the jobs it holds are due at once. Resolves to `null` for an unknown name. */
  async reset(name: string): Promise<BreakerRecord | null> {
    const change = await this.ports.store.reset(name, new Date(this.ports.clock.now()));
    if (change) await this.changed(change);
    return change?.record ?? null;
  }

  private async acquire(breaker: string, job: Job<unknown>): Promise<'run' | 'probe' | Date> {
    const admission = await this.ports.store.acquire(breaker, new Date(this.ports.clock.now()));
    if (!admission) return 'run';
    await this.changed(admission);
    if (admission.verdict === 'probe') this.probes.add(`${job.id}:${job.attempt}`);
    if (admission.verdict !== 'hold') return admission.verdict;
    return new Date(admission.record.nextProbeAt ?? this.ports.clock.now());
  }

  /** Keeps the new state; a transition made by this call is announced (events, other nodes) and a close releases the held jobs. */
  private async changed(change: BreakerChange, error?: unknown): Promise<void> {
    const { record, from } = change;
    this.keep(record);
    if (record.state === from) return;
    const event = { name: record.name, from, to: record.state, breaker: toBreakerState(record), ...(record.state === 'open' ? { error } : {}) };
    this.ports.events.emit(EVENTS[record.state], event);
    const log = `circuit breaker ${record.name}: ${from} → ${record.state}`;
    if (record.state === 'open')
      this.logger.warn(`${log} after ${record.failures} failure(s) in a row; jobs wait until ${new Date(record.nextProbeAt!).toISOString()}`);
    else this.logger.log(log);
    if (record.state === 'closed' && change.heldUntil != null) await this.release(record.name, change.heldUntil);
    if (record.state !== 'halfOpen') await this.ports.notify({ type: 'breakers' }).catch(() => undefined);
  }

  /** The jobs held until the breaker's last instant are due now, on every node. */
  private async release(name: string, until: number): Promise<void> {
    const names = this.ports.registry.jobsOfBreaker(name);
    const queues = await this.ports.store.release(names, new Date(until), new Date(this.ports.clock.now()));
    for (const queue of queues) await this.ports.notify({ type: 'insert', queue }).catch(() => undefined);
  }
}

const EVENTS = { open: 'circuit:open', halfOpen: 'circuit:halfOpen', closed: 'circuit:close' } as const satisfies Record<CircuitState, string>;

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
