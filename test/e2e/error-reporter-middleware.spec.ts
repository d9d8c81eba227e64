import { Injectable, Logger } from '@nestjs/common';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ErrorReporterMiddleware, LoggingMiddleware, type ErrorReportContext } from '../../lib/index.js';
import { startApp, type TestApp } from '../support/app.js';
import { CapturedLogger, Jobs, type Args } from '../support/middleware-jobs.js';

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

describe('ErrorReporterMiddleware', () => {
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
