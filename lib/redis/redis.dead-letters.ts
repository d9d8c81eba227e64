import { Logger } from '@nestjs/common';
import type { DeadLetterAlert, DeadLetterCounts, DeadLetterPrune, DeadLetterQuery } from '../store/dead-letter-store.js';
import type { Job } from '../store/job.types.js';
import type { RedisConnection } from './redis.client.js';
import { decodeJob, type FlatHash } from './redis.codec.js';
import { deleteInSlices } from '../store/delete-in-slices.js';

/** The highest count a script is given (a limit past it means "all"). */
const MAX_COUNT = 2 ** 31 - 1;
/** Dead letters a script call of {@link RedisDeadLetters.index} puts into their sets. */
const INDEX_SLICE = 1_000;

/**
 * The dead letters of a Redis store (scripts/dead-letters.lua.ts): the
 * `dead` set by death time and one set each per queue, name and error
 * class (what a filtered list or retry walks), counts kept in `dstat` as
 * jobs die and leave, and one alert per death in `alerts`, due at its time.
 * @internal
 */
export class RedisDeadLetters {
  constructor(private readonly redis: RedisConnection) {}

  async list(query: DeadLetterQuery, limit: number, offset: number): Promise<Job[]> {
    if (!(limit > 0)) return [];
    const answer = (await this.redis.run('schedListDead', ...deadQuery(query), Math.min(limit, MAX_COUNT), Math.max(0, offset))) as FlatHash[];
    return answer.map(decodeJob);
  }

  /**
   * Puts dead letters written by a build that kept no queue, name and class
   * sets into them, 1,000 a script call (a long script stalls every client
   * of the server); nothing when every set already agrees with its count.
   * Until then, a filtered list or retry walks every dead letter.
   */
  async index(): Promise<void> {
    try {
      // A prune or retry during a walk shifts the ranks under it: a second walk picks up what the first stepped over.
      for (let walk = 0; walk < 3 && Number(await this.redis.run('schedDeadIndexed')) !== 1; walk++) {
        for (let from = 0; from >= 0;) from = Number(await this.redis.run('schedIndexDead', from, INDEX_SLICE));
      }
    } catch (error) {
      // Only a shortcut: without it the reads stay right, and the next start tries again.
      new Logger('Scheduler').warn(
        `indexing the dead letters by queue, name and class failed (${(error as Error)?.message ?? String(error)}): ` +
          'filtered dead-letter reads walk every dead letter until a node indexes them',
      );
    }
  }

  async stats(): Promise<DeadLetterCounts> {
    const flat = await this.redis.client.hgetall(`${this.redis.base}dstat`);
    const counts: DeadLetterCounts = { total: Number(flat.t ?? 0), byQueue: {}, byName: {}, byErrorClass: {} };
    const groups: Record<string, Record<string, number>> = { q: counts.byQueue, n: counts.byName, c: counts.byErrorClass };
    for (const [field, value] of Object.entries(flat)) {
      const group = groups[field.slice(0, 1)];
      if (group && field[1] === ':') group[field.slice(2)] = Number(value);
    }
    return counts;
  }

  async resurrect(query: DeadLetterQuery, limit: number, now: Date): Promise<Job[]> {
    if (!(limit > 0)) return [];
    const answer = (await this.redis.run('schedResurrectDead', ...deadQuery(query), Math.min(limit, MAX_COUNT), now.getTime())) as FlatHash[];
    return answer.map(decodeJob);
  }

  /** In script calls of 1,000 (a long script stalls every client of the server). */
  async prune({ before, keep, limit }: DeadLetterPrune): Promise<number> {
    if (!(limit > 0)) return 0;
    const at = before === null ? '' : before.getTime();
    return deleteInSlices(Math.min(limit, MAX_COUNT), async (n) => Number(await this.redis.run('schedPruneDead', at, Math.max(0, keep), n)));
  }

  async takeAlerts(now: Date, leaseMs: number, limit: number): Promise<DeadLetterAlert[]> {
    const answer = (await this.redis.run('schedTakeAlerts', now.getTime(), leaseMs, Math.max(0, Math.min(limit, MAX_COUNT)))) as [FlatHash, number][];
    return answer.map(([flat, tries]) => ({ job: decodeJob(flat), tries: Number(tries) }));
  }

  async settleAlert(id: string, diedAt: Date, retryAt: Date | null): Promise<void> {
    await this.redis.run('schedSettleAlert', id, diedAt.getTime(), retryAt === null ? '' : retryAt.getTime());
  }
}

function deadQuery(query: DeadLetterQuery): string[] {
  return [query.queue ?? '', query.name ?? '', query.errorClass ?? ''];
}
