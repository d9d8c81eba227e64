import type { DeadLetterClass, DeadLetterCounts, DeadLetterQuery } from '../dead-letter-store.js';
import type { FinishedJob } from './finished-job.js';

/**
 * What the index keeps of one dead job.
 * @internal
 */
export interface DeadEntry {
  readonly id: string;
  readonly seq: number;
  readonly queue: string;
  readonly name: string;
  readonly errorClass: DeadLetterClass;
  readonly diedAtMs: number;
  /** When its `onDeadLetter` alert is next due; `null` once settled. */
  alertAtMs: number | null;
  tries: number;
}

/**
 * The memory store's dead letters: a small entry per dead job, with counts
 * kept as jobs die and leave, so stats never read the jobs and filters walk
 * only the dead ones (the PostgreSQL store's `dead_letters` table).
 * @internal
 */
export class DeadLetterIndex {
  private readonly entries = new Map<string, DeadEntry>();
  // Alerts still due, so a poll walks those and not every dead letter.
  private readonly alerts = new Set<DeadEntry>();
  private readonly byQueue = new Map<string, number>();
  private readonly byName = new Map<string, number>();
  private readonly byClass = new Map<string, number>();

  add(job: FinishedJob): void {
    const last = job.extras.errors.at(-1);
    const entry: DeadEntry = {
      id: job.id,
      seq: job.seq,
      queue: job.queue,
      name: job.name,
      errorClass: last?.errorClass ?? 'unclassified',
      diedAtMs: job.finishedAtMs,
      alertAtMs: job.finishedAtMs,
      tries: 0,
    };
    this.remove(job.id);
    this.entries.set(entry.id, entry);
    this.alerts.add(entry);
    this.tally(entry, 1);
  }

  remove(id: string): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    this.entries.delete(id);
    this.alerts.delete(entry);
    this.tally(entry, -1);
  }

  /** Entries matching `query`, newest death first (`oldestFirst`: the reverse). */
  select(query: DeadLetterQuery, oldestFirst = false): DeadEntry[] {
    const matches: DeadEntry[] = [];
    for (const entry of this.entries.values()) {
      if (query.queue !== undefined && entry.queue !== query.queue) continue;
      if (query.name !== undefined && entry.name !== query.name) continue;
      if (query.errorClass !== undefined && entry.errorClass !== query.errorClass) continue;
      matches.push(entry);
    }
    const sign = oldestFirst ? 1 : -1;
    return matches.sort((a, b) => sign * (a.diedAtMs - b.diedAtMs || a.seq - b.seq));
  }

  stats(): DeadLetterCounts {
    return {
      total: this.entries.size,
      byQueue: Object.fromEntries(this.byQueue),
      byName: Object.fromEntries(this.byName),
      byErrorClass: Object.fromEntries(this.byClass),
    };
  }

  /** Up to `limit` due alerts, oldest due first, each made due again `leaseMs` later. */
  take(nowMs: number, leaseMs: number, limit: number): DeadEntry[] {
    const due = [...this.alerts].filter((entry) => (entry.alertAtMs as number) <= nowMs);
    due.sort((a, b) => (a.alertAtMs as number) - (b.alertAtMs as number) || a.seq - b.seq);
    const taken = due.slice(0, Math.max(0, limit));
    for (const entry of taken) {
      entry.alertAtMs = nowMs + leaseMs;
      entry.tries++;
    }
    return taken;
  }

  settle(id: string, diedAtMs: number, retryAtMs: number | null): void {
    const entry = this.entries.get(id);
    if (entry?.diedAtMs !== diedAtMs) return;
    entry.alertAtMs = retryAtMs;
    if (retryAtMs === null) this.alerts.delete(entry);
    else this.alerts.add(entry);
  }

  private tally(entry: DeadEntry, delta: 1 | -1): void {
    bump(this.byQueue, entry.queue, delta);
    bump(this.byName, entry.name, delta);
    bump(this.byClass, entry.errorClass, delta);
  }
}

function bump(counts: Map<string, number>, key: string, delta: number): void {
  const n = (counts.get(key) ?? 0) + delta;
  if (n <= 0) counts.delete(key);
  else counts.set(key, n);
}
