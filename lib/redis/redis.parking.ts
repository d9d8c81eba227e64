import { Logger } from '@nestjs/common';
import type { RedisConnection } from './redis.client.js';

/** Jobs one refile call reads: a few ms of the server, which serves no other client while a script runs. */
const PARK_SLICE = 1_000;

/**
 * Keeps the ready entries of paused jobs parked (scripts/park.lua.ts), so
 * that a claim never reads them: a pause or resume refiles the jobs of its
 * name and of its schedule, a slice a call. A refile is owed in the store
 * (`prefile`) until its walk ends, so that one cut short (a lost
 * connection, a process killed) is finished by the next pause change, by a
 * schedule sync that finds it owed, or by the next start; so is a pause
 * changed by a build that does not park. Until then claims stay right: they
 * still pass over a paused job found in a claimable band.
 * @internal
 */
export class RedisParking {
  private pass: Promise<void> | null = null;
  private again = false;
  private closed = false;

  constructor(private readonly redis: RedisConnection) {}

  /** Every refile owed, to its end; one pass at a time (a call during a pass makes it go round once more). */
  settle(): Promise<void> {
    if (this.pass !== null) {
      this.again = true;
      return this.pass;
    }
    const pass = (async () => {
      try {
        do {
          this.again = false;
          const owed = (await this.redis.run('schedParkOwed')) as string[];
          for (let i = 0; i < owed.length && !this.closed; i += 2) await this.refile(owed[i]!, owed[i + 1]!);
        } while (this.again && !this.closed);
      } finally {
        this.pass = null;
      }
    })();
    this.pass = pass;
    return pass;
  }

  /** {@link settle}, never rejecting: a failure is logged, and the refile stays owed. */
  settleOrWarn(): Promise<void> {
    return this.settle().catch((error: unknown) => {
      if (this.closed) return;
      new Logger('Scheduler').warn(
        `refiling paused jobs' ready entries failed (${(error as Error)?.message ?? String(error)}): ` +
          'claims pass over them meanwhile; the next pause change, schedule sync or start finishes it',
      );
    });
  }

  /** Stops between slices and waits for the slice under way. */
  async close(): Promise<void> {
    this.closed = true;
    await this.pass?.catch(() => undefined);
  }

  private async refile(name: string, generation: string): Promise<void> {
    // The name's own jobs (history included) or the ready sets' band its entries are in, whichever is smaller.
    const plan = String(await this.redis.run('schedParkPlan', name));
    if (plan === 'n') {
      for (const which of ['n', 's']) await this.slices((after) => this.redis.run('schedPark', name, which, after, PARK_SLICE));
    } else {
      const queues = await this.redis.client.smembers(`${this.redis.base}queues`);
      for (const queue of queues) await this.slices((from) => this.redis.run('schedParkBand', name, queue, plan, from, PARK_SLICE));
    }
    if (!this.closed) await this.redis.run('schedParkDone', name, generation);
  }

  /** Calls `slice` from its first position until it answers -1 (or the store closes). */
  private async slices(slice: (from: string) => Promise<unknown>): Promise<void> {
    for (let from = '0'; from !== '-1' && !this.closed;) from = String(await slice(from));
  }
}
