import { describe, expect, it } from 'vitest';
import type { AttemptOutcome, JobContext, JobMiddleware } from '../../../lib/index.js';
import { runMiddlewareChain } from '../../../lib/middleware/middleware.chain.js';

const ctx = { locals: {} } as JobContext<unknown>;
const now = () => 0;

function tracing(tag: string, log: string[], extra: Partial<JobMiddleware> = {}): JobMiddleware {
  return {
    before: () => void log.push(`${tag}.before`),
    after: () => void log.push(`${tag}.after`),
    onError: () => void log.push(`${tag}.onError`),
    onComplete: (_c, o) => void log.push(`${tag}.onComplete:${o.status}`),
    ...extra,
  };
}

describe('runMiddlewareChain', () => {
  it('before in order, after in reverse, onComplete in order', async () => {
    const log: string[] = [];
    const result = await runMiddlewareChain(
      [tracing('a', log), tracing('b', log)],
      ctx,
      async () => (log.push('handler'), 1),
      now,
      () => {},
    );
    expect(result).toEqual({ status: 'completed', result: 1 });
    expect(log).toEqual(['a.before', 'b.before', 'handler', 'b.after', 'a.after', 'a.onComplete:completed', 'b.onComplete:completed']);
  });

  it('onError returning { ignore } completes the attempt: later onError hooks skip it, onComplete sees the ignored error', async () => {
    const log: string[] = [];
    const failure = new Error('known flake');
    const outcomes: unknown[] = [];
    const chain = [
      tracing('a', log, { onError: () => (log.push('a.onError'), { ignore: 'flake' }) }),
      tracing('b', log, { onComplete: (_c, o) => void outcomes.push(o) }),
    ];
    const result = await runMiddlewareChain(
      chain,
      ctx,
      async () => {
        throw failure;
      },
      now,
      () => {},
    );
    expect(result).toEqual({ status: 'completed', result: null, ignored: { reason: 'flake', error: failure } });
    expect(log).toEqual(['a.before', 'b.before', 'a.onError', 'a.onComplete:completed']);
    expect(outcomes).toEqual([{ status: 'completed', result: null, error: failure, ignored: 'flake', duration: 0 }]);
  });

  it('an onError answer that is neither an Error nor { ignore: string } changes nothing', async () => {
    const failure = new Error('x');
    const chain = [{ onError: () => ({ ignore: 42 }) as never }, { onError: () => 'ignore' as never }];
    const result = await runMiddlewareChain(
      chain,
      ctx,
      () => Promise.reject(failure),
      now,
      () => {},
    );
    expect(result).toEqual({ status: 'failed', error: failure });
  });

  it('onError in order on failure; a returned Error replaces the error', async () => {
    const log: string[] = [];
    const replacement = new Error('replaced');
    const chain = [tracing('a', log), tracing('b', log, { onError: () => (log.push('b.onError'), replacement) })];
    const result = await runMiddlewareChain(
      chain,
      ctx,
      async () => {
        throw new Error('boom');
      },
      now,
      () => {},
    );
    expect(result).toEqual({ status: 'failed', error: replacement });
    expect(log).toEqual(['a.before', 'b.before', 'a.onError', 'b.onError', 'a.onComplete:failed', 'b.onComplete:failed']);
  });

  it('a halt in before stops the chain: no handler, no after, onComplete still runs', async () => {
    const log: string[] = [];
    const chain = [tracing('a', log, { before: () => ({ halt: 'nope' }) }), tracing('b', log)];
    const result = await runMiddlewareChain(
      chain,
      ctx,
      async () => log.push('handler'),
      now,
      () => {},
    );
    expect(result).toEqual({ status: 'halted', reason: 'nope' });
    expect(log).toEqual(['a.onComplete:halted', 'b.onComplete:halted']);
  });

  it('after may replace the result; a throwing after fails the attempt; onComplete errors are reported, not thrown', async () => {
    const reported: unknown[] = [];
    const replaced = await runMiddlewareChain(
      [{ after: (_c, r) => ({ wrapped: r }) }],
      ctx,
      async () => 1,
      now,
      () => {},
    );
    expect(replaced).toEqual({ status: 'completed', result: { wrapped: 1 } });
    const failed = await runMiddlewareChain(
      [
        {
          after: () => {
            throw new Error('after broke');
          },
        },
      ],
      ctx,
      async () => 1,
      now,
      () => {},
    );
    expect(failed.status).toBe('failed');
    const ok = await runMiddlewareChain(
      [
        {
          onComplete: () => {
            throw new Error('oops');
          },
        },
      ],
      ctx,
      async () => 1,
      now,
      (e) => reported.push(e),
    );
    expect(ok.status).toBe('completed');
    expect(reported).toHaveLength(1);
  });

  it("tells onComplete what follows: the decision for a failure (of the final error), 'discard' for a halt, nothing for a completion", async () => {
    const seen: AttemptOutcome[] = [];
    const record: JobMiddleware = { onComplete: (_c, o) => void seen.push(o) };
    const decided: unknown[] = [];
    const next = (error: unknown) => (decided.push(error), 'dead' as const);
    const replaced = new Error('replaced');
    await runMiddlewareChain(
      [{ onError: () => replaced }, record],
      ctx,
      () => Promise.reject(new Error('first')),
      now,
      () => {},
      next,
    );
    await runMiddlewareChain(
      [{ before: () => ({ halt: 'paused tenant' }) }, record],
      ctx,
      async () => 1,
      now,
      () => {},
      next,
    );
    await runMiddlewareChain(
      [record],
      ctx,
      async () => 1,
      now,
      () => {},
      next,
    );
    const throwing = () => {
      throw new Error('classifier broke');
    };
    await runMiddlewareChain(
      [record],
      ctx,
      () => Promise.reject(new Error('x')),
      now,
      () => {},
      throwing,
    );
    expect(seen.map((o) => [o.status, o.next])).toEqual([
      ['failed', 'dead'],
      ['halted', 'discard'],
      ['completed', undefined],
      ['failed', 'retry'],
    ]);
    expect(decided).toEqual([replaced]);
  });
});
