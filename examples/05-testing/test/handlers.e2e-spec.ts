import type { TestingModule } from '@nestjs/testing';
import { Test } from '@nestjs/testing';
import { SchedulerModule, SchedulerService } from 'nestjs-scheduler';
import { FakeClock, SchedulerTester } from 'nestjs-scheduler/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PaymentWebhooks } from '../src/payment-webhooks.service.js';
import { PaymentsJobs } from '../src/payments.jobs.js';

/**
 * Unit-style: the handlers' provider alone, no HTTP, and `enabled: false`, so
 * nothing plans or runs by itself: the test runs each job when it wants.
 */
describe('PaymentsJobs handlers (scheduler disabled)', () => {
  let moduleRef: TestingModule;
  let clock: FakeClock;
  let tester: SchedulerTester;

  beforeEach(async () => {
    clock = new FakeClock(new Date('2026-06-01T08:00:00Z'));
    moduleRef = await Test.createTestingModule({
      imports: [SchedulerModule.forRoot({ enabled: false, clock })],
      providers: [PaymentsJobs, PaymentWebhooks],
    }).compile();
    await moduleRef.init();
    tester = new SchedulerTester(moduleRef);
  });

  afterEach(() => moduleRef.close());

  it('runJob: charges, and discards a payment with nothing to charge', async () => {
    const charged = await tester.runJob('charge', { paymentId: 'pay_1', cents: 500 });
    expect(charged).toMatchObject({ outcome: 'completed', result: { paymentId: 'pay_1', charged: 500 } });
    expect(charged.job.attempt).toBe(1);

    const zero = await tester.runJob('charge', { paymentId: 'pay_2', cents: 0 });
    expect(zero.outcome).toBe('discarded');
    expect(zero.error).toBe('payment pay_2 has nothing to charge');

    tester.assertCompleted('charge', 1);
    expect(tester.runs('charge').map((r) => r.outcome)).toEqual(['completed', 'discarded']);
  });

  it('runJob runs a scheduled handler now, with this instant as its scheduledAt', async () => {
    const run = await tester.runJob('nightly-settlement');
    expect(run.outcome).toBe('completed');
    expect(run.result).toEqual({ day: '2026-06-01' });
  });

  it('nothing runs by itself: no tick, no enqueued job, until the test drains', async () => {
    const scheduler = moduleRef.get(SchedulerService);
    await scheduler.enqueue('charge', { paymentId: 'pay_3', cents: 100 });
    await scheduler.enqueue('charge', { paymentId: 'pay_4', cents: 200 });
    await clock.advance('2d'); // two nights at 02:30 Paris go by
    tester.assertNotRun('nightly-settlement');
    tester.assertNotRun('charge');

    const runs = await tester.drainQueue();
    expect(runs.map((r) => [r.outcome, r.result])).toEqual([
      ['completed', { paymentId: 'pay_3', charged: 100 }],
      ['completed', { paymentId: 'pay_4', charged: 200 }],
    ]);
    tester.assertCompleted('charge', 2);
    tester.assertNotRun('nightly-settlement'); // disabled: ticks are never planned
  });
});
