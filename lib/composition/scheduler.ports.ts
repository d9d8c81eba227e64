import type { CircuitBreakerPorts } from '../breakers/circuit-breakers.service.js';
import type { Clock } from '../clock/clock.js';
import type { ErrorClassifier } from '../errors/error.classifier.js';
import type { ExecutionOutcome } from '../execution/execution.types.js';
import type { RunningJobs } from '../execution/running-jobs.js';
import type { Notification, Notifier } from '../notifier/notifier.js';
import type { Peer } from '../peer/peer.js';
import type { Planner } from '../planner/planner.js';
import type { JobBuildPorts } from '../queue/job.builder.js';
import type { JobProducer } from '../queue/job.producer.js';
import type { QueueManager } from '../queue/queue.manager.js';
import type { RuntimeSchedules } from '../schedule/runtime-schedules.js';
import type { ResolvedOptions } from '../scheduler.options.js';
import type { RateLimitPorts } from '../rate-limit/rate-limits.service.js';
import type { SchedulerRegistry } from '../scheduler.registry.js';
import type { ClaimRateLimits, JobStore } from '../store/job-store.js';
import type { Job } from '../store/job.types.js';
import type { HealthMonitor } from '../health/health.monitor.js';
import type { SchedulerEvents } from '../telemetry/scheduler.events.js';
import type { WorkflowDefinition } from '../workflow/workflow.definition.js';
import type { WorkflowEngine } from '../workflow/workflow.engine.js';

/** What `SchedulerService` uses. @internal */
export interface ServicePorts {
  node: string;
  enabled: boolean;
  /** The module options, resolved (and as given). */
  options: ResolvedOptions;
  /** The queues this node runs, as configured (`null`: none, a web node). */
  queueSpecs: ResolvedOptions['queues'];
  registry: SchedulerRegistry;
  clock: Clock;
  events: SchedulerEvents;
  store: JobStore;
  peer: Pick<Peer, 'isLeader' | 'leaderNode'>;
  /** Builds the jobs of an enqueue call. */
  jobs: JobBuildPorts;
  producer: Pick<JobProducer, 'insert'>;
  queues: Pick<QueueManager, 'get' | 'all' | 'wakeAll'>;
  planner: Pick<Planner, 'remove' | 'setPaused' | 'nextTick'>;
  schedules: Pick<RuntimeSchedules, 'saved' | 'deleted' | 'requestSync'>;
  notifier: Pick<Notifier, 'notify'>;
  /** Tells the other nodes (nothing to send when the notifier is in-process only). */
  broadcast(message: Notification): Promise<void>;
  /** Reads the queue states and applies them here, after any read under way (one at a time: see `coalesced`). */
  readQueueStates(): Promise<void>;
  /** The circuit breakers this node knows. */
  breakers: Pick<CircuitBreakerPorts, 'has'>;
  /** True while this node shuts down with a store that would lose new jobs (memory): enqueues get `ShuttingDownError`. */
  refusesWork(): boolean;
}

/** What the dead-letter calls use. @internal */
export interface DeadLetterPorts {
  store: Pick<JobStore, 'get' | 'resurrect' | 'delete' | 'listDead' | 'deadStats' | 'resurrectDead' | 'pruneDead'>;
  clock: Clock;
  events: Pick<SchedulerEvents, 'emit'>;
  /** Wakes this node's runner of a queue that has a retried job. */
  wake(queue: string): void;
}

/** What `scheduler.errors` uses. @internal */
export interface ErrorPorts {
  classifier: Pick<ErrorClassifier, 'classify' | 'nextAction'>;
  registry: Pick<SchedulerRegistry, 'findDefinition' | 'retrySettingsFor'>;
}

/** What the workflow calls use. @internal */
export interface WorkflowFacadePorts {
  engine: Pick<WorkflowEngine, 'definition' | 'definitions' | 'start' | 'emitRun' | 'advance' | 'finish' | 'rollback'>;
  store: Pick<JobStore, 'getRun' | 'updateRun' | 'listRuns' | 'cancel' | 'maxPayloadBytes'>;
  clock: Clock;
  /** Tells the node running a cancelled step's job to abort it. */
  notifier: Pick<Notifier, 'notify'>;
  registry: Pick<SchedulerRegistry, 'findDefinition'>;
  /** The queues this node knows (`null`: any name). */
  queueNames: ReadonlySet<string> | null;
  /** Registers a workflow defined at runtime (and plans its schedule, if any). */
  register(def: WorkflowDefinition): void;
}

/** What `SchedulerTester` uses. @internal */
export interface TesterPorts {
  node: string;
  clock: Clock;
  events: SchedulerEvents;
  store: JobStore;
  running: Pick<RunningJobs, 'all'>;
  jobs: JobBuildPorts;
  /** Runs one claimed attempt through the executor (middleware, events, acknowledgement). */
  execute(job: Job<unknown>): Promise<ExecutionOutcome>;
  /**
   * Settles once the loop's run under way (the planner inserting ticks) and
   * the claims under way of the runners of `queue` (all when omitted) have
   * answered: on a shared store those are round trips.
   */
  settled(queue?: string): Promise<void>;
  /** Jobs claimed ahead into the buffer of a runner of `queue` (all when omitted), not started yet. */
  buffered(queue?: string): number;
  /** The rate limits a claim of `queue` honours on this node (as its runner's claims do), or `null` when none applies. */
  rateLimits(queue: string): ClaimRateLimits | null;
  /** True once this node leads and its planner has loaded every schedule's progress. */
  planning(): boolean;
}

/** The ports a composed scheduler hands to the API above it, one set per caller. @internal */
export interface SchedulerPorts {
  service: ServicePorts;
  deadLetters: DeadLetterPorts;
  errors: ErrorPorts;
  /** The lifeline's rescue pass, run now (leader only). */
  lifeline: { checkNow(): Promise<Job[]> };
  rateLimits: RateLimitPorts;
  workflows: WorkflowFacadePorts;
  tester: TesterPorts;
  /** What `scheduler.circuitBreakers` uses. */
  breakers: CircuitBreakerPorts;
  /** What `scheduler.health()` runs. */
  health: Pick<HealthMonitor, 'report'>;
}
