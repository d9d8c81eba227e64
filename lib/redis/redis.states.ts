import type { JsonObject } from '../common/json.js';
import type { QueueState, ScheduleState, StoredSchedule } from '../store/job.types.js';
import { compareNames } from '../store/memory/queries.js';
import type { RedisConnection } from './redis.client.js';
import type { RedisParking } from './redis.parking.js';

/**
 * Runtime schedules, schedule states and queue states of a Redis store
 * (scripts/states.lua.ts). A pause change refiles its jobs' ready entries
 * before it resolves (see RedisParking).
 * @internal
 */
export class RedisStates {
  constructor(
    private readonly redis: RedisConnection,
    private readonly parking: RedisParking,
  ) {}

  async saveSchedule(schedule: StoredSchedule): Promise<void> {
    await this.redis.run('schedSaveSchedule', schedule.name, JSON.stringify(schedule.definition));
  }

  /** Also forgets the schedule's state (which resumes it if paused). */
  async deleteSchedule(name: string): Promise<boolean> {
    const [existed, refile] = (await this.redis.run('schedDeleteSchedule', name)) as [number, number];
    if (Number(refile) > 0) await this.parking.settle();
    return Number(existed) === 1;
  }

  async listSchedules(): Promise<StoredSchedule[]> {
    const all = await this.redis.client.hgetall(`${this.redis.base}sched`);
    return Object.entries(all)
      .map(([name, definition]) => ({ name, definition: JSON.parse(definition) as JsonObject }))
      .sort((a, b) => compareNames(a.name, b.name));
  }

  async getScheduleStates(): Promise<ScheduleState[]> {
    const answer = (await this.redis.run('schedScheduleStates')) as unknown[];
    // Last: whether refiles are owed (a walk cut short, or a pause an earlier build changed).
    if (Number(answer.pop()) === 1) void this.parking.settleOrWarn();
    return (answer as [string, number, string | null][])
      .map(([name, paused, planned]) => ({ name, paused: Number(paused) === 1, plannedUntil: planned === null ? null : new Date(Number(planned)) }))
      .sort((a, b) => compareNames(a.name, b.name));
  }

  async setScheduleState(name: string, patch: Partial<Omit<ScheduleState, 'name'>>): Promise<void> {
    const paused = patch.paused === undefined ? '' : patch.paused ? '1' : '0';
    const planned = patch.plannedUntil === undefined ? '' : patch.plannedUntil === null ? 'null' : String(patch.plannedUntil.getTime());
    if (Number(await this.redis.run('schedSetScheduleState', name, paused, planned)) > 0) await this.parking.settle();
  }

  async getQueueStates(): Promise<QueueState[]> {
    const rows = (await this.redis.run('schedQueueStates')) as [string, number, string | null][];
    return rows
      .map(([name, paused, concurrency]) => ({ name, paused: Number(paused) === 1, concurrency: concurrency === null ? null : Number(concurrency) }))
      .sort((a, b) => compareNames(a.name, b.name));
  }

  async setQueueState(name: string, patch: Partial<Omit<QueueState, 'name'>>): Promise<void> {
    const paused = patch.paused === undefined ? '' : patch.paused ? '1' : '0';
    const concurrency = patch.concurrency === undefined ? '' : patch.concurrency === null ? 'null' : String(patch.concurrency);
    await this.redis.run('schedSetQueueState', name, paused, concurrency);
  }
}
