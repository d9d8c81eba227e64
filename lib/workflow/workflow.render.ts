import type { StepDefinition, WorkflowDefinition } from './workflow.definition.js';
import type { StepRun, StepState, WorkflowRun } from './workflow.types.js';

/** Fill colours of the states in {@link toMermaid}, in the order the classes are emitted. */
const STATE_STYLES: ReadonlyArray<[StepState, string]> = [
  ['pending', 'fill:#f3f4f6,stroke:#9ca3af,color:#374151'],
  ['running', 'fill:#bfdbfe,stroke:#2563eb,color:#1e3a8a'],
  ['completed', 'fill:#bbf7d0,stroke:#16a34a,color:#14532d'],
  ['skipped', 'fill:#e5e7eb,stroke:#6b7280,color:#374151,stroke-dasharray:4 2'],
  ['failed', 'fill:#fecaca,stroke:#dc2626,color:#7f1d1d'],
  ['rolled_back', 'fill:#fde68a,stroke:#d97706,color:#78350f'],
];

/** Words Mermaid's flowchart parser reads as keywords when used as node ids. */
const RESERVED = new Set(['end', 'graph', 'flowchart', 'subgraph', 'class', 'classdef', 'style', 'linkstyle', 'click', 'direction', 'default', 'call', 'href']);

/**
 * Mermaid ids for the steps: the name with anything but letters, digits and
 * `_` replaced by `_`, prefixed with `s_` when it would not start with a letter
 * or is a keyword, and suffixed `_2`, `_3`… when two names collide.
 */
function nodeIds(def: WorkflowDefinition): Map<string, string> {
  const ids = new Map<string, string>();
  const used = new Set<string>();
  for (const name of def.order) {
    let base = name.replace(/[^A-Za-z0-9_]/g, '_');
    if (!/^[A-Za-z]/.test(base) || RESERVED.has(base.toLowerCase())) base = `s_${base}`;
    let id = base;
    for (let n = 2; used.has(id); n++) id = `${base}_${n}`;
    used.add(id);
    ids.set(name, id);
  }
  return ids;
}

/** The step name, ` (if)` for a `when` step, ` ↺ name` for a rollback. */
function label(step: StepDefinition): string {
  return `${step.name}${step.when ? ' (if)' : ''}${step.rollback ? ` ↺ ${step.rollback}` : ''}`;
}

/** Escapes text for a quoted Mermaid label. */
function escapeLabel(text: string): string {
  return text.replace(/"/g, '#quot;').replace(/</g, '#lt;').replace(/>/g, '#gt;');
}

/**
 * The workflow as a Mermaid flowchart (`flowchart TD`): a node per step in
 * topological order, then `a --> b` for each `after` and `a -.-> b` for each
 * `afterAny`. With a run, each step gets the class of its state (`classDef`
 * lines for every state, then `class <ids> <state>` for the states present).
 * Deterministic: the same definition and run always give the same text.
 * @internal
 */
export function toMermaid(def: WorkflowDefinition, run?: WorkflowRun): string {
  const ids = nodeIds(def);
  const lines = ['flowchart TD'];
  for (const name of def.order) lines.push(`  ${ids.get(name)}["${escapeLabel(label(def.steps.get(name)!))}"]`);
  for (const name of def.order) {
    const step = def.steps.get(name)!;
    for (const dep of step.after) lines.push(`  ${ids.get(dep)} --> ${ids.get(name)}`);
    for (const dep of step.afterAny) lines.push(`  ${ids.get(dep)} -.-> ${ids.get(name)}`);
  }
  if (run) {
    for (const [state, style] of STATE_STYLES) lines.push(`  classDef ${state} ${style}`);
    for (const [state] of STATE_STYLES) {
      const members = def.order.filter((name) => run.steps[name]?.state === state).map((name) => ids.get(name)!);
      if (members.length > 0) lines.push(`  class ${members.join(',')} ${state}`);
    }
  }
  return lines.join('\n');
}

/**
 * The workflow as a plain-text table, one row per step in topological order:
 * step, after, afterAny, when, onError, rollback, and with a run also state
 * (with the skip reason), attempts and the last error. Columns are padded;
 * `-` marks an empty cell.
 * @internal
 */
export function toTable(def: WorkflowDefinition, run?: WorkflowRun): string {
  const header = ['step', 'after', 'afterAny', 'when', 'onError', 'rollback'];
  if (run) header.push('state', 'attempts', 'error');
  const rows = def.order.map((name) => {
    const step = def.steps.get(name)!;
    const row = [name, list(step.after), list(step.afterAny), step.when ? 'yes' : '-', step.onError, step.rollback ?? '-'];
    if (run) row.push(...runCells(run.steps[name]));
    return row;
  });
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)));
  const format = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [format(header), format(widths.map((w) => '-'.repeat(w))), ...rows.map(format)].join('\n');
}

function list(names: string[]): string {
  return names.length > 0 ? names.join(', ') : '-';
}

function runCells(step: StepRun | undefined): string[] {
  if (!step) return ['-', '-', '-'];
  const state = step.skipReason && step.state === 'skipped' ? `skipped (${step.skipReason})` : step.state;
  const error = step.error ? step.error.replace(/\s*\n\s*/g, ' ') : '-';
  return [state, String(step.attempts), error];
}
