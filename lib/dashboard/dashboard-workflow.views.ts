import type { JsonValue } from '../common/json.js';
import type { WorkflowDefinition } from '../workflow/workflow.definition.js';
import type { StepRun, StepState, WorkflowRun, WorkflowRunState } from '../workflow/workflow.types.js';
import type { DashboardRedact } from './dashboard.options.js';
import { redactJson } from './dashboard.redaction.js';
import { iso } from './dashboard-dates.js';

/** A workflow run in a list. @publicApi */
export interface DashboardWorkflowRunSummary {
  id: string;
  workflow: string;
  version: string;
  state: WorkflowRunState;
  /** Why it failed or was cancelled, or `null`. */
  error: string | null;
  /** Its steps by state. */
  steps: Record<StepState, number>;
  /** When a `scheduled` run starts. */
  runAt: string | null;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
}

/** `GET api/workflows`: one page of runs, newest first; `nextCursor` is `null` on the last. @publicApi */
export interface DashboardWorkflowRunPage {
  runs: DashboardWorkflowRunSummary[];
  nextCursor: string | null;
  limit: number;
}

/** A step of a run: a node of its graph. @publicApi */
export interface DashboardWorkflowNode {
  /** The step's name. */
  id: string;
  state: StepState;
  attempts: number;
  /** Why it was skipped (`condition`, `error`, `dependency`), or `null`. */
  skipReason: StepRun['skipReason'];
  error: string | null;
  /** The job running it now (or last), or `null`. */
  jobId: string | null;
  /** What it returned, redacted. */
  output: JsonValue | null;
  rollback: StepRun['rollback'];
  startedAt: string | null;
  finishedAt: string | null;
  /** Its queue, from the definition; `null` when this node does not know the workflow. */
  queue: string | null;
}

/** An edge of a run's graph: `to` runs after `from` (`after`: after all of them; `afterAny`: after the first of them). @publicApi */
export interface DashboardWorkflowEdge {
  from: string;
  to: string;
  kind: 'after' | 'afterAny';
}

/** `GET api/workflows/:runId`: a run, its context redacted, its graph with each step's state, and the graph as Mermaid text. @publicApi */
export interface DashboardWorkflowRunDetail extends DashboardWorkflowRunSummary {
  context: JsonValue;
  /** The steps in topological order. */
  nodes: DashboardWorkflowNode[];
  edges: DashboardWorkflowEdge[];
  /** A Mermaid flowchart with each step's state marked (`scheduler.workflows.toMermaid(runId)`); `null` when this node does not know the workflow. */
  mermaid: string | null;
  /** The W3C trace id of the run's span. */
  traceId: string | null;
}

const STEP_STATES: readonly StepState[] = ['pending', 'running', 'completed', 'skipped', 'failed', 'rolled_back'];

/** @internal */
export function workflowRunSummary(run: WorkflowRun): DashboardWorkflowRunSummary {
  const steps = Object.fromEntries(STEP_STATES.map((state) => [state, 0])) as Record<StepState, number>;
  for (const step of Object.values(run.steps)) steps[step.state]++;
  return {
    id: run.id,
    workflow: run.workflow,
    version: run.version,
    state: run.state,
    error: run.error,
    steps,
    runAt: iso(run.runAt),
    createdAt: run.createdAt.toISOString(),
    updatedAt: run.updatedAt.toISOString(),
    finishedAt: iso(run.finishedAt),
  };
}

/** @internal */
export function workflowRunDetail(
  run: WorkflowRun,
  def: WorkflowDefinition | undefined,
  mermaid: string | null,
  redact: DashboardRedact,
): DashboardWorkflowRunDetail {
  // The definition's order when this node knows the workflow (the run's steps otherwise).
  const names = def ? def.order.filter((name) => name in run.steps) : Object.keys(run.steps);
  const nodes = names.map((name): DashboardWorkflowNode => {
    const step = run.steps[name]!;
    return {
      id: name,
      state: step.state,
      attempts: step.attempts,
      skipReason: step.skipReason,
      error: step.error,
      jobId: step.jobId,
      output: step.output === null ? null : redactJson(step.output, redact),
      rollback: step.rollback,
      startedAt: iso(step.startedAt),
      finishedAt: iso(step.finishedAt),
      queue: def?.steps.get(name)?.queue ?? null,
    };
  });
  const edges: DashboardWorkflowEdge[] = [];
  for (const name of names) {
    const step = def?.steps.get(name);
    for (const from of step?.after ?? []) edges.push({ from, to: name, kind: 'after' });
    for (const from of step?.afterAny ?? []) edges.push({ from, to: name, kind: 'afterAny' });
  }
  return {
    ...workflowRunSummary(run),
    context: redactJson(run.context, redact),
    nodes,
    edges,
    mermaid,
    traceId: run.trace?.traceId ?? null,
  };
}
