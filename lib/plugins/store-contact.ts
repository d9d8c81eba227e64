/** One call under watch: when it was sent, and the store's last answer before that. */
interface Call {
  readonly sentAt: number;
  readonly after: number | null;
}

/**
 * What this node has seen of the store's reachability, and what the lifeline
 * may conclude from a heartbeat's age because of it.
 *
 * While the store is out of reach no heartbeat lands, so once it answers
 * again every job that was running looks abandoned: rescuing on age alone
 * would run live nodes' jobs a second time. So after an outage, and for
 * `rescueAfter` from the store's first answer after it, only jobs whose
 * heartbeat had stopped `rescueAfter` before the outage began are taken for
 * dead; the others get the full `rescueAfter` to beat again (a node that died
 * during the outage is rescued then, not sooner). While an outage lasts,
 * nothing is rescued.
 *
 * An outage is a stretch of more than `rescueAfter / 2` from a call that
 * failed, or was not answered, to the next answer (a failed call, ioredis's
 * offline queue, a half-open socket): a shorter one leaves every live node's
 * heartbeat younger than `rescueAfter`, as a live node beats at least every
 * `rescueAfter / 2`. It began, for the lifeline, at the last answer before
 * that call was sent; a node that had no answer before does not know when,
 * and rescues nothing during the grace. Otherwise only calls tell: a clock
 * moved forward with no call under way is not an outage, but a timer of
 * this process that fires that late is (see {@link StoreContact.stalled}).
 * @internal
 */
export class StoreContact {
  private readonly pending = new Set<Call>();
  private lastAnswer: number | null = null;
  /** The first call that failed since the last answer. */
  private failing: Call | null = null;
  /** The last answer before the outage whose grace runs; `null` when unknown. */
  private outageFrom: number | null = null;
  /** The first answer after the latest outage. */
  private backAt: number | null = null;

  constructor(
    private readonly now: () => number,
    private readonly rescueAfter: number,
  ) {}

  /**
   * Makes one call, and learns from its answer, failure or slowness.
   * @param answers whether its success shows that the store answered (a
   * store call: a beat, a rescue pass). Work that may not touch the store (a
   * loop task) tells only by failing or by being slow: it was stuck behind
   * the store. @default true
   */
  async watch<T>(call: () => Promise<T>, answers = true): Promise<T> {
    const sent: Call = { sentAt: this.now(), after: this.lastAnswer };
    this.pending.add(sent);
    try {
      const answer = await call();
      if (answers || this.now() - sent.sentAt > this.rescueAfter / 2) this.answered(sent);
      return answer;
    } catch (error) {
      this.failing ??= sent;
      throw error;
    } finally {
      this.pending.delete(sent);
    }
  }

  /**
   * This process ran nothing from `since` until now: a timer due then fired
   * only now (the process was stopped with SIGSTOP, the machine suspended,
   * its event loop blocked). No call was under way to tell, yet heartbeats
   * may not have landed meanwhile: on SQLite a process stopped inside a
   * write transaction holds the file's write lock, so no other process
   * could write one (and, the lease row locked too, none could take the
   * lead from this one); on a suspended machine no process ran. A stall
   * longer than `rescueAfter / 2` is taken as an outage that began at the
   * last answer before it, and its grace runs from now.
   */
  stalled(since: number): void {
    const at = this.now();
    if (at - since > this.rescueAfter / 2) this.outage(since, this.failing ? this.failing.after : this.lastAnswer, at);
  }

  /**
   * A running job whose heartbeat is older than this (epoch ms) has lost
   * its node; `null` when none can be told apart from a live one now.
   */
  rescueBefore(now: number): number | null {
    if (this.outageUnderWay(now)) return null;
    const byAge = now - this.rescueAfter;
    if (!this.inGrace(now)) return byAge;
    return this.outageFrom === null ? null : Math.min(byAge, this.outageFrom - this.rescueAfter);
  }

  /** When rescue by age alone resumes after the latest outage (epoch ms); `null` when it is not held back by one. */
  graceUntil(now: number): number | null {
    return this.inGrace(now) ? this.backAt! + this.rescueAfter : null;
  }

  private answered(call: Call): void {
    const at = this.now();
    const first = this.failing ?? call;
    this.failing = null;
    if (at - first.sentAt > this.rescueAfter / 2) this.outage(first.sentAt, first.after, at);
    this.lastAnswer = at;
  }

  /** An outage that began at `began` (a call sent, a timer due), the store's last answer before it `from`, is over at `at`. */
  private outage(began: number, from: number | null, at: number): void {
    // One that began within the last one's grace: heartbeats may not have landed since the first began.
    const overlaps = this.backAt !== null && began < this.backAt + this.rescueAfter;
    this.outageFrom = !overlaps ? from : earliest(this.outageFrom, from);
    this.backAt = at;
  }

  private outageUnderWay(now: number): boolean {
    const limit = now - this.rescueAfter / 2;
    if (this.failing && this.failing.sentAt < limit) return true;
    for (const call of this.pending) if (call.sentAt < limit) return true;
    return false;
  }

  private inGrace(now: number): boolean {
    return this.backAt !== null && now < this.backAt + this.rescueAfter;
  }
}

/** The earlier of two times, `null` (not known) if either is. */
function earliest(a: number | null, b: number | null): number | null {
  return a === null || b === null ? null : Math.min(a, b);
}
