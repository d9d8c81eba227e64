import type { JobContext } from '../execution/job-context.js';
import type { AttemptNext, AttemptOutcome, JobMiddleware, MiddlewareIgnore } from './job-middleware.js';

/**
 * The result of one attempt through the chain.
 * @internal
 */
export type ChainResult =
  | { status: 'completed'; result: unknown; ignored?: { reason: string; error: unknown } }
  | { status: 'failed'; error: unknown }
  | { status: 'halted'; reason: string };

/**
 * Runs `handler` inside the middleware chain, in the order documented on
 * {@link JobMiddleware}. Errors thrown by hooks count as the attempt's error,
 * except in `onComplete`, whose errors are reported through `onHookError`.
 * `next` tells `onComplete` what follows a failure (the settler decides the
 * same way once the chain has ended).
 * @internal
 */
export async function runMiddlewareChain(
  middleware: readonly JobMiddleware[],
  ctx: JobContext<unknown>,
  handler: () => Promise<unknown>,
  now: () => number,
  onHookError: (error: unknown) => void,
  next: (error: unknown) => AttemptNext = () => 'retry',
): Promise<ChainResult> {
  const started = now();
  let outcome: ChainResult;
  try {
    outcome = await runCore(middleware, ctx, handler);
  } catch (error) {
    outcome = { status: 'failed', error };
  }
  if (outcome.status === 'failed') outcome = await runOnError(middleware, ctx, outcome);
  const summary: AttemptOutcome =
    outcome.status === 'completed'
      ? outcome.ignored
        ? { status: 'completed', result: null, error: outcome.ignored.error, ignored: outcome.ignored.reason, duration: now() - started }
        : { status: 'completed', result: outcome.result, duration: now() - started }
      : outcome.status === 'failed'
        ? { status: 'failed', error: outcome.error, duration: now() - started, next: nextOf(next, outcome.error) }
        : { status: 'halted', error: outcome.reason, duration: now() - started, next: 'discard' };
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

/** The `onError` hooks in order: each may replace the error, or let it pass (`{ ignore }`), which ends the round. */
async function runOnError(middleware: readonly JobMiddleware[], ctx: JobContext<unknown>, failed: { status: 'failed'; error: unknown }): Promise<ChainResult> {
  let outcome: ChainResult = failed;
  for (const mw of middleware) {
    if (!mw.onError) continue;
    try {
      const verdict = await mw.onError(ctx, outcome.error);
      if (verdict instanceof Error) outcome = { status: 'failed', error: verdict };
      else if (isIgnore(verdict)) return { status: 'completed', result: null, ignored: { reason: verdict.ignore, error: outcome.error } };
    } catch (error) {
      outcome = { status: 'failed', error };
    }
  }
  return outcome;
}

/** What follows a failure; a decision that throws must not cost the attempt its `onComplete` hooks. */
function nextOf(next: (error: unknown) => AttemptNext, error: unknown): AttemptNext {
  try {
    return next(error);
  } catch {
    return 'retry';
  }
}

function isIgnore(value: unknown): value is MiddlewareIgnore {
  return typeof value === 'object' && value !== null && typeof (value as { ignore?: unknown }).ignore === 'string';
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
