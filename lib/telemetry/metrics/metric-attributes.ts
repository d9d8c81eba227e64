/**
 * Attribute names of the scheduler's instruments (namespaced, see OPERATIONS.md "Settled details").
 * @internal
 */
export const ATTR = {
  queue: 'scheduler.queue',
  jobName: 'scheduler.job.name',
  outcome: 'scheduler.job.outcome',
  state: 'scheduler.job.state',
  source: 'scheduler.job.source',
  schedule: 'scheduler.schedule.name',
  tickOutcome: 'scheduler.tick.outcome',
  workflow: 'scheduler.workflow.name',
  workflowOutcome: 'scheduler.workflow.outcome',
  errorType: 'error.type',
} as const;

/**
 * What a job's name is recorded as once `maxJobNames` distinct names were seen.
 * @internal
 */
export const OTHER_JOB_NAME = '_other';

/**
 * Job names as attribute values, capped: the first `max` distinct names
 * are kept, later ones become `_other`, so a dynamic name cannot blow up
 * the metric's cardinality.
 * @internal
 */
export class JobNames {
  private readonly seen = new Set<string>();

  constructor(private readonly max: number) {}

  of(name: string): string {
    if (this.seen.has(name)) return name;
    if (this.seen.size >= this.max) return OTHER_JOB_NAME;
    this.seen.add(name);
    return name;
  }
}

/**
 * `error.type` of a failed attempt: `timeout` or `lease_lost` for what the
 * scheduler ended, else the error's class name (never its message).
 * @internal
 */
export function errorType(error: unknown, kind: string): string {
  if (kind === 'timeout') return 'timeout';
  if (kind === 'lease-lost') return 'lease_lost';
  if (error instanceof Error) return error.constructor.name || error.name || 'Error';
  return error === null ? 'null' : typeof error;
}
