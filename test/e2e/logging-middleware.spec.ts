import { Logger } from '@nestjs/common';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LoggingMiddleware, SchedulerConfigError, type JobLogLine } from '../../lib/index.js';
import { bootstrapError, startApp, type TestApp } from '../support/app.js';
import { CapturedLogger, Jobs, type Args } from '../support/middleware-jobs.js';

describe('LoggingMiddleware', () => {
  let t: TestApp | undefined;
  beforeEach(() => {
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });
  afterEach(async () => {
    await t?.close();
    t = undefined;
    vi.restoreAllMocks();
  });

  /** Enqueues `send` with `args` and runs it until no attempt is due. */
  const run = async (args: Args) => {
    const job = await t!.scheduler.enqueue('send', args);
    await t!.tester.drainQueue();
    return job;
  };

  it('logs one structured line per attempt: a failure at warn, the success at log', async () => {
    const logger = new CapturedLogger();
    t = await startApp([Jobs], { middleware: [LoggingMiddleware.with({ logger })] });
    const job = await run({ failUntil: 1, to: 'ada@example.com' });
    expect(logger.entries.map((e) => e.level)).toEqual(['warn', 'log']);
    const [failed, succeeded] = logger.lines();
    const common = { event: 'job:attempt', id: job.id, name: 'send', queue: 'default', schedule: null, max_attempts: 3, trace_id: null };
    expect(failed).toEqual({
      ...common,
      attempt: 1,
      duration_ms: 0,
      outcome: 'retry',
      args: { failUntil: 1, to: 'ada@example.com' },
      error: 'attempt 1 broke',
      error_type: 'TypeError',
    });
    expect(succeeded).toEqual({ ...common, attempt: 2, duration_ms: 0, outcome: 'success', args: { failUntil: 1, to: 'ada@example.com' } });
  });

  it('with successSampleRate 0 logs no success, every failure, and the dead one at error', async () => {
    const logger = new CapturedLogger();
    t = await startApp([Jobs], { middleware: [LoggingMiddleware.with({ logger, successSampleRate: 0 })] });
    await run({});
    await run({ failUntil: 1 });
    expect(logger.lines().map((l) => `${l.attempt}:${l.outcome}`)).toEqual(['1:retry']);
    await run({ failUntil: 9 });
    expect(logger.entries.map((e) => `${e.level}:${(e.message as JobLogLine).outcome}`)).toEqual(['warn:retry', 'warn:retry', 'warn:retry', 'error:dead']);
    await run({ discard: true });
    expect(logger.lines().at(-1)).toMatchObject({ outcome: 'discard', error_type: 'DiscardJobError' });
  });

  it('redacts argument keys at any depth, case-insensitively (default keys, or the given ones), or leaves args out', async () => {
    const args = { user: { name: 'ada', Password: 'hunter2', cards: [{ token: 'tok_1' }] }, apiKey: 'k' };
    const byDefault = new CapturedLogger();
    const chosen = new CapturedLogger();
    const none = new CapturedLogger();
    t = await startApp([Jobs], {
      middleware: [
        LoggingMiddleware.with({ logger: byDefault }),
        LoggingMiddleware.with({ logger: chosen, redact: ['NAME'] }),
        LoggingMiddleware.with({ logger: none, args: false }),
      ],
    });
    await run(args);
    expect(byDefault.lines()[0]!.args).toEqual({ user: { name: 'ada', Password: '[redacted]', cards: [{ token: '[redacted]' }] }, apiKey: '[redacted]' });
    expect(chosen.lines()[0]!.args).toEqual({ user: { name: '[redacted]', Password: 'hunter2', cards: [{ token: 'tok_1' }] }, apiKey: 'k' });
    expect(none.lines()[0]).not.toHaveProperty('args');
    // The job's own arguments are untouched.
    expect((await t.scheduler.history('send'))[0]!.args).toEqual(args);
  });

  it("format 'text' writes one key=value line", async () => {
    const logger = new CapturedLogger();
    t = await startApp([Jobs], { middleware: [LoggingMiddleware.with({ logger, format: 'text', args: false })] });
    const job = await run({ failUntil: 1 });
    expect(logger.entries[0]!.message).toBe(
      `event=job:attempt id=${job.id} name=send queue=default schedule=null attempt=1 max_attempts=3 duration_ms=0 outcome=retry trace_id=null error="attempt 1 broke" error_type=TypeError`,
    );
  });

  it('carries the trace id of the attempt span when an OpenTelemetry SDK is registered', async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(new BasicTracerProvider());
    try {
      const logger = new CapturedLogger();
      t = await startApp([Jobs], { middleware: [LoggingMiddleware.with({ logger })] });
      const parent = trace.getTracer('test').startSpan('request');
      await context.with(trace.setSpan(context.active(), parent), () => t!.scheduler.enqueue('send', {}));
      parent.end();
      await t.tester.drainQueue();
      expect(logger.lines()[0]!.trace_id).toBe(parent.spanContext().traceId);
    } finally {
      trace.disable();
      context.disable();
    }
  });

  it("used as it is, logs through Nest's Logger; a bad option fails bootstrap", async () => {
    const log = vi.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    t = await startApp([Jobs], { middleware: [LoggingMiddleware] });
    await run({});
    const lines = log.mock.calls.map(([message]) => message as JobLogLine).filter((m) => typeof m === 'object' && m.event === 'job:attempt');
    expect(lines.map((l) => l.outcome)).toEqual(['success']);
    const error = await bootstrapError([Jobs], { middleware: [LoggingMiddleware.with({ successSampleRate: 2 })] });
    expect(error).toBeInstanceOf(SchedulerConfigError);
    expect((error as Error).message).toContain('successSampleRate');
  });
});
