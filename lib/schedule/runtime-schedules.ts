import { Logger } from '@nestjs/common';
import type { Notification } from '../notifier/notifier.js';
import type { Planner } from '../planner/planner.js';
import type { ScheduleEntry, SchedulerRegistry } from '../scheduler.registry.js';
import { canonicalJson, type JsonObject } from '../common/json.js';
import type { JobStore } from '../store/job-store.js';
import { buildRuntimeSchedule, type RuntimeScheduleInput } from './runtime-schedule.js';
import { coalesced } from '../common/coalesced.js';

/**
 * What keeping runtime schedules in step with the store uses.
 * @internal
 */
export interface RuntimeSchedulePorts {
  store: Pick<JobStore, 'listSchedules' | 'getScheduleStates' | 'maxPayloadBytes'>;
  registry: SchedulerRegistry;
  planner: Pick<Planner, 'upsert' | 'remove' | 'setPaused'>;
  /** The queues this node knows (`null`: any name). */
  queueNames: ReadonlySet<string> | null;
  /** A schedule changed: the loop re-reads its next wake-up. */
  poke(): void;
  /** Tells the other nodes (nothing to do when the notifier is in-process only). */
  broadcast(message: Notification): Promise<void>;
}

/**
 * The schedules inserted at runtime, as this node knows them: changes made
 * here apply at once and are announced; changes made on other nodes are
 * loaded from the store when announced (or by the periodic sync).
 * @internal
 */
export class RuntimeSchedules {
  private readonly logger = new Logger('Scheduler');
  /** Runtime schedules loaded from the store, as canonical JSON (a store may reorder keys), to see what another node changed. */
  private readonly seen = new Map<string, string>();

  constructor(private readonly ports: RuntimeSchedulePorts) {}

  /** A runtime schedule saved on this node: applied here at once, then announced. */
  async saved(entry: ScheduleEntry, definition: JsonObject): Promise<void> {
    this.ports.registry.replaceSchedule(entry);
    this.seen.set(entry.name, canonicalJson(definition));
    await this.ports.planner.upsert(entry);
    this.ports.poke();
    await this.ports.broadcast({ type: 'schedules' });
  }

  /** A runtime schedule deleted on this node: applied here at once, then announced. */
  async deleted(name: string): Promise<void> {
    this.ports.registry.removeSchedule(name);
    this.seen.delete(name);
    this.ports.planner.remove(name);
    this.ports.poke();
    await this.ports.broadcast({ type: 'schedules' });
  }

  /**
   * Another node changed schedules: reloads them. Notices can come in bursts
   * (10,000 inserts on another node): one reload runs at a time, and one
   * more after it covers every notice that came meanwhile.
   */
  readonly requestSync = coalesced(() => this.sync());

  /** Reloads runtime schedules and pause flags from the store (changes made on other nodes). */
  async sync(): Promise<void> {
    await this.load();
    for (const state of await this.ports.store.getScheduleStates()) this.ports.planner.setPaused(state.name, state.paused);
    this.ports.poke();
  }

  /**
   * Makes the registry's runtime schedules match the store (at bootstrap, and
   * when another node changed them): adds new ones, replaces changed ones,
   * removes deleted ones, and tells the planner.
   */
  async load(): Promise<void> {
    const { store, registry, planner, queueNames } = this.ports;
    const before = new Map(this.seen);
    const stored = await store.listSchedules();
    const names = new Set(stored.map((x) => x.name));
    // A schedule saved here while the list was read is newer than the list: left as it is.
    const savedMeanwhile = (name: string) => this.seen.get(name) !== before.get(name);
    for (const [name] of this.seen) {
      if (names.has(name) || savedMeanwhile(name)) continue;
      this.seen.delete(name);
      registry.removeSchedule(name);
      planner.remove(name);
    }
    for (const { name, definition } of stored) {
      const json = canonicalJson(definition);
      if (this.seen.get(name) === json || savedMeanwhile(name)) continue;
      try {
        const fail = (option: string, detail: string): never => {
          throw new Error(`${option}: ${detail}`);
        };
        const entry = buildRuntimeSchedule(definition as unknown as RuntimeScheduleInput, registry, queueNames, fail, store.maxPayloadBytes);
        const existing = registry.findSchedule(entry.name);
        if (existing && existing.origin !== 'runtime') {
          this.logger.warn(`stored schedule "${entry.name}" clashes with a schedule defined in code; the stored one is ignored`);
          continue;
        }
        registry.replaceSchedule(entry);
        this.seen.set(name, json);
        await planner.upsert(entry);
      } catch (error) {
        // Kept in the store untouched: a later deploy that registers the handler again brings it back.
        this.logger.warn(`stored schedule "${name}" is not loaded: ${(error as Error).message}`);
      }
    }
  }
}
