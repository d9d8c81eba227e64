import { Injectable } from '@nestjs/common';
import type { CircuitBreakerState } from '../breakers/circuit-breaker.types.js';
import type { RateLimitKind } from '../rate-limit/rate-limit.options.js';
import { SchedulerHost } from '../scheduler.host.js';
import { SchedulerService } from '../scheduler.service.js';
import { MemoryStore } from '../store/memory.store.js';
import type { Job } from '../store/job.types.js';
import { readiness } from '../workflow/workflow.progress.js';
import type { WorkflowRunState } from '../workflow/workflow.types.js';

/**
 * Why a waiting job does not run:
 * - `scheduled`: it is due later;
 * - `queue_paused`: its queue is paused (cluster-wide);
 * - `job_paused`: its handler or the schedule that planned it is paused;
 * - `concurrency_full`: every node known to run its queue runs as many jobs as its concurrency;
 * - `rate_limited`: a rate limit that applies to it holds no token;
 * - `breaker_open`, `breaker_half_open`: its circuit breaker holds it (open), or lets only probes through;
 * - `workflow_paused`, `workflow_dependencies`: its workflow run is paused, or steps it depends on have not finished;
 * - `serial`: another job with its serial key runs;
 * - `pinned`: only another node may run it;
 * - `no_node`: no node is known to run its queue;
 * - `no_leader`: no node leads.
 * @publicApi
 */
export type DashboardWaitingCode =
  | 'scheduled'
  | 'queue_paused'
  | 'job_paused'
  | 'concurrency_full'
  | 'rate_limited'
  | 'breaker_open'
  | 'breaker_half_open'
  | 'workflow_paused'
  | 'workflow_dependencies'
  | 'serial'
  | 'pinned'
  | 'no_node'
  | 'no_leader';

/** One reason a waiting job does not run. @publicApi */
export interface DashboardWaitingReason {
  code: DashboardWaitingCode;
  message: string;
}

/** A node known to run a queue, and how busy it is. @internal */
export interface ServingNode {
  node: string;
  running: number;
  /** Its concurrency for the queue, `null` when this node cannot know it. */
  concurrency: number | null;
}

/** What this node knows when it explains a waiting job. Times are epoch ms. @internal */
export interface WaitingFacts {
  now: number;
  /** This node's name. */
  node: string;
  queuePaused: boolean;
  /** The paused name (the job's handler or schedule), or `null`. */
  pausedName: string | null;
  /** Nodes known to run the job's queue: this node when it does, and the nodes running jobs of it. */
  serving: ServingNode[];
  /** True when the store may be shared by processes (any but the memory store): nodes this one cannot see may exist. */
  sharedStore: boolean;
  /** Buckets that apply to the job and hold no whole token, with when the next one is there. */
  emptyBuckets: { kind: RateLimitKind; name: string; tokens: number; nextTokenAt: number }[];
  breaker: CircuitBreakerState | null;
  workflow: { runId: string; state: WorkflowRunState; pending: string[] } | null;
  /** The id of a running job holding the job's serial key, or `null`. */
  serialHolder: string | null;
  /** The leader's node name, or `null` when none. */
  leader: string | null;
}

const iso = (ms: number): string => new Date(ms).toISOString();
const quote = (name: string): string => JSON.stringify(name);

/**
 * The reasons a waiting job (available, due now or later) does not run, from
 * what this node knows; `[]` for a job that does not wait.
 * @internal
 */
export function waitingReasons(job: Job<unknown>, facts: WaitingFacts): DashboardWaitingReason[] {
  if (job.state !== 'available') return [];
  const reasons: DashboardWaitingReason[] = [];
  const add = (code: DashboardWaitingCode, message: string): void => {
    reasons.push({ code, message });
  };
  const queue = quote(job.queue);
  if (job.runAt.getTime() > facts.now) add('scheduled', `it is due at ${job.runAt.toISOString()}`);
  if (facts.queuePaused) add('queue_paused', `queue ${queue} is paused`);
  if (facts.pausedName !== null) add('job_paused', `${quote(facts.pausedName)} is paused`);
  const breaker = facts.breaker;
  if (breaker?.state === 'open') {
    const until = breaker.nextProbeAt ? ` until ${breaker.nextProbeAt.toISOString()}, when it lets probes through` : '';
    add('breaker_open', `circuit breaker ${quote(breaker.name)} is open after ${breaker.failures} failures: its jobs wait${until}`);
  } else if (breaker?.state === 'halfOpen') {
    add('breaker_half_open', `circuit breaker ${quote(breaker.name)} is half-open: only its probe runs start until they answer`);
  }
  for (const bucket of facts.emptyBuckets) {
    const which = bucket.kind === 'global' ? 'the global rate limit' : `the rate limit of ${bucket.kind === 'queues' ? 'queue' : 'job'} ${quote(bucket.name)}`;
    add('rate_limited', `${which} has no token (${bucket.tokens.toFixed(2)}): the next one comes at ${iso(bucket.nextTokenAt)}`);
  }
  const run = facts.workflow;
  if (run?.state === 'paused') add('workflow_paused', `workflow run ${run.runId} is paused: no step starts until it is resumed`);
  if (run && run.pending.length > 0) add('workflow_dependencies', `workflow run ${run.runId} waits for steps ${run.pending.map(quote).join(', ')}`);
  if (facts.serialHolder !== null) add('serial', `job ${facts.serialHolder} with the same serial key ${quote(job.serialKey ?? '')} is running`);
  if (job.pinnedNode !== null && job.pinnedNode !== facts.node) add('pinned', `only node ${quote(job.pinnedNode)} may run it`);
  if (facts.serving.length === 0) {
    add(
      'no_node',
      facts.sharedStore
        ? `this node does not run queue ${queue} and no job of it runs on any node; the store does not record which nodes run which queues, ` +
            'so an idle node running it cannot be seen from here (it would claim a due job within its poll interval)'
        : `this node does not run queue ${queue} and no job of it runs (the memory store lives in this process: only another app of it sharing the store could)`,
    );
  } else if (facts.serving.every((n) => n.concurrency !== null && n.running >= n.concurrency)) {
    const busy = facts.serving.map((n) => `${n.node} ${n.running}/${n.concurrency}`).join(', ');
    add('concurrency_full', `every node known to run queue ${queue} is full (${busy})`);
  }
  if (facts.leader === null) add('no_leader', 'no node leads: schedules are not planned and jobs of dead nodes are not rescued');
  return reasons;
}

