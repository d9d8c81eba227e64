import { describe, expect, it } from 'vitest';
import { buildWorkflowDefinition, type StepInput } from '../../../lib/workflow/workflow.definition.js';
import { toMermaid, toTable } from '../../../lib/workflow/workflow.render.js';
import { pendingStep } from '../../../lib/store/workflow-runs.js';
import type { StepRun, WorkflowRun } from '../../../lib/workflow/workflow.types.js';

const noop = async (): Promise<unknown> => undefined;
const step = (name: string, options: Omit<StepInput, 'name' | 'run'> = {}): StepInput => ({ name, run: noop, ...options });

/** validate fans out to reserve, charge and fraud-check; ship joins reserve and charge; notify follows ship or fraud-check. */
const def = buildWorkflowDefinition(
  {
    name: 'orders',
    source: 'OrderWorkflow',
    steps: [
      step('notify', { afterAny: ['ship', 'fraud-check'], onError: 'continue' }),
      step('ship', { after: ['reserve', 'charge'] }),
      step('validate'),
      step('reserve', { after: 'validate', rollback: 'releaseStock', runRollback: noop }),
      step('charge', { after: 'validate', rollback: 'refund', runRollback: noop }),
      step('fraud-check', { after: 'validate', when: (c) => c.total === 'high', onError: 'skip' }),
    ],
  },
  null,
);

function stepRun(state: StepRun['state'], extra: Partial<StepRun> = {}): StepRun {
  return pendingStep({ state, ...extra });
}

const at = new Date('2030-01-01T00:00:00Z');
const run: WorkflowRun = {
  id: 'run-1',
  workflow: 'orders',
  version: def.version,
  state: 'failed',
  context: {},
  steps: {
    validate: stepRun('completed', { attempts: 1, completedSeq: 1 }),
    reserve: stepRun('rolled_back', { attempts: 1, completedSeq: 2, rollback: 'done' }),
    charge: stepRun('failed', { attempts: 4, error: 'card declined\n  at charge()' }),
    'fraud-check': stepRun('skipped', { skipReason: 'condition' }),
    ship: stepRun('pending'),
    notify: stepRun('pending'),
  },
  seq: 2,
  error: 'step "charge" failed',
  trace: null,
  runAt: null,
  createdAt: at,
  updatedAt: at,
  finishedAt: at,
};

const MERMAID = `flowchart TD
  validate["validate"]
  reserve["reserve ↺ releaseStock"]
  charge["charge ↺ refund"]
  ship["ship"]
  fraud_check["fraud-check (if)"]
  notify["notify"]
  validate --> reserve
  validate --> charge
  reserve --> ship
  charge --> ship
  validate --> fraud_check
  ship -.-> notify
  fraud_check -.-> notify`;

const CLASSES = `
  classDef pending fill:#f3f4f6,stroke:#9ca3af,color:#374151
  classDef running fill:#bfdbfe,stroke:#2563eb,color:#1e3a8a
  classDef completed fill:#bbf7d0,stroke:#16a34a,color:#14532d
  classDef skipped fill:#e5e7eb,stroke:#6b7280,color:#374151,stroke-dasharray:4 2
  classDef failed fill:#fecaca,stroke:#dc2626,color:#7f1d1d
  classDef rolled_back fill:#fde68a,stroke:#d97706,color:#78350f
  class ship,notify pending
  class validate completed
  class fraud_check skipped
  class charge failed
  class reserve rolled_back`;

describe('toMermaid', () => {
  it('draws a fan-out/fan-in DAG with a when, rollbacks and an afterAny', () => {
    expect(def.order).toEqual(['validate', 'reserve', 'charge', 'ship', 'fraud-check', 'notify']);
    expect(toMermaid(def)).toBe(MERMAID);
  });

  it('colours the steps by their state in a run', () => {
    expect(toMermaid(def, run)).toBe(MERMAID + CLASSES);
  });

  it('derives safe, unique ids and escapes labels', () => {
    const odd = buildWorkflowDefinition(
      { name: 'odd', source: 'Odd', steps: [step('end'), step('a-b', { after: 'end' }), step('a_b'), step('1st'), step('say "hi"', { afterAny: '1st' })] },
      null,
    );
    expect(toMermaid(odd)).toBe(`flowchart TD
  s_end["end"]
  a_b["a-b"]
  a_b_2["a_b"]
  s_1st["1st"]
  say__hi_["say #quot;hi#quot;"]
  s_end --> a_b
  s_1st -.-> say__hi_`);
  });
});

describe('toTable', () => {
  it('lists the steps with their options', () => {
    expect(toTable(def)).toBe(
      [
        'step         after            afterAny           when  onError   rollback',
        '-----------  ---------------  -----------------  ----  --------  ------------',
        'validate     -                -                  -     fail      -',
        'reserve      validate         -                  -     fail      releaseStock',
        'charge       validate         -                  -     fail      refund',
        'ship         reserve, charge  -                  -     fail      -',
        'fraud-check  validate         -                  yes   skip      -',
        'notify       -                ship, fraud-check  -     continue  -',
      ].join('\n'),
    );
  });

  it('adds state, attempts and error with a run', () => {
    const lines = toTable(def, run).split('\n');
    expect(lines[0]).toBe('step         after            afterAny           when  onError   rollback      state                attempts  error');
    expect(lines[3]).toBe('reserve      validate         -                  -     fail      releaseStock  rolled_back          1         -');
    expect(lines[4]).toBe(
      'charge       validate         -                  -     fail      refund        failed               4         card declined at charge()',
    );
    expect(lines[6]).toBe('fraud-check  validate         -                  yes   skip      -             skipped (condition)  0         -');
    expect(toTable(def, { ...run, steps: {} }).split('\n')[2]).toBe(
      'validate     -                -                  -     fail      -             -      -         -',
    );
  });
});
