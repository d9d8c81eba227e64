import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Step, Workflow } from '../../lib/index.js';
import { startApp } from '../support/app.js';

@Workflow({ name: 'traced-flow' })
class TracedFlow {
  @Step()
  first() {}
  @Step({ after: 'first' })
  second() {}
}

describe('workflow spans', () => {
  const exporter = new InMemorySpanExporter();
  beforeAll(() => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
  });
  afterAll(() => {
    trace.disable();
    context.disable();
  });

  it('a workflow span parents the spans of its steps', async () => {
    const t = await startApp([TracedFlow]);
    const runId = await t.scheduler.workflows.start('traced-flow', {});
    for (let i = 0; i < 3; i++) await t.tester.drainQueue();
    expect((await t.scheduler.workflows.getState(runId)).state).toBe('completed');
    const spans = exporter.getFinishedSpans();
    const root = spans.find((s) => s.name === 'workflow traced-flow')!;
    expect(root.attributes['workflow.run_id']).toBe(runId);
    const steps = spans.filter((s) => s.name.startsWith('step traced-flow.'));
    expect(steps).toHaveLength(2);
    for (const step of steps) {
      expect(step.spanContext().traceId).toBe(root.spanContext().traceId);
      expect(step.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
    }
    await t.close();
  });
});
