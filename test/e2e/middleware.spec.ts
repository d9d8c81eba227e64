import { Injectable, Logger } from '@nestjs/common';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DiscardJobError, Scheduled, haltJob, type AttemptOutcome, type JobContext, type JobMiddleware } from '../../lib/index.js';
import { startApp } from '../support/app.js';

@Injectable()
class Journal {
  lines: string[] = [];
}

function recorder(tag: string) {
  @Injectable()
  class Recorder implements JobMiddleware {
    constructor(readonly journal: Journal) {}
    before(ctx: JobContext<unknown>) {
      this.journal.lines.push(`${tag}.before`);
      ctx.locals[tag] = true;
    }
    after(_ctx: JobContext<unknown>, result: unknown) {
      this.journal.lines.push(`${tag}.after`);
      return tag === 'inner' ? { wrapped: result } : undefined;
    }
    onError(_ctx: JobContext<unknown>, error: unknown) {
      this.journal.lines.push(`${tag}.onError:${(error as Error).message}`);
    }
    onComplete(_ctx: JobContext<unknown>, outcome: AttemptOutcome) {
      this.journal.lines.push(`${tag}.onComplete:${outcome.status}`);
    }
  }
  Object.defineProperty(Recorder, 'name', { value: `${tag}Recorder` });
  return Recorder;
}

const Outer = recorder('outer');
const Inner = recorder('inner');

@Injectable()
class Halter implements JobMiddleware {
  before(ctx: JobContext<unknown>) {
    return (ctx.args as { halt?: boolean }).halt ? haltJob('rate limited') : undefined;
  }
}

@Injectable()
class Discarder implements JobMiddleware {
  onError() {
    return new DiscardJobError('not worth retrying');
  }
}

@Injectable()
class Jobs {
  constructor(readonly journal: Journal) {}
  @Scheduled({ name: 'ok', middleware: [Inner] })
  ok(ctx: JobContext) {
    this.journal.lines.push(`handler:${Object.keys(ctx.locals).join(',')}`);
    return 42;
  }
  @Scheduled({ name: 'fails', middleware: [Inner], maxRetries: 0 })
  fails() {
    this.journal.lines.push('handler');
    throw new Error('boom');
  }
  @Scheduled({ name: 'haltable', middleware: [Halter] })
  haltable() {
    this.journal.lines.push('haltable ran');
  }
  @Scheduled({ name: 'discardable', middleware: [Discarder], maxRetries: 5 })
  discardable() {
    throw new Error('flaky');
  }
}

describe('middleware', () => {
  beforeEach(() => {
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });
  afterEach(() => vi.restoreAllMocks());

  it('runs global then per-job middleware, resolved from DI: before in order, after in reverse', async () => {
    const t = await startApp([Journal, Jobs, Inner], { middleware: [Outer] });
    const run = await t.tester.runJob('ok');
    expect(t.get(Journal).lines).toEqual([
      'outer.before',
      'inner.before',
      'handler:outer,inner',
      'inner.after',
      'outer.after',
      'outer.onComplete:completed',
      'inner.onComplete:completed',
    ]);
    expect(run).toMatchObject({ outcome: 'completed', result: { wrapped: 42 } });
    expect((await t.scheduler.history('ok'))[0]!.result).toEqual({ wrapped: 42 });
    await t.close();
  });

  it('on failure runs onError in order, then onComplete', async () => {
    const t = await startApp([Journal, Jobs, Inner], { middleware: [Outer] });
    await t.tester.runJob('fails');
    expect(t.get(Journal).lines).toEqual([
      'outer.before',
      'inner.before',
      'handler',
      'outer.onError:boom',
      'inner.onError:boom',
      'outer.onComplete:failed',
      'inner.onComplete:failed',
    ]);
    await t.close();
  });

  it('a middleware can halt a job with a reason (discarded, job:skip), or turn an error into a discard', async () => {
    const t = await startApp([Journal, Jobs]);
    const skips: string[] = [];
    t.scheduler.on('job:skip', (e) => skips.push(`${e.reason}:${e.name}`));
    const halted = await t.tester.runJob('haltable', { halt: true });
    expect(halted.outcome).toBe('halted');
    expect(t.get(Journal).lines).toEqual([]);
    expect(skips).toEqual(['halted:haltable']);
    const stored = (await t.scheduler.history('haltable'))[0]!;
    expect(stored.state).toBe('discarded');
    expect(stored.errors[0]!.message).toContain('rate limited');
    await t.tester.runJob('haltable', { halt: false });
    expect(t.get(Journal).lines).toEqual(['haltable ran']);
    const discarded = await t.tester.runJob('discardable');
    expect(discarded.outcome).toBe('discarded');
    await t.close();
  });
});