/** How many running jobs one explanation reads, at most. */
const RUNNING_SAMPLE = 1_000;

/**
 * Gathers the {@link WaitingFacts} of a waiting job through the scheduler's
 * API and ports: one read of the running jobs, the queue and name states,
 * the buckets, the breaker, the workflow run, the leader.
 * @internal
 */
@Injectable()
export class DashboardWaiting {
  constructor(
    private readonly scheduler: SchedulerService,
    private readonly host: SchedulerHost,
  ) {}

  async explain(job: Job<unknown>): Promise<DashboardWaitingReason[]> {
    if (job.state !== 'available') return [];
    return waitingReasons(job, await this.facts(job));
  }

  private async facts(job: Job<unknown>): Promise<WaitingFacts> {
    const s = this.host.ports.service;
    const now = s.clock.now();
    const [running, queueStates, nameStates, emptyBuckets, breaker, workflow, leader] = await Promise.all([
      s.store.list({ states: ['running'], limit: RUNNING_SAMPLE, order: 'asc' }),
      s.store.getQueueStates(),
      s.store.getScheduleStates(),
      this.emptyBuckets(job, now),
      this.breaker(job),
      this.workflow(job),
      this.scheduler.leaderNode(),
    ]);
    const stored = queueStates.find((q) => q.name === job.queue);
    const runner = s.enabled ? s.queues.get(job.queue) : undefined;
    const paused = new Set(nameStates.filter((state) => state.paused).map((state) => state.name));
    const serving = new Map<string, ServingNode>();
    if (runner) serving.set(s.node, { node: s.node, running: runner.busy, concurrency: runner.limit });
    // Other nodes' concurrency: the cluster-wide override, else this node's configuration of the queue (nodes usually share it).
    const elsewhere = stored?.concurrency ?? s.queueSpecs?.get(job.queue)?.concurrency ?? null;
    for (const other of running) {
      if (other.queue !== job.queue || other.node === null || other.node === s.node) continue;
      const entry = serving.get(other.node) ?? { node: other.node, running: 0, concurrency: elsewhere };
      entry.running++;
      serving.set(other.node, entry);
    }
    const holder = job.serialKey === null ? undefined : running.find((other) => other.serialKey === job.serialKey && other.id !== job.id);
    return {
      now,
      node: s.node,
      queuePaused: runner?.isPaused ?? stored?.paused ?? false,
      pausedName: [job.name, job.schedule].find((name): name is string => name !== null && paused.has(name)) ?? null,
      serving: [...serving.values()],
      sharedStore: !(s.store instanceof MemoryStore),
      emptyBuckets,
      breaker,
      workflow,
      serialHolder: holder?.id ?? null,
      leader,
    };
  }

  private async emptyBuckets(job: Job<unknown>, now: number): Promise<WaitingFacts['emptyBuckets']> {
    const { plan } = this.host.ports.rateLimits;
    const buckets: { kind: RateLimitKind; name: string }[] = [
      { kind: 'global', name: '' },
      { kind: 'queues', name: job.queue },
      { kind: 'jobs', name: job.name },
    ];
    const empty: WaitingFacts['emptyBuckets'] = [];
    for (const { kind, name } of buckets) {
      if (!plan.spec(kind, name)) continue;
      const status = await this.scheduler.rateLimits.status(kind, name || undefined);
      if (status.tokens + 1e-9 >= 1) continue;
      empty.push({ kind, name, tokens: status.tokens, nextTokenAt: now + Math.ceil(((1 - status.tokens) / status.refillPerSecond) * 1000) });
    }
    return empty;
  }

  private async breaker(job: Job<unknown>): Promise<CircuitBreakerState | null> {
    const name = this.host.ports.service.registry.breakerFor(job);
    if (name === null) return null;
    return this.scheduler.circuitBreakers.get(name).catch(() => null);
  }

  private async workflow(job: Job<unknown>): Promise<WaitingFacts['workflow']> {
    const args = job.args as { runId?: unknown; step?: unknown } | null;
    if (typeof job.meta.workflow !== 'string' || args === null || typeof args !== 'object' || typeof args.runId !== 'string') return null;
    const run = await this.scheduler.workflows.getState(args.runId).catch(() => null);
    if (!run) return null;
    const def = this.host.ports.workflows.engine.definition(run.workflow);
    const step = typeof args.step === 'string' ? args.step : null;
    const pending: string[] = [];
    if (def && step !== null && def.steps.has(step) && run.steps[step] && readiness(def, run, step) === 'wait') {
      const own = def.steps.get(step)!;
      for (const dep of [...own.after, ...own.afterAny]) {
        const state = run.steps[dep]?.state;
        if (state === 'pending' || state === 'running') pending.push(dep);
      }
    }
    return { runId: run.id, state: run.state, pending };
  }
}
