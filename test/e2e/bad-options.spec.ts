import { Injectable, Logger } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { afterEach, expect, it, vi } from 'vitest';
import { Scheduled, SchedulerError, SchedulerModule, SchedulerService } from '../../lib/index.js';
import { FakeClock } from '../../lib/testing/index.js';
import { BAD_VALUES, labelOf } from '../support/bad-values.js';

@Injectable()
class Jobs {
  @Scheduled({ name: 'work' })
  work() {}
}

const PATHS = [
  'store',
  'queues',
  'queues.default',
  'queues.default.concurrency',
  'queues.default.prefetch',
  'queues.default.shutdownGracePeriod',
  'queues.default.preemption',
  'peer',
  'peer.leaseTtl',
  'pollInterval',
  'shutdownGracePeriod',
  'misfireThreshold',
  'middleware',
  'clock',
  'enabled',
  'lifeline',
  'lifeline.heartbeat',
  'lifeline.rescueAfter',
  'lifeline.interval',
  'retention',
  'retention.completed',
  'retention.dead',
  'retention.interval',
  'deadLetters',
  'deadLetters.maxAge',
  'deadLetters.maxEntries',
  'deadLetters.onDeadLetter',
  'rateLimits',
  'rateLimits.global',
  'rateLimits.queues',
  'rateLimits.jobs',
  'metrics',
  'metrics.enabled',
  'metrics.buckets',
  'metrics.attributes',
  'metrics.semconv',
  'nodeName',
  'circuitBreakers',
  'circuitBreakers.payments',
  'defaults',
  'defaults.timeout',
  'defaults.maxRetries',
  'defaults.backoff',
  'errors',
  'errors.classify',
];

/** `{ a: { b: value } }` for `a.b`. */
const at = (path: string, value: unknown): Record<string, unknown> => {
  const [head, ...rest] = path.split('.');
  return { [head!]: rest.length === 0 ? value : at(rest.join('.'), value) };
};

afterEach(() => vi.restoreAllMocks());

/**
 * Every module option, handed a bad value one at a time, either works or
 * fails bootstrap with a typed error (SchedulerConfigError) naming it:
 * never a TypeError at bootstrap, nor one left for the first timer or
 * claim (a clock that is not one, a node name no store can keep).
 */
it('every module option answers a bad value with a typed error at bootstrap, or works', async () => {
  vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  const raw: string[] = [];
  for (const path of PATHS) {
    for (const value of BAD_VALUES) {
      let app: TestingModule | undefined;
      try {
        const options = { clock: new FakeClock(new Date('2026-01-01T00:00:00Z')), ...at(path, value) };
        app = await Test.createTestingModule({ imports: [SchedulerModule.forRoot(options as never)], providers: [Jobs] }).compile();
        await app.init();
        // A started app takes a job (a typed refusal is fine: an option may leave no queue for it).
        await app.get(SchedulerService).enqueue('work', {});
      } catch (error) {
        if (!(error instanceof SchedulerError)) raw.push(`${path} = ${labelOf(value)}: ${(error as Error)?.constructor?.name}: ${(error as Error)?.message}`);
      } finally {
        await app?.close().catch((error: unknown) => raw.push(`${path} = ${labelOf(value)}: closing failed: ${(error as Error)?.message}`));
      }
    }
  }
  expect(raw).toEqual([]);
}, 60_000);
