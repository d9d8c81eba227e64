import 'reflect-metadata';
import { Injectable } from '@nestjs/common';
import { DiscoveryModule, DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { describe, expect, it } from 'vitest';
import { SchedulerConfigError } from '../../../lib/scheduler.errors.js';
import { WorkflowBuilder } from '../../../lib/workflow/workflow.builder.js';
import { STEP_METADATA, WORKFLOW_METADATA } from '../../../lib/workflow/workflow.constants.js';
import { Step, Workflow } from '../../../lib/workflow/workflow.decorators.js';
import { buildWorkflowDefinition, type StepInput, type WorkflowDefinition } from '../../../lib/workflow/workflow.definition.js';
import { exploreWorkflow } from '../../../lib/workflow/workflow.discovery.js';
import { SchedulerMetadataAccessor } from '../../../lib/discovery/scheduler-metadata.accessor.js';
import type { StepContext, WorkflowSchedule } from '../../../lib/workflow/workflow.types.js';

const noop = async (): Promise<unknown> => undefined;
const step = (name: string, options: Omit<StepInput, 'name' | 'run'> = {}): StepInput => ({ name, run: noop, ...options });
const build = (steps: StepInput[], extra: { schedule?: WorkflowSchedule; version?: string; name?: string } = {}, queues: ReadonlySet<string> | null = null) =>
  buildWorkflowDefinition({ name: extra.name ?? 'orders', source: 'OrderFlow', steps, schedule: extra.schedule, version: extra.version }, queues);

function configError(fn: () => unknown): SchedulerConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SchedulerConfigError);
    return error as SchedulerConfigError;
  }
  throw new Error('expected a SchedulerConfigError');
}

