import type { JobContext } from '../execution/job-context.js';
import type { AttemptOutcome, JobMiddleware } from './job-middleware.js';

/**
 * The result of one attempt through the chain.
 * @internal
 */
export type ChainResult = { status: 'completed'; result: unknown } | { status: 'failed'; error: unknown } | { status: 'halted'; reason: string };

/**
 * Runs `handler` inside the middleware chain, in the order documented on
 * {@link JobMiddleware}. Errors thrown by hooks count as the attempt's error,
 * except in `onComplete`, whose errors are reported through `onHookError`.
 * @internal
 */
export async function runMiddlewareChain(
  middleware: readonly JobMiddleware[],
  ctx: JobContext<unknown>,
  handler: () => Promise<unknown>,
  now: () => number,
  onHookError: (error: unknown) => void,
): Promise<ChainResult> {
  const started = now();
  let outcome: ChainResult;
  try {
    outcome = await runCore(middleware, ctx, handler);
  } catch (error) {
    outcome = { status: 'failed', error };
  }
  if (outcome.status === 'failed') {
    for (const mw of middleware) {
      if (!mw.onError) continue;
      try {
        const replaced = await mw.onError(ctx, outcome.error);
        if (replaced instanceof Error) outcome = { status: 'failed', error: replaced };
      } catch (error) {
        outcome = { status: 'failed', error };
      }
    }
  }
  const summary: AttemptOutcome =
    outcome.status === 'completed'
      ? { status: 'completed', result: outcome.result, duration: now() - started }
      : outcome.status === 'failed'
        ? { status: 'failed', error: outcome.error, duration: now() - started }
        : { status: 'halted', error: outcome.reason, duration: now() - started };
  for (const mw of middleware) {
    if (!mw.onComplete) continue;
    try {
      await mw.onComplete(ctx, summary);
    } catch (error) {
      onHookError(error);
    }
  }
  return outcome;
}

async function runCore(middleware: readonly JobMiddleware[], ctx: JobContext<unknown>, handler: () => Promise<unknown>): Promise<ChainResult> {
  for (const mw of middleware) {
    const verdict = mw.before ? await mw.before(ctx) : undefined;
    if (verdict && typeof verdict === 'object' && typeof verdict.halt === 'string') {
      return { status: 'halted', reason: verdict.halt };
    }
  }
  let result = await handler();
  for (let i = middleware.length - 1; i >= 0; i--) {
    const after = middleware[i]!.after;
    if (!after) continue;
    const replaced = await after.call(middleware[i], ctx, result);
    if (replaced !== undefined) result = replaced;
  }
  return { status: 'completed', result };
}
