/**
 * The verdict of one check: `up` (fine), `degraded` (working, but look at
 * it) or `down` (failing).
 * @publicApi
 */
export type HealthState = 'up' | 'degraded' | 'down';

/**
 * The six checks of a node, and the conditions the `readiness` and
 * `startup` presets add: `started` (the scheduler's start completed and it
 * works: its clock measured against the store's, where the store has one),
 * `draining` (down while the node shuts down), `discovery` (handlers found
 * and the scheduler composed) and `migrations` (the store's schema is ready
 * and the store answers).
 * @publicApi
 */
export type HealthCheckName = 'loop' | 'store' | 'leader' | 'lag' | 'stuck' | 'deadLetters' | 'started' | 'draining' | 'discovery' | 'migrations';

/**
 * The probes an orchestrator asks: `liveness` = `loop` (no database, job
 * length irrelevant); `readiness` = `store` + `started` + `draining`;
 * `startup` = `discovery` + `migrations`.
 * @publicApi
 */
export type HealthPreset = 'liveness' | 'readiness' | 'startup';

/**
 * The result of one check: its state, a message when it is not up, and the
 * figures it was judged on (named per check, e.g. `stalledMs`, `lagMs`).
 * @publicApi
 */
export interface HealthCheckResult {
  status: HealthState;
  /** Why the check is degraded or down. */
  message?: string;
  [detail: string]: unknown;
}

/**
 * `loop()`: whether the planner loop and the queues' claim loops move.
 * @publicApi
 */
export interface LoopCheckOptions {
  /** Down when a loop has been held up (a task or a claim unanswered) longer than this. @default 3 × pollInterval */
  maxStallMs?: number;
}

/**
 * `store()`: a ping of the store.
 * @publicApi
 */
export interface StoreCheckOptions {
  /** Down when the ping has not answered within this. @default 1000 */
  timeoutMs?: number;
  /** Degraded when the ping took longer than this. @default 250 */
  slowMs?: number;
  /** A result is reused this long (one ping per period, whatever the probe rate). @default 5000 */
  cacheMs?: number;
}

/**
 * `leader()`: whether some node holds a live leader lease.
 * @publicApi
 */
export interface LeaderCheckOptions {
  /** Leaderless for less than this is degraded (an election under way); longer is down. @default 2 × peer.leaseTtl */
  graceMs?: number;
}

/**
 * `lag()`: the age of the oldest due job no node has claimed, per queue.
 * @publicApi
 */
export interface LagCheckOptions {
  /** Degraded from this lag. @default 60000 */
  warnMs?: number;
  /** Down from this lag. @default 300000 */
  failMs?: number;
  /** Only these queues. @default every queue (paused queues are reported, never judged) */
  queues?: readonly string[];
}

/**
 * `stuck()`: running jobs whose lease expired (no heartbeat for `rescueAfter`) and that the lifeline has not rescued yet.
 * @publicApi
 */
export interface StuckCheckOptions {
  /** Down when more than this many are stuck (one or more is degraded). @default 10 */
  maxCount?: number;
}

/**
 * `deadLetters()`: jobs that died recently.
 * @publicApi
 */
export interface DeadLettersCheckOptions {
  /** How far back "new" reaches. @default 3600000 (1 h) */
  windowMs?: number;
  /** Down when more than this many died within the window (one or more is degraded). @default 10 */
  max?: number;
}

/**
 * Which checks `SchedulerService.health()` runs, and their options.
 * @publicApi
 */
export interface SchedulerHealthOptions {
  /** A preset, or a list of checks. @default the six checks: loop, store, leader, lag, stuck, deadLetters */
  checks?: HealthPreset | readonly HealthCheckName[];
  loop?: LoopCheckOptions;
  store?: StoreCheckOptions;
  leader?: LeaderCheckOptions;
  lag?: LagCheckOptions;
  stuck?: StuckCheckOptions;
  deadLetters?: DeadLettersCheckOptions;
}

/**
 * One queue's lag, as last measured.
 * @publicApi
 */
export interface QueueLag {
  queue: string;
  /** Age of the oldest due, unclaimed job (0 when none waits). */
  lagMs: number;
  /** Due jobs waiting. */
  available: number;
  paused: boolean;
  /**
   * Live nodes that run this queue, by the node registry's last beats;
   * absent when the store keeps no registry, or it could not be read.
   */
  runners?: number;
}

/**
 * A node's health: the worst state of the checks run, the checks, and who
 * this node is, who leads, and each queue's lag as last measured (a
 * `liveness` report reads no database: it shows what earlier checks cached).
 * @publicApi
 */
export interface SchedulerHealthReport {
  status: HealthState;
  node: string;
  leader: {
    /** Whether this node leads. */
    self: boolean;
    /** The leader's node name as last read (`null`: none, or not read yet). */
    node: string | null;
  };
  /** Per-queue lag, `null` when no check has read the queues yet. */
  queues: QueueLag[] | null;
  checks: Partial<Record<HealthCheckName, HealthCheckResult>>;
}