describe('buildWorkflowDefinition', () => {
  it('applies defaults and keeps declaration order in steps', () => {
    const def = build([step('b'), step('a', { after: 'b' })]);
    expect([...def.steps.keys()]).toEqual(['b', 'a']);
    expect(def.steps.get('a')).toMatchObject({ after: ['b'], afterAny: [], timeout: 300_000, maxRetries: 3, onError: 'fail', queue: 'default', priority: 0 });
    expect(def.source).toBe('OrderFlow');
    expect(def.version).toMatch(/^[0-9a-f]{12}$/);
    expect(build([step('a', { timeout: '30s' })]).steps.get('a')!.timeout).toBe(30_000);
  });

  it('orders steps topologically, declaration order among equals', () => {
    const def = build([
      step('notify', { after: ['charge', 'ship'] }),
      step('ship', { after: 'reserve' }),
      step('charge', { afterAny: ['reserve', 'quote'] }),
      step('reserve'),
      step('quote'),
    ]);
    expect(def.order).toEqual(['reserve', 'ship', 'quote', 'charge', 'notify']);
  });

  it.each<[string, () => unknown, string, string]>([
    ['an empty workflow', () => build([]), 'OrderFlow', 'steps'],
    ['a bad workflow name', () => build([step('a')], { name: '' }), 'OrderFlow', 'name'],
    ['an empty step name', () => build([step('')]), 'OrderFlow', 'name'],
    ['a duplicate step name', () => build([step('a'), step('a')]), 'OrderFlow.a', 'name'],
    ['an unknown name in after', () => build([step('a', { after: 'nope' })]), 'OrderFlow.a', 'after'],
    ['an unknown name in afterAny', () => build([step('a', { afterAny: ['nope'] })]), 'OrderFlow.a', 'afterAny'],
    ['a rollback without its function', () => build([step('a', { rollback: 'undo' })]), 'OrderFlow.a', 'rollback'],
    ['a step in both after and afterAny', () => build([step('a'), step('b', { after: 'a', afterAny: 'a' })]), 'OrderFlow.b', 'afterAny'],
    ['a bad timeout', () => build([step('a', { timeout: 'soon' })]), 'OrderFlow.a', 'timeout'],
    ['a zero timeout', () => build([step('a', { timeout: 0 })]), 'OrderFlow.a', 'timeout'],
    ['a bad maxRetries', () => build([step('a', { maxRetries: -1 })]), 'OrderFlow.a', 'maxRetries'],
    ['a bad onError', () => build([step('a', { onError: 'ignore' as never })]), 'OrderFlow.a', 'onError'],
    ['an empty queue', () => build([step('a', { queue: '' })]), 'OrderFlow.a', 'queue'],
    ['an unknown queue', () => build([step('a', { queue: 'mail' })], {}, new Set(['default'])), 'OrderFlow.a', 'queue'],
    ['a bad priority', () => build([step('a', { priority: 10 })]), 'OrderFlow.a', 'priority'],
    ['a bad cron', () => build([step('a')], { schedule: { cron: 'nope' } }), 'OrderFlow', 'cron'],
    ['a bad zone', () => build([step('a')], { schedule: { cron: '0 * * * *', zone: 'Mars/Base' } }), 'OrderFlow', 'zone'],
    ['cron and every together', () => build([step('a')], { schedule: { cron: '0 * * * *', every: '5m' } }), 'OrderFlow', 'every'],
    ['a schedule without a time', () => build([step('a')], { schedule: { zone: undefined } }), 'OrderFlow', 'schedule'],
    ['a bad startAt', () => build([step('a')], { schedule: { every: '1h', startAt: 'tomorrow' } }), 'OrderFlow', 'startAt'],
    ['an invalid endAt date', () => build([step('a')], { schedule: { every: '1h', endAt: new Date(NaN) } }), 'OrderFlow', 'endAt'],
    [
      'endAt before startAt',
      () => build([step('a')], { schedule: { every: '1h', startAt: '2030-01-02T00:00:00Z', endAt: '2030-01-01T00:00:00Z' } }),
      'OrderFlow',
      'endAt',
    ],
    ['an empty version', () => build([step('a')], { version: ' ' }), 'OrderFlow', 'version'],
  ])('rejects %s', (_what, fn, source, option) => {
    const error = configError(fn);
    expect(error.source).toBe(source);
    expect(error.option).toBe(option);
    expect(error.message).toContain(`${source}: invalid option "${option}"`);
  });

  it('names the steps of a cycle', () => {
    const error = configError(() => build([step('a', { after: 'c' }), step('b', { after: 'a' }), step('c', { afterAny: 'b' }), step('d')]));
    expect(error.source).toBe('OrderFlow.a');
    expect(error.option).toBe('after');
    expect(error.message).toContain('dependency cycle: a -> b -> c -> a');
    expect(configError(() => build([step('a', { after: 'a' })])).message).toContain('dependency cycle: a -> a');
  });

  it('accepts a valid schedule with bounds', () => {
    const schedule = { cron: '0 6 * * *', zone: 'Europe/Paris', startAt: '2030-01-01T00:00:00Z', endAt: new Date('2031-01-01T00:00:00Z') };
    expect(build([step('a')], { schedule }).schedule).toEqual(schedule);
  });

  it('changes the default version when the DAG changes, not when a function body does', () => {
    const base = build([step('a'), step('b', { after: 'a', rollback: 'undo', runRollback: noop })]).version;
    const otherBodies = build([
      step('a', { run: async () => 'changed' } as never),
      step('b', { after: 'a', rollback: 'undo', runRollback: async () => 1, when: () => true, timeout: '1m', maxRetries: 9 }),
    ]).version;
    expect(otherBodies).toBe(base);
    expect(build([step('a'), step('b', { afterAny: 'a', rollback: 'undo', runRollback: noop })]).version).not.toBe(base);
    expect(build([step('a'), step('b', { after: 'a', rollback: 'revert', runRollback: noop })]).version).not.toBe(base);
    expect(build([step('a'), step('b', { after: 'a', rollback: 'undo', runRollback: noop, onError: 'skip' })]).version).not.toBe(base);
    expect(build([step('a'), step('c', { after: 'a', rollback: 'undo', runRollback: noop })]).version).not.toBe(base);
    expect(build([step('a')], { version: 'v2' }).version).toBe('v2');
  });
});

