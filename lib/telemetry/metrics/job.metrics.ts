import { ValueType, type Attributes, type Histogram, type Meter } from '@opentelemetry/api';
import type { Job } from '../../store/job.types.js';
import type { SchedulerEventMap, SchedulerEventName } from '../scheduler.events.js';
import { ATTR, errorType, JobNames } from './metric-attributes.js';
import type { ResolvedMetricsOptions } from './metrics.options.js';

type Subscribe = <E extends SchedulerEventName>(event: E, listener: (payload: SchedulerEventMap[E]) => void) => () => void;

/** An attempt's outcome as `scheduler.job.outcome` records it. */
type Outcome = 'success' | 'retry' | 'dead' | 'discard' | 'cancel';

const MESSAGING = { 'messaging.system': 'nestjs-scheduler' } as const;

/**
 * The instruments fed by the scheduler's events: job durations, queue
 * times, attempts, rescues, workflow durations and leadership changes. All
 * values in seconds; attributes never hold ids, args, tags or messages.
 * @internal
 */
export class JobMetrics {
  private readonly names: JobNames;
  private readonly duration: Histogram | null;
  private readonly queueTime: Histogram;
  private readonly attempts: Histogram;
  private readonly workflowDuration: Histogram;
  private readonly process: Histogram | null;
  private readonly unsubscribe: (() => void)[] = [];

  constructor(
    private readonly meter: Meter,
    private readonly options: ResolvedMetricsOptions,
    private readonly now: () => number,
  ) {
    this.names = new JobNames(options.maxJobNames);
    const seconds = (name: string, description: string) =>
      meter.createHistogram(name, { unit: 's', description, valueType: ValueType.DOUBLE, advice: { explicitBucketBoundaries: options.buckets } });
    this.duration = options.scheduler ? seconds('scheduler.job.duration', 'How long job attempts took, by outcome.') : null;
    this.queueTime = seconds('scheduler.job.queue_time', 'How long due jobs waited before an attempt started (run-at to start).');
    this.attempts = meter.createHistogram('scheduler.job.attempts', {
      unit: '{attempt}',
      description: 'Attempts a job took, recorded once it ended for good.',
      valueType: ValueType.INT,
      advice: { explicitBucketBoundaries: [1, 2, 3, 5, 10, 20] },
    });
    this.workflowDuration = seconds('scheduler.workflow.duration', 'How long workflow runs took, by outcome.');
    this.process = options.messaging ? seconds('messaging.process.duration', 'Job attempts as messaging process operations.') : null;
  }

