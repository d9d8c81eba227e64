import { Logger } from '@nestjs/common';
import type { Clock } from '../clock/clock.js';
import { FailureReport } from '../common/failure-report.js';
import type { AttemptRef, HeartbeatRef, JobStore } from '../store/job-store.js';
import type { Job } from '../store/job.types.js';
import { timeStore, type StoreTimer } from '../telemetry/metrics/store-timer.js';

/**
 * What a buffer's hold uses of its queue runner.
 * @internal
 */
export interface BufferHoldPorts {
  queue: string;
  store: Pick<JobStore, 'heartbeat'>;
  storeTimer: StoreTimer | null;
  clock: Clock;
  /** How long (ms) the buffered jobs are taken to be held without proof; `Infinity`: always. */
  doubtAfter: number;
  /** The buffered jobs now. */
  jobs(): readonly Job<unknown>[];
  /** Drops a buffered job found rescued or cancelled (in that attempt: the node may have claimed it again since). */
  drop(ref: AttemptRef): void;
  /** A check answered: start what is left. */
  resume(): void;
}

/** One heartbeat of the buffered jobs under way: the time its answer proves them held since. */
interface Proof {
  from: number;
}

/**
 * Since when a queue runner's buffered jobs are known to be this node's:
 * the send of their claim, or of the latest heartbeat that found them held.
 *
 * A buffered job is heartbeated like a running one, so it is not rescued
 * from a live node; but a node whose process stood still (a handler that
 * blocked the event loop, a SIGSTOP) or whose heartbeats failed for longer
 * than `rescueAfter` may have had them rescued and run elsewhere, and the
 * first slot to free after the stall would start one of them again (its
 * completion stale, but its work done twice). So, with no proof for
 * `doubtAfter` (`rescueAfter / 2`: a live node beats at least that often),
 * no buffered job starts until a heartbeat of the buffer has answered: one
 * round trip after a stall, none otherwise (one clock read a launch round).
 * @internal
 */
export class BufferHold {
  private readonly logger = new Logger('Scheduler');
  private since = Infinity;
  private readonly proofs = new Set<Proof>();
  /** The check under way, `null` when none is. */
  private checking: Promise<void> | null = null;
  /** A store out of reach logs a line when checks fail and one when they work again. */
  private readonly failures: FailureReport;

  constructor(private readonly ports: BufferHoldPorts) {
    this.failures = new FailureReport(this.logger, `queue ${ports.queue}: heartbeat of the jobs claimed ahead, before starting them`, false);
  }

  /** Jobs claimed (or taken) by a call sent at `at` join the buffer, which held none before when `empty`. */
  added(at: number, empty: boolean): void {
    this.since = empty ? at : Math.min(this.since, at);
    // A heartbeat under way did not name them: its answer proves them held only since their claim.
    for (const proof of this.proofs) if (at < proof.from) proof.from = at;
  }

  /**
   * A heartbeat of every buffered job is sent at `at`. Call what it returns
   * once it is answered, after dropping the jobs it found lost (`held`), or
   * once it failed.
   */
  beat(at: number): (held: boolean) => void {
    const proof: Proof = { from: at };
    this.proofs.add(proof);
    return (held) => {
      this.proofs.delete(proof);
      if (held) this.since = Math.max(this.since, proof.from);
    };
  }

  /**
   * Whether buffered jobs may start now (the buffer is not empty). When
   * they are in doubt, a heartbeat of the buffer is sent (unless one is under
   * way), and `resume` is called once it has answered.
   */
  mayStart(): boolean {
    if (this.checking) return false;
    const { clock, doubtAfter } = this.ports;
    if (doubtAfter === Infinity || clock.now() - this.since <= doubtAfter) return true;
    this.checking = this.check().then((held) => {
      this.checking = null;
      if (held) this.ports.resume();
    });
    return false;
  }

  /**
   * Heartbeats the buffer and drops the jobs found lost; resolves whether
   * the others are known held. When the store does not answer, they wait
   * (not started: they may be running elsewhere) for the runner's next
   * wake to ask again.
   */
  private async check(): Promise<boolean> {
    const { store, storeTimer, clock, queue } = this.ports;
    const now = clock.now();
    const since = this.since;
    const refs: HeartbeatRef[] = this.ports.jobs().map((job) => ({ id: job.id, attempt: job.attempt, startedAt: null }));
    const answered = this.beat(now);
    try {
      const lost = await timeStore(storeTimer, 'heartbeat', () => store.heartbeat(refs, new Date(now)));
      for (const ref of lost) this.ports.drop(ref);
      answered(true);
      this.failures.succeeded();
      if (lost.length > 0) {
        this.logger.warn(
          `queue ${queue}: ${lost.length} job(s) claimed ahead here were rescued or cancelled elsewhere while this node went ` +
            `${seconds(now - since)} s without a heartbeat (its event loop blocked, or the store out of reach); dropped, not started here`,
        );
      }
      return true;
    } catch (error) {
      answered(false);
      this.failures.failed(error);
      return false;
    }
  }
}

/** Milliseconds as seconds, one decimal. */
function seconds(ms: number): number {
  return Math.round(ms / 100) / 10;
}