@Injectable()
class Audit {
  readonly log: string[] = [];
}

@Workflow({ name: 'orders', schedule: { every: '1h' } })
class OrderWorkflow {
  constructor(private readonly audit: Audit) {}

  @Step()
  async reserve(_ctx: StepContext) {
    this.audit.log.push('reserve');
    return { reserved: true };
  }

  @Step({ name: 'pay', after: 'reserve', rollback: 'refund', queue: 'payments', maxRetries: 1 })
  async charge(_ctx: StepContext) {
    this.audit.log.push('charge');
  }

  @Step({ afterAny: ['pay', 'reserve'], when: (c) => c.express === true })
  async ship(_ctx: StepContext) {}

  async refund(_ctx: StepContext) {
    this.audit.log.push('refund');
  }
}

@Injectable()
class PlainService {
  hello() {}
}

describe('@Workflow / @Step and exploreWorkflow', () => {
  const ctx = {} as StepContext;
  const accessor = new SchedulerMetadataAccessor(new Reflector(), new MetadataScanner());
  /** What the explorer does for one provider: read its metadata, then build its workflow. */
  const explore = (instance: object, type: Function, queues: ReadonlySet<string> | null) =>
    exploreWorkflow(instance, type.name, accessor.read(type, Object.getPrototypeOf(instance) as object) ?? { steps: [] }, queues);

  it('writes namespaced metadata', () => {
    expect(WORKFLOW_METADATA).toBe('scheduler:workflow');
    expect(Reflect.getMetadata(WORKFLOW_METADATA, OrderWorkflow)).toEqual({ name: 'orders', schedule: { every: '1h' } });
    expect(Reflect.getMetadata(STEP_METADATA, OrderWorkflow.prototype.charge)).toMatchObject({ name: 'pay', after: 'reserve' });
  });

  it('builds the definition from a Nest module with bound steps and rollbacks', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [DiscoveryModule], providers: [Audit, OrderWorkflow, PlainService] }).compile();
    const queues = new Set(['default', 'payments']);
    const found: WorkflowDefinition[] = [];
    for (const wrapper of moduleRef.get(DiscoveryService).getProviders()) {
      if (!wrapper.instance || typeof wrapper.metatype !== 'function') continue;
      const def = explore(wrapper.instance as object, wrapper.metatype, queues);
      if (def) found.push(def);
    }
    expect(found).toHaveLength(1);
    const def = found[0]!;
    expect(def).toMatchObject({ name: 'orders', source: 'OrderWorkflow', order: ['reserve', 'pay', 'ship'], schedule: { every: '1h' } });
    expect(def.steps.get('pay')).toMatchObject({ after: ['reserve'], rollback: 'refund', queue: 'payments', maxRetries: 1 });
    expect(def.steps.get('ship')!.when!({ express: true })).toBe(true);
    expect(await def.steps.get('reserve')!.run(ctx)).toEqual({ reserved: true });
    await def.steps.get('pay')!.run(ctx);
    await def.steps.get('pay')!.runRollback!(ctx);
    expect(moduleRef.get(Audit).log).toEqual(['reserve', 'charge', 'refund']);
    await moduleRef.close();
  });

  it('returns null for a class without @Workflow', () => {
    expect(explore(new PlainService(), PlainService, null)).toBeNull();
  });

  it('rejects a @Step outside a @Workflow class', () => {
    class Loose {
      @Step() go() {}
    }
    const error = configError(() => explore(new Loose(), Loose, null));
    expect(error.message).toContain('Loose.go: invalid option "Step"');
  });

  it('rejects a rollback that is not a method of the class, or is a step', () => {
    @Workflow({ name: 'w' })
    class Bad {
      @Step({ rollback: 'undo' }) go() {}
    }
    expect(configError(() => explore(new Bad(), Bad, null)).message).toMatch(/^Bad\.go: invalid option "rollback": unknown method "undo"/);
    @Workflow({ name: 'w' })
    class StepRollback {
      @Step() a() {}
      @Step({ rollback: 'a' }) b() {}
    }
    expect(configError(() => explore(new StepRollback(), StepRollback, null)).message).toContain('StepRollback.b: invalid option "rollback"');
  });

  it('reports definition errors with the class and step', () => {
    @Workflow({ name: 'w' })
    class Unknown {
      @Step({ after: 'missing' }) go() {}
    }
    expect(configError(() => explore(new Unknown(), Unknown, null)).message).toContain('Unknown.go: invalid option "after": unknown step "missing"');
  });
});

