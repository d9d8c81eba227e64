import type { Logger } from '@nestjs/common';
import type { Planner } from '../planner/planner.js';
import type { ScheduleEntry } from '../scheduler.registry.js';
import type { SchedulerEvents } from '../telemetry/scheduler.events.js';
import { whenReachable } from './when-reachable.js';
import { coalesced } from '../common/coalesced.js';

/**
 * What following leadership uses.
 * @internal
 */
export interface LeadershipPorts {
  planner: Pick<Planner, 'load' | 'unload'>;
  /** Every schedule registered now. */
  schedules(): ScheduleEntry[];
  /** The planner changed: the loop re-reads its next wake-up. */
  poke(): void;
  events: Pick<SchedulerEvents, 'emit'>;
  node: string;
  logger: Logger;
}

/**
 * The leader plans every schedule: it loads their progress when elected and drops it when it resigns.
 * @internal
 */
export class Leadership {
  constructor(private readonly ports: LeadershipPorts) {}

  /** The peer's answer changed. */
  readonly changed = async (leader: boolean): Promise<void> => {
    const { events, node, planner } = this.ports;
    events.emit(leader ? 'peer:election' : 'peer:resignation', { node });
    if (leader) await this.loadPlanner();
    else planner.unload();
    this.ports.poke();
  };

  /**
   * Loads every schedule's progress; a store that does not answer yet is
   * retried by the periodic sync. One load at a time: the election and the
   * sync (or a catch-up) may both ask, and two loads at once would rebuild
   * the planner over each other.
   */
  readonly loadPlanner = coalesced(async () => {
    const { logger, planner, schedules } = this.ports;
    await whenReachable(logger, 'loading schedule states', () => planner.load(schedules()));
    this.ports.poke();
  });
}
