import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { JobAbortedError, SchedulerModule, SchedulerService } from 'nestjs-scheduler';
import { FakeClock, SchedulerTester } from 'nestjs-scheduler/testing';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppModule, schedulerModule } from '../src/app.module.js';
import { PaymentWebhooks } from '../src/payment-webhooks.service.js';

describe('waiting for the payment webhook, with a 30 s timeout (e2e)', () => {
  let app: INestApplication;
  let clock: FakeClock;
  let tester: SchedulerTester;

  beforeEach(async () => {
    clock = new FakeClock(new Date('2026-06-01T08:00:00Z'));
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] })
      .overrideModule(schedulerModule)
      .useModule(SchedulerModule.forRoot({ clock }))
      .compile();
    app = moduleRef.createNestApplication();
    await app.init();
    tester = new SchedulerTester(app);
  });

  afterEach(() => app.close());

  it('completes when the webhook arrives in time', async () => {
    const http = request(app.getHttpServer());
    const { paymentId } = await http
      .post('/payments')
      .send({ cents: 1200 })
      .expect(202)
      .then((r) => r.body as { paymentId: string });
    await clock.advance('10s'); // the runner started both jobs; the confirmation waits
    expect(app.get(PaymentWebhooks).waiting).toEqual([paymentId]);

    await http.post(`/webhooks/payments/${paymentId}`).send({ status: 'succeeded' }).expect(200, { delivered: true });
    const runs = await tester.drainQueue();
    expect(runs.map((r) => [r.job.name, r.outcome, r.result]).sort()).toEqual([
      ['await-confirmation', 'completed', { paymentId, status: 'succeeded' }],
      ['charge', 'completed', { paymentId, charged: 1200 }],
    ]);
  });

  it('times out after 30 s of fake time when no webhook comes: dead, its wait forgotten', async () => {
    const http = request(app.getHttpServer());
    const { paymentId, jobs } = await http
      .post('/payments')
      .send({ cents: 1200 })
      .expect(202)
      .then((r) => r.body as { paymentId: string; jobs: { confirmation: string } });
    // drainQueue would wait for the hanging job: only the clock can end it.
    await clock.advance('29s');
    expect(app.get(PaymentWebhooks).waiting).toEqual([paymentId]);
    await clock.advance('1s');
    expect(app.get(PaymentWebhooks).waiting).toEqual([]);

    const runs = await tester.drainQueue();
    const timedOut = runs.find((r) => r.job.name === 'await-confirmation')!;
    expect(timedOut.outcome).toBe('dead'); // maxRetries: 0
    expect(timedOut.error).toBeInstanceOf(JobAbortedError);
    expect((timedOut.error as JobAbortedError).reason).toBe('timeout');
    const [job] = await app.get(SchedulerService).history('await-confirmation');
    expect(job).toMatchObject({ id: jobs.confirmation, state: 'dead', finishedAt: new Date('2026-06-01T08:00:30Z') });
    expect(job!.errors.map((e) => [e.kind, e.errorClass])).toEqual([['timeout', 'retryable']]);

    // The webhook comes too late: nobody waits for it any more.
    await http.post(`/webhooks/payments/${paymentId}`).send({ status: 'succeeded' }).expect(200, { delivered: false });
  });
});