describe('WorkflowBuilder', () => {
  const ctx = {} as StepContext;
  const handlers: Record<string, (ctx: StepContext) => Promise<unknown>> = { 'mail.send': async () => 'sent', 'mail.recall': async () => 'recalled' };
  const make = (registered: WorkflowDefinition[] = []) =>
    new WorkflowBuilder(
      'signup',
      (def) => registered.push(def),
      (name) => handlers[name],
      new Set(['default', 'mail']),
    );

  it('builds from functions and handler names, and registers once', async () => {
    const registered: WorkflowDefinition[] = [];
    const undo = () => 'undone';
    const def = make(registered)
      .step('create', (c) => ({ user: c.step }))
      .step('welcome', 'mail.send', { after: 'create', queue: 'mail', rollback: 'mail.recall' })
      .step('audit', async () => 1, { afterAny: ['create'], rollback: undo })
      .schedule({ every: '1d' })
      .version('3')
      .register();
    expect(registered).toEqual([def]);
    expect(def).toMatchObject({
      name: 'signup',
      version: '3',
      source: 'workflows.define(signup)',
      order: ['create', 'welcome', 'audit'],
      schedule: { every: '1d' },
    });
    expect(await def.steps.get('create')!.run({ step: 'create' } as StepContext)).toEqual({ user: 'create' });
    expect(await def.steps.get('welcome')!.run(ctx)).toBe('sent');
    expect(await def.steps.get('welcome')!.runRollback!(ctx)).toBe('recalled');
    expect(def.steps.get('welcome')!.rollback).toBe('mail.recall');
    expect(def.steps.get('audit')!.rollback).toBe('undo');
    expect(await def.steps.get('audit')!.runRollback!(ctx)).toBe('undone');
  });

  it('supports rollback() and rejects a second register()', () => {
    const builder = make()
      .step('a', noop)
      .rollback('a', async function compensate() {});
    expect(builder.register().steps.get('a')!.rollback).toBe('compensate');
    expect(configError(() => builder.register()).option).toBe('register');
  });

  it.each<[string, (b: WorkflowBuilder) => unknown, string, string]>([
    ['an unknown handler name', (b) => b.step('a', 'mail.nope'), 'workflows.define(signup).a', 'run'],
    ['an unknown rollback handler', (b) => b.step('a', noop, { rollback: 'nope' }), 'workflows.define(signup).a', 'rollback'],
    ['rollback() of an unknown step', (b) => b.rollback('zz', noop), 'workflows.define(signup).zz', 'rollback'],
    ['an empty workflow', (b) => b.register(), 'workflows.define(signup)', 'steps'],
    ['an unknown queue', (b) => b.step('a', noop, { queue: 'sms' }).register(), 'workflows.define(signup).a', 'queue'],
    ['a bad schedule', (b) => b.step('a', noop).schedule({ every: 'often' }).register(), 'workflows.define(signup)', 'every'],
  ])('rejects %s', (_what, fn, source, option) => {
    const error = configError(() => fn(make()));
    expect([error.source, error.option]).toEqual([source, option]);
  });
});
