import { ValueType, type Attributes, type Meter } from '@opentelemetry/api';
import type { Job } from '../../store/job.types.js';
import type { SchedulerEventMap, SchedulerEventName } from '../scheduler.events.js';
import { AttributeSets } from './attribute-sets.js';
import { secondsHistogram, type SchedulerHistogram, type SchedulerHistograms } from './histograms.js';
import { LocalCounters } from './local-counters.js';
import { bindHistogram, type BoundHistogram } from './local-histogram.js';
import type { AttemptMetrics, AttemptRecords } from '../../execution/execution.types.js';
import { errorType } from './metric-attributes.js';
import type { ResolvedMetricsOptions } from './metrics.options.js';

type Subscribe = <E extends SchedulerEventName>(event: E, listener: (payload: SchedulerEventMap[E]) => void) => () => void;

/** An attempt's outcome as `scheduler.job.outcome` records it. */
type Outcome = 'success' | 'retry' | 'dead' | 'discard' | 'cancel';

const NONE: Attributes = Object.freeze({});

/** The records of a started or completed attempt of one queue × job name, bound once. */
class JobHandles implements AttemptRecords {
  constructor(
    readonly queueTime: BoundHistogram,
    /** Duration, outcome `success`. */
    private readonly duration: BoundHistogram | null,
    /** Attempts, outcome `success`. */
    private readonly attempts: BoundHistogram,
    private readonly process: BoundHistogram | null,
    /** `messaging.destination.name` of the queue, for the consumed-messages counter. */
    readonly destination: Attributes,
  ) {}

  completed(job: Job<unknown>, duration: number): void {
    const seconds = duration / 1000;
    if (this.duration !== null) this.duration(seconds);
    if (this.process !== null) this.process(seconds);
    this.attempts(Math.max(job.attempt, 1));
  }
}

/**
 * The instruments of jobs and workflows: job durations, queue times,
 * attempts, enqueues, ticks, rescues, workflow durations and leadership
 * changes. An attempt's start and its completion (the hot path) are told
 * by the executor ({@link AttemptMetrics}): one lookup at the start, and a few
 * bucket increments on records bound once per queue × job name, which the
 * attempt keeps for its end; the rest come from events. All values in seconds; attributes never hold ids,
 * args, tags or messages. Counters are tallied here and read by the SDK at
 * collection ({@link LocalCounters}); histograms are recorded as they
 * happen, with attribute objects made once per set ({@link AttributeSets}).
 * @internal
 */
export class JobMetrics implements AttemptMetrics {
  private readonly sets: AttributeSets;
  /** By queue, then job name: names under `maxJobNames` only, so that dynamic names grow nothing. */
  private readonly handles = new Map<string, Map<string, JobHandles>>();
  /** By the base attribute set (names past the cap share one). */
  private readonly bySet = new Map<Attributes, JobHandles>();
  /** The queue × name of the last attempt started, and its records: a drain of one job name looks up no map. */
  private lastQueue = '';
  private lastName = '';
  private last: JobHandles | null = null;
  private consumed: ((attributes: Attributes) => void) | null = null;
  private readonly counters: LocalCounters;
  private readonly duration: SchedulerHistogram | null;
  private readonly queueTime: SchedulerHistogram;
  private readonly attempts: SchedulerHistogram;
  private readonly workflowDuration: SchedulerHistogram;
  private readonly lateness: SchedulerHistogram;
  private readonly process: SchedulerHistogram | null;
  private readonly unsubscribe: (() => void)[] = [];

  constructor(
    meter: Meter,
    histograms: SchedulerHistograms,
    private readonly options: ResolvedMetricsOptions,
    private readonly now: () => number,
  ) {
    this.sets = new AttributeSets(options.maxJobNames, options.jobName, options.errorType);
    this.counters = new LocalCounters(meter);
    const seconds = (name: string, description: string) => histograms.histogram(name, secondsHistogram(description, options.buckets));
    this.duration = options.scheduler ? seconds('scheduler.job.duration', 'How long job attempts took, by outcome.') : null;
    this.queueTime = seconds('scheduler.job.queue_time', 'How long due jobs waited before an attempt started (run-at to start).');
    this.attempts = histograms.histogram('scheduler.job.attempts', {
      unit: '{attempt}',
      description: 'Attempts a job took, recorded once it ended for good.',
      valueType: ValueType.INT,
      boundaries: [1, 2, 3, 5, 10, 20],
    });
    this.workflowDuration = seconds('scheduler.workflow.duration', 'How long workflow runs took, by outcome.');
    this.lateness = seconds('scheduler.schedule.lateness', 'How late a tick was inserted after its planned time.');
    this.process = options.messaging ? seconds('messaging.process.duration', 'Job attempts as messaging process operations.') : null;
  }