  /** Subscribes to the events it records. */
  start(on: Subscribe): void {
    const meter = this.meter;
    const rescued = meter.createCounter('scheduler.job.rescued', { unit: '{job}', description: 'Jobs rescued from a node that stopped heartbeating.' });
    const changes = meter.createCounter('scheduler.leader.changes', { unit: '{change}', description: 'Times this node became or stopped being the leader.' });
    const consumed = this.options.messaging
      ? meter.createCounter('messaging.client.consumed.messages', { unit: '{message}', description: 'Job attempts started, as consumed messages.' })
      : null;
    const sent = this.options.messaging
      ? meter.createCounter('messaging.client.sent.messages', { unit: '{message}', description: 'Jobs enqueued, as sent messages.' })
      : null;
    const enqueued = meter.createCounter('scheduler.job.enqueued', { unit: '{job}', description: 'Jobs that entered the store, by source.' });
    const ticks = meter.createCounter('scheduler.schedule.ticks', { unit: '{tick}', description: 'Schedule ticks, by what became of them.' });
    const lateness = meter.createHistogram('scheduler.schedule.lateness', {
      unit: 's',
      description: 'How late a tick was inserted after its planned time.',
      valueType: ValueType.DOUBLE,
      advice: { explicitBucketBoundaries: this.options.buckets },
    });
    this.unsubscribe.push(
      on('job:start', ({ job }) => {
        const start = job.startedAt?.getTime() ?? this.now();
        this.queueTime.record(Math.max(0, start - job.runAt.getTime()) / 1000, this.base(job));
        consumed?.add(1, this.messaging(job));
      }),
      on('job:enqueue', ({ job, source }) => {
        enqueued.add(1, { ...this.base(job), [ATTR.source]: source });
        sent?.add(1, this.messaging(job));
        if (job.schedule === null || source === 'api' || source === 'retry' || source === 'workflow') return;
        const schedule = { [ATTR.schedule]: this.names.of(job.schedule) };
        ticks.add(1, { ...schedule, [ATTR.tickOutcome]: job.misfired ? 'caught_up' : 'fired' });
        lateness.record(Math.max(0, job.insertedAt.getTime() - job.scheduledAt.getTime()) / 1000, schedule);
      }),
      on('job:skip', ({ schedule, reason, tick }) => {
        // Only a tick's skip is a tick (a unique enqueue or a rate-limited job is not).
        if (schedule === null || tick === null) return;
        const outcome = reason === 'overlap' ? 'skipped_overlap' : reason === 'paused' ? 'paused' : `skipped_${reason}`;
        ticks.add(1, { [ATTR.schedule]: this.names.of(schedule), [ATTR.tickOutcome]: outcome });
      }),
      on('job:stop', (e) => this.ended(e.job, e.duration, 'success')),
      on('job:exception', (e) => this.ended(e.job, e.duration, e.nextRunAt ? 'retry' : 'dead', errorType(e.error, e.kind))),
      on('job:discard', (e) => this.ended(e.job, e.duration, 'discard')),
      // A cancel of a job that never started is no attempt: only its end is counted.
      on('job:cancel', (e) => this.ended(e.job, e.job.startedAt ? e.duration : null, 'cancel')),
      on('job:rescue', ({ job }) => rescued.add(1, { [ATTR.queue]: job.queue })),
      on('workflow:stop', (e) => this.workflowDuration.record(e.duration / 1000, { [ATTR.workflow]: e.workflow, [ATTR.workflowOutcome]: 'completed' })),
      on('workflow:fail', (e) => this.workflowDuration.record(e.duration / 1000, { [ATTR.workflow]: e.workflow, [ATTR.workflowOutcome]: 'failed' })),
      on('workflow:cancel', (e) => this.workflowDuration.record(e.duration / 1000, { [ATTR.workflow]: e.workflow, [ATTR.workflowOutcome]: 'cancelled' })),
      on('peer:election', () => changes.add(1)),
      on('peer:resignation', () => changes.add(1)),
    );
  }

  stop(): void {
    for (const off of this.unsubscribe.splice(0)) off();
  }

  /** An attempt ended (`duration` ms, `null`: no attempt ran); a job that will not run again also records its attempts. */
  private ended(job: Job<unknown>, duration: number | null, outcome: Outcome, error?: string): void {
    const base = this.base(job);
    if (duration !== null) {
      const attributes: Attributes = { ...base, [ATTR.outcome]: outcome };
      if (error !== undefined && this.options.errorType) attributes[ATTR.errorType] = error;
      this.duration?.record(duration / 1000, attributes);
      if (this.process) {
        const processed: Attributes = { ...this.messaging(job), 'messaging.operation.name': 'process' };
        if (error !== undefined && this.options.errorType) processed[ATTR.errorType] = error;
        this.process.record(duration / 1000, processed);
      }
    }
    if (outcome !== 'retry') this.attempts.record(Math.max(job.attempt, duration === null ? 0 : 1), { ...base, [ATTR.outcome]: outcome });
  }

  private base(job: Job<unknown>): Attributes {
    return this.options.jobName ? { [ATTR.queue]: job.queue, [ATTR.jobName]: this.names.of(job.name) } : { [ATTR.queue]: job.queue };
  }

  private messaging(job: Job<unknown>): Attributes {
    return { ...MESSAGING, 'messaging.destination.name': job.queue };
  }
}
