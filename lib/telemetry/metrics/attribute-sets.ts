import type { Attributes } from '@opentelemetry/api';
import { ATTR, JobNames, OTHER_JOB_NAME } from './metric-attributes.js';

/** The cache key of the names past `maxJobNames` (no job name holds a NUL). */
const OTHER_KEY = '\0other';

/** The attribute sets of one queue × job name, built once and reused by every record. */
interface JobSets {
  base: Attributes;
  /** By `outcome` or `outcome\0error.type`. */
  outcomes: Map<string, Attributes>;
  sources: Map<string, Attributes>;
}

/**
 * The attribute objects of the job instruments, made once per distinct set
 * and then handed out by reference: a record then costs no object spread,
 * and the local counters can key their tallies by the object itself.
 * @internal
 */
export class AttributeSets {
  private readonly names: JobNames;
  private readonly jobs = new Map<string, Map<string, JobSets>>();
  private readonly queues = new Map<string, Attributes>();
  private readonly messaging = new Map<string, Attributes>();
  private readonly schedules = new Map<string, Map<string, Attributes>>();
  /** By `workflow\0outcome`, and by `queue\0error.type` (or `queue`): few, since workflows are registered and error types are class names. */
  private readonly workflows = new Map<string, Attributes>();
  private readonly processes = new Map<string, Attributes>();

  constructor(
    maxJobNames: number,
    private readonly withJobName: boolean,
    private readonly withErrorType: boolean,
  ) {
    this.names = new JobNames(maxJobNames);
  }

  /** `scheduler.queue` (and `scheduler.job.name` unless turned off). */
  job(queue: string, name: string): Attributes {
    return this.sets(queue, name).base;
  }

  /** Whether a job name is recorded as itself (not past `maxJobNames`). */
  named(name: string): boolean {
    return this.names.of(name) === name;
  }

  /** A job's set with `scheduler.job.outcome`, and `error.type` when given (unless turned off). */
  outcome(queue: string, name: string, outcome: string, error?: string): Attributes {
    const sets = this.sets(queue, name);
    const withError = error !== undefined && this.withErrorType;
    const key = withError ? `${outcome}\0${error}` : outcome;
    let set = sets.outcomes.get(key);
    if (!set) {
      set = withError ? { ...sets.base, [ATTR.outcome]: outcome, [ATTR.errorType]: error } : { ...sets.base, [ATTR.outcome]: outcome };
      sets.outcomes.set(key, set);
    }
    return set;
  }

  /** A job's set with `scheduler.job.source`. */
  source(queue: string, name: string, source: string): Attributes {
    const sets = this.sets(queue, name);
    let set = sets.sources.get(source);
    if (!set) sets.sources.set(source, (set = { ...sets.base, [ATTR.source]: source }));
    return set;
  }

  /** `scheduler.queue` alone. */
  queue(queue: string): Attributes {
    let set = this.queues.get(queue);
    if (!set) this.queues.set(queue, (set = { [ATTR.queue]: queue }));
    return set;
  }

  /** The messaging conventions' set of a queue. */
  destination(queue: string): Attributes {
    let set = this.messaging.get(queue);
    if (!set) this.messaging.set(queue, (set = { 'messaging.system': 'nestjs-scheduler', 'messaging.destination.name': queue }));
    return set;
  }

  /** A workflow run's end: `scheduler.workflow.name` and its outcome. */
  workflow(workflow: string, outcome: string): Attributes {
    const key = `${workflow}\0${outcome}`;
    let set = this.workflows.get(key);
    if (!set) this.workflows.set(key, (set = { [ATTR.workflow]: workflow, [ATTR.workflowOutcome]: outcome }));
    return set;
  }

  /** The messaging conventions' set of a processed job, with `error.type` when given (unless turned off). */
  processed(queue: string, error?: string): Attributes {
    const withError = error !== undefined && this.withErrorType;
    const key = withError ? `${queue}\0${error}` : queue;
    let set = this.processes.get(key);
    if (!set) {
      set = { ...this.destination(queue), 'messaging.operation.name': 'process' };
      if (withError) set[ATTR.errorType] = error;
      this.processes.set(key, set);
    }
    return set;
  }

  /** `scheduler.schedule.name` (capped like job names), with `scheduler.tick.outcome` when given. */
  schedule(name: string, tickOutcome?: string): Attributes {
    const capped = this.names.of(name);
    let byOutcome = this.schedules.get(capped);
    if (!byOutcome) this.schedules.set(capped, (byOutcome = new Map()));
    const key = tickOutcome ?? '';
    let set = byOutcome.get(key);
    if (!set)
      byOutcome.set(key, (set = tickOutcome === undefined ? { [ATTR.schedule]: capped } : { [ATTR.schedule]: capped, [ATTR.tickOutcome]: tickOutcome }));
    return set;
  }

  private sets(queue: string, name: string): JobSets {
    let byName = this.jobs.get(queue);
    if (!byName) this.jobs.set(queue, (byName = new Map()));
    let sets = byName.get(name);
    if (sets) return sets;
    // Names past the cap share one entry, so that a dynamic name grows neither the metric nor this cache.
    const capped = this.names.of(name);
    const key = capped === OTHER_JOB_NAME ? OTHER_KEY : name;
    sets = byName.get(key);
    if (!sets) {
      const base: Attributes = this.withJobName ? { [ATTR.queue]: queue, [ATTR.jobName]: capped } : { [ATTR.queue]: queue };
      byName.set(key, (sets = { base, outcomes: new Map(), sources: new Map() }));
    }
    return sets;
  }
}