  /** Subscribes to the events it records. */
  start(on: Subscribe): void {
    const { counters, sets } = this;
    const rescued = counters.counter('scheduler.job.rescued', { unit: '{job}', description: 'Jobs rescued from a node that stopped heartbeating.' });
    const changes = counters.counter('scheduler.leader.changes', { unit: '{change}', description: 'Times this node became or stopped being the leader.' });
    const enqueued = counters.counter('scheduler.job.enqueued', { unit: '{job}', description: 'Jobs that entered the store, by source.' });
    const ticks = counters.counter('scheduler.schedule.ticks', { unit: '{tick}', description: 'Schedule ticks, by what became of them.' });
    this.consumed = this.options.messaging
      ? counters.counter('messaging.client.consumed.messages', { unit: '{message}', description: 'Job attempts started, as consumed messages.' })
      : null;
    const sent = this.options.messaging
      ? counters.counter('messaging.client.sent.messages', { unit: '{message}', description: 'Jobs enqueued, as sent messages.' })
      : null;
    counters.start();
    this.unsubscribe.push(
      () => counters.stop(),
      on('job:enqueue', ({ job, source }) => {
        enqueued(sets.source(job.queue, job.name, source));
        sent?.(sets.destination(job.queue));
        if (job.schedule === null || source === 'api' || source === 'retry' || source === 'workflow') return;
        ticks(sets.schedule(job.schedule, job.misfired ? 'caught_up' : 'fired'));
        // By the scheduler's clock (the store's, once synced), not the store's insert stamp.
        this.lateness.record(Math.max(0, this.now() - job.scheduledAt.getTime()) / 1000, sets.schedule(job.schedule));
      }),
      on('job:skip', ({ schedule, reason, tick }) => {
        // Only a tick's skip is a tick (a unique enqueue or a rate-limited job is not).
        if (schedule === null || tick === null) return;
        ticks(sets.schedule(schedule, reason === 'overlap' ? 'skipped_overlap' : reason === 'paused' ? 'paused' : `skipped_${reason}`));
      }),
      on('job:exception', (e) => this.ended(e.job, e.duration, e.nextRunAt ? 'retry' : 'dead', errorType(e.error, e.kind))),
      on('job:discard', (e) => this.ended(e.job, e.duration, 'discard')),
      // A cancel of a job that never started is no attempt: only its end is counted.
      on('job:cancel', (e) => this.ended(e.job, e.job.startedAt ? e.duration : null, 'cancel')),
      on('job:rescue', ({ job }) => rescued(sets.queue(job.queue))),
      on('workflow:stop', (e) => this.workflowDuration.record(e.duration / 1000, sets.workflow(e.workflow, 'completed'))),
      on('workflow:fail', (e) => this.workflowDuration.record(e.duration / 1000, sets.workflow(e.workflow, 'failed'))),
      on('workflow:cancel', (e) => this.workflowDuration.record(e.duration / 1000, sets.workflow(e.workflow, 'cancelled'))),
      on('peer:election', () => changes(NONE)),
      on('peer:resignation', () => changes(NONE)),
    );
  }

  stop(): void {
    for (const off of this.unsubscribe.splice(0)) off();
  }

  started(job: Job<unknown>, at: number): AttemptRecords {
    const handles = this.of(job);
    const start = job.startedAt?.getTime() ?? at;
    handles.queueTime(Math.max(0, start - job.runAt.getTime()) / 1000);
    if (this.consumed !== null) this.consumed(handles.destination);
    return handles;
  }

  private of(job: Job<unknown>): JobHandles {
    const { queue, name } = job;
    if (this.last !== null && name === this.lastName && queue === this.lastQueue) return this.last;
    const handles = this.handles.get(queue)?.get(name) ?? this.resolve(job);
    this.lastQueue = queue;
    this.lastName = name;
    this.last = handles;
    return handles;
  }

  private resolve(job: Job<unknown>): JobHandles {
    const base = this.sets.job(job.queue, job.name);
    let handles = this.bySet.get(base);
    if (handles === undefined) {
      const success = this.sets.outcome(job.queue, job.name, 'success');
      handles = new JobHandles(
        bindHistogram(this.queueTime, base),
        this.duration && bindHistogram(this.duration, success),
        bindHistogram(this.attempts, success),
        this.process && bindHistogram(this.process, this.sets.processed(job.queue)),
        this.sets.destination(job.queue),
      );
      this.bySet.set(base, handles);
    }
    if (this.sets.named(job.name)) {
      let byName = this.handles.get(job.queue);
      if (byName === undefined) this.handles.set(job.queue, (byName = new Map()));
      byName.set(job.name, handles);
    }
    return handles;
  }

  /** An attempt ended (`duration` ms, `null`: no attempt ran); a job that will not run again also records its attempts. */
  private ended(job: Job<unknown>, duration: number | null, outcome: Outcome, error?: string): void {
    // Attempts are recorded without `error.type`: the same set as a success's duration, looked up once.
    const ended = outcome !== 'retry' ? this.sets.outcome(job.queue, job.name, outcome) : null;
    if (duration !== null) {
      const seconds = duration / 1000;
      this.duration?.record(seconds, error === undefined && ended ? ended : this.sets.outcome(job.queue, job.name, outcome, error));
      if (this.process) this.process.record(seconds, this.sets.processed(job.queue, error));
    }
    if (ended) this.attempts.record(Math.max(job.attempt, duration === null ? 0 : 1), ended);
  }
}
