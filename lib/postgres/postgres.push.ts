import type { JobPush } from '../store/job-store.js';
import type { Job } from '../store/job.types.js';
import type { PostgresStatements } from './sql/index.js';
import { toClaimedJobs } from './sql/job-rows.js';
import type { Statement } from './sql/statement.js';

/**
 * How long an offer stands without a refresh, in ms: a node cut off from the
 * database with its session still open gets pushes for at most this long,
 * each waiting for the rescue (a node that dies loses its session at once).
 * @internal
 */
export const OFFER_TTL_MS = 15_000;

/**
 * Push to idle nodes on PostgreSQL (see `JobPush`): offers are rows of the
 * unlogged offers table; while a node has any, a timer keeps them alive, and
 * closing the store withdraws them.
 * @internal
 */
export class PostgresPush implements JobPush {
  /** Per node, the queues it offers slots of. */
  private readonly offered = new Map<string, Set<string>>();
  private timer: NodeJS.Timeout | null = null;
  /** The backend pid of the session on which this node hears `push` notices, null while it hears none. */
  private listener: () => number | null = () => null;

  constructor(
    private readonly sql: PostgresStatements['push'],
    private readonly rows: <T extends object>(statement: Statement) => Promise<T[]>,
    private readonly ttl = OFFER_TTL_MS,
  ) {}

  /**
   * Ties offers to the LISTEN session (its backend pid): pushes sent while it
   * is down would go unheard until the rescue, so a node without one offers
   * nothing, and inserts skip offers whose session has ended.
   */
  hearWith(listener: () => number | null): void {
    this.listener = listener;
  }

  async offer(queue: string, node: string, slots: number): Promise<number> {
    const listener = this.listener();
    const free = listener !== null ? Math.max(0, Math.floor(slots)) : 0;
    await this.rows(this.sql.offer(queue, node, free, this.ttl, listener ?? 0));
    const queues = this.offered.get(node) ?? new Set<string>();
    if (free > 0) this.offered.set(node, queues.add(queue));
    else if (queues.delete(queue) && queues.size === 0) this.offered.delete(node);
    this.arm();
    return free;
  }

  async take(node: string, claim: string, ids: readonly string[], now: Date): Promise<Job[]> {
    if (ids.length === 0) return [];
    const [row] = await this.rows<{ jobs: string | null }>(this.sql.take(ids, claim, node));
    return row?.jobs ? toClaimedJobs(row.jobs, now, node, 0) : [];
  }

  /** Withdraws every offer made through this store (a clean stop). */
  async close(): Promise<void> {
    this.stopTimer();
    const nodes = [...this.offered.keys()];
    this.offered.clear();
    await Promise.all(nodes.map((node) => this.rows(this.sql.withdrawAll(node)).catch(() => undefined)));
  }

  private arm(): void {
    if (this.offered.size === 0) return this.stopTimer();
    if (this.timer) return;
    // A refresh lost to an outage lets the offers expire: pushes stop, nothing else does.
    // Without LISTEN the offers go at once (the runners offer again after the resync).
    this.timer = setInterval(() => {
      const listening = this.listener() !== null;
      for (const node of this.offered.keys()) void this.rows(listening ? this.sql.refresh(node, this.ttl) : this.sql.withdrawAll(node)).catch(() => undefined);
      if (!listening) {
        this.offered.clear();
        this.stopTimer();
      }
    }, this.ttl / 3);
    this.timer.unref();
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
