import { Injectable, Logger } from '@nestjs/common';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Scheduled } from '../../lib/index.js';
import { startApp } from '../support/app.js';

@Injectable()
class Traced {
  activeTraceIds: string[] = [];
  @Scheduled({ name: 'traced', maxRetries: 1, backoff: 0 })
  run() {
    this.activeTraceIds.push(trace.getActiveSpan()?.spanContext().traceId ?? 'none');
    if (this.activeTraceIds.length === 1) throw new Error('first attempt fails');
  }
}

describe('OpenTelemetry', () => {
  const exporter = new InMemorySpanExporter();
  const contextManager = new AsyncLocalStorageContextManager();
  beforeAll(() => {
    context.setGlobalContextManager(contextManager.enable());
    trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
  });
  afterAll(() => {
    trace.disable();
    context.disable();
  });

  it('records one span per attempt, parented by the enqueue span, with error status on failure', async () => {
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const t = await startApp([Traced]);
    const tracer = trace.getTracer('test');
    const parent = tracer.startSpan('http request');
    await context.with(trace.setSpan(context.active(), parent), () => t.scheduler.enqueue('traced'));
    parent.end();
    await t.tester.drainQueue();
    await t.clock.advance(0);
    await t.tester.drainQueue();
    const spans = exporter.getFinishedSpans().filter((s) => s.name === 'job traced');
    expect(spans).toHaveLength(2);
    const [first, second] = spans;
    for (const span of spans) {
      expect(span.spanContext().traceId).toBe(parent.spanContext().traceId);
      expect(span.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
      expect(span.attributes['job.name']).toBe('traced');
      expect(span.attributes['job.queue']).toBe('default');
      expect(typeof span.attributes['job.id']).toBe('string');
    }
    expect(first!.attributes['job.attempt']).toBe(1);
    expect(first!.status.code).toBe(2);
    expect(first!.events.some((e) => e.name === 'exception')).toBe(true);
    expect(second!.attributes['job.attempt']).toBe(2);
    expect(second!.status.code).not.toBe(2);
    expect(t.get(Traced).activeTraceIds).toEqual([parent.spanContext().traceId, parent.spanContext().traceId]);
    await t.close();
    vi.restoreAllMocks();
  });

  it('records spans of jobs enqueued with no trace, and only once an SDK is registered, even after start', async () => {
    trace.disable();
    exporter.reset();
    const t = await startApp([Traced]);
    t.get(Traced).activeTraceIds.push('skip the failing first attempt');
    await t.scheduler.enqueue('traced');
    await t.tester.drainQueue();
    expect(exporter.getFinishedSpans()).toEqual([]);
    expect(t.get(Traced).activeTraceIds.at(-1)).toBe('none');

    trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
    await t.scheduler.enqueue('traced');
    await t.tester.drainQueue();
    const spans = exporter.getFinishedSpans().filter((s) => s.name === 'job traced');
    expect(spans).toHaveLength(1);
    expect(t.get(Traced).activeTraceIds.at(-1)).toBe(spans[0]!.spanContext().traceId);
    await t.close();
  });
});
