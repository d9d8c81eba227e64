import { Injectable, Logger, type LoggerService } from '@nestjs/common';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  DiscardJobError,
  ErrorReporterMiddleware,
  LoggingMiddleware,
  Scheduled,
  SchedulerConfigError,
  type ErrorReportContext,
  type JobContext,
  type JsonObject,
  type JobLogLine,
} from '../../lib/index.js';
import { bootstrapError, startApp, type TestApp } from '../support/app.js';

/** A LoggerService that keeps what it was given. */
class CapturedLogger implements LoggerService {
  entries: { level: string; message: unknown }[] = [];
  log = (message: unknown) => void this.entries.push({ level: 'log', message });
  warn = (message: unknown) => void this.entries.push({ level: 'warn', message });
  error = (message: unknown) => void this.entries.push({ level: 'error', message });
  debug = (message: unknown) => void this.entries.push({ level: 'debug', message });
  verbose = (message: unknown) => void this.entries.push({ level: 'verbose', message });
  lines(): JobLogLine[] {
    return this.entries.filter((e) => typeof e.message === 'object').map((e) => e.message as JobLogLine);
  }
}

/** `failUntil`: attempts up to this one throw. */
type Args = JsonObject & { failUntil?: number; discard?: boolean };

@Injectable()
class Jobs {
  @Scheduled({ name: 'send', backoff: 0, maxRetries: 2 })
  send(ctx: JobContext<Args>) {
    if (ctx.args.discard) throw new DiscardJobError('not worth it');
    if ((ctx.args.failUntil ?? 0) >= ctx.attempt) throw new TypeError(`attempt ${ctx.attempt} broke`);
    return 'sent';
  }
  @Scheduled({ name: 'slow', timeout: '1s', backoff: 0, maxRetries: 1 })
  slow(ctx: JobContext) {
    return new Promise((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error)));
  }
}

/** Records what the tracker was sent; the reporter below gets it injected. */
@Injectable()
class Tracker {
  reports: string[] = [];
}

@Injectable()
class TrackerReporter extends ErrorReporterMiddleware {
  constructor(tracker: Tracker) {
    super({ on: 'every', report: (error, ctx) => void tracker.reports.push(`${ctx.job.name}#${ctx.job.attempt}:${ctx.outcome}:${(error as Error).message}`) });
  }
}

describe('built-in middleware', () => {
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

  describe('LoggingMiddleware', () => {
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

  describe('ErrorReporterMiddleware', () => {
    it("'final' reports once, when no attempt is left; 'every' reports each failed attempt", async () => {
      const final: [unknown, ErrorReportContext][] = [];
      const every: string[] = [];
      t = await startApp([Jobs], {
        middleware: [
          ErrorReporterMiddleware.with({ report: (error, ctx) => void final.push([error, ctx]) }),
          ErrorReporterMiddleware.with({ on: 'every', report: (_error, ctx) => void every.push(`${ctx.job.attempt}:${ctx.outcome}:${ctx.final}`) }),
        ],
      });
      const job = await run({ failUntil: 9 });
      expect(every).toEqual(['1:retry:false', '2:retry:false', '3:dead:true']);
      expect(final).toHaveLength(1);
      const [error, ctx] = final[0]!;
      expect((error as Error).message).toBe('attempt 3 broke');
      expect(ctx).toMatchObject({ outcome: 'dead', final: true, fingerprint: ['send', 'TypeError'], durationMs: 0, traceId: null });
      expect(ctx.job).toMatchObject({ id: job.id, attempt: 3, maxAttempts: 3 });
      // A retried failure that then succeeds is not final; a discard is.
      await run({ failUntil: 1 });
      await run({ discard: true });
      expect(final.map(([, c]) => c.outcome)).toEqual(['dead', 'discard']);
      expect(every.slice(3)).toEqual(['1:retry:false', '1:discard:true']);
    });

    it('a timed-out attempt is a failure like any other: retried, then dead', async () => {
      const logger = new CapturedLogger();
      const reports: string[] = [];
      t = await startApp([Jobs], {
        middleware: [
          LoggingMiddleware.with({ logger, args: false }),
          ErrorReporterMiddleware.with({
            on: 'every',
            report: (error, ctx) => void reports.push(`${ctx.job.attempt}:${ctx.outcome}:${(error as Error).name}`),
          }),
        ],
      });
      await t.scheduler.enqueue('slow', {});
      // Each advance times out one attempt (the retry starts at once: backoff 0).
      await t.clock.advance('1s');
      await t.clock.advance('1s');
      await t.tester.drainQueue();
      expect(t.tester.runs('slow').map((r) => r.outcome)).toEqual(['retry', 'dead']);
      expect(reports).toEqual(['1:retry:JobAbortedError', '2:dead:JobAbortedError']);
      expect(logger.lines().map((l) => [l.outcome, l.duration_ms, l.error_type])).toEqual([
        ['retry', 1000, 'JobAbortedError'],
        ['dead', 1000, 'JobAbortedError'],
      ]);
    });

    it('a report that throws or rejects is logged and changes nothing for the job', async () => {
      const logger = new CapturedLogger();
      t = await startApp([Jobs], {
        middleware: [
          ErrorReporterMiddleware.with({ on: 'every', logger, report: () => Promise.reject(new Error('tracker down')) }),
          ErrorReporterMiddleware.with({
            on: 'every',
            logger,
            report: () => {
              throw new Error('tracker broken');
            },
          }),
        ],
      });
      const job = await run({ failUntil: 1 });
      const [stored] = await t.scheduler.history('send');
      expect([stored!.id, stored!.state, stored!.attempt]).toEqual([job.id, 'completed', 2]);
      expect(t.tester.runs('send').map((r) => r.outcome)).toEqual(['retry', 'completed']);
      expect(logger.entries.map((e) => e.message)).toEqual([
        `reporting the error of send (${job.id}) attempt 1 failed: tracker down`,
        `reporting the error of send (${job.id}) attempt 1 failed: tracker broken`,
      ]);
    });

    it('a custom fingerprint; used as it is, it logs the final failure', async () => {
      const error = vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
      const seen: (readonly string[])[] = [];
      t = await startApp([Jobs], {
        middleware: [
          ErrorReporterMiddleware,
          ErrorReporterMiddleware.with({ fingerprint: (e, job) => [job.queue, (e as Error).name], report: (_e, ctx) => void seen.push(ctx.fingerprint) }),
        ],
      });
      const job = await run({ failUntil: 9 });
      expect(seen).toEqual([['default', 'TypeError']]);
      const logged = error.mock.calls.map(([message]) => String(message)).filter((m) => m.includes('[send, TypeError]'));
      expect(logged).toEqual([`send (${job.id}) attempt 3/3 failed (dead) [send, TypeError]: attempt 3 broke`]);
    });
  });

  it('.with() returns a class the container builds; a subclass gets its dependencies injected', async () => {
    const Configured = LoggingMiddleware.with({ successSampleRate: 0 });
    expect(Configured).not.toBe(LoggingMiddleware);
    expect(Configured.name).toBe('LoggingMiddleware');
    expect(new Configured()).toBeInstanceOf(LoggingMiddleware);
    t = await startApp([Jobs, Tracker], { middleware: [TrackerReporter] });
    await run({ failUntil: 1 });
    expect(t.get(Tracker).reports).toEqual(['send#1:retry:attempt 1 broke']);
  });
});
