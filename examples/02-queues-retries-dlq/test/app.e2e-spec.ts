import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { SchedulerModule, SchedulerService } from 'nestjs-scheduler';
import { FakeClock, SchedulerTester, type JobRun } from 'nestjs-scheduler/testing';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppModule, schedulerModule, schedulerOptions } from '../src/app.module.js';
import { DeadLetterAlerts } from '../src/dead-letter.alerts.js';
import { MailRelay } from '../src/send-receipt.worker.js';

/** What a drain ran: name, outcome and attempt, sorted by name (the two queues run side by side). */
const summary = (runs: JobRun[]) => runs.map((r) => [r.job.name, r.outcome, r.job.attempt]).sort((a, b) => String(a[0]).localeCompare(String(b[0])));

describe('queues, retries and dead letters (e2e)', () => {
  let app: INestApplication;
  let clock: FakeClock;
  let tester: SchedulerTester;

  beforeEach(async () => {
    clock = new FakeClock(new Date('2026-03-02T09:00:00Z'));
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] })
      .overrideModule(schedulerModule)
      .useModule(SchedulerModule.forRoot({ ...schedulerOptions, clock }))
      .compile();
    app = moduleRef.createNestApplication();
    await app.init();
    tester = new SchedulerTester(app);
  });

  afterEach(() => app.close());

  it('retries the charge through its backoff; the receipt dies, is listed, retried and sent', async () => {
    const http = request(app.getHttpServer());
    const order = await http.post('/orders').send({ cents: 4200, email: 'ada@example.com' }).expect(202);
    const { orderId, jobs } = order.body as { orderId: string; jobs: { charge: string; receipt: string } };

    // 09:00:00: both first attempts fail (the gateway times out, the relay refuses).
    expect(summary(await tester.drainQueue())).toEqual([
      ['charge-card', 'retry', 1],
      ['send-receipt', 'retry', 1],
    ]);
    // 09:00:04: nothing is due yet.
    await clock.advance('4s');
    expect(await tester.drainQueue()).toEqual([]);
    // 09:00:05: the receipt's fixed 5 s backoff.
    await clock.advance('1s');
    expect(summary(await tester.drainQueue())).toEqual([['send-receipt', 'retry', 2]]);
    // 09:00:10: the charge's first backoff (10 s) and the receipt's third and last attempt.
    await clock.advance('5s');
    expect(summary(await tester.drainQueue())).toEqual([
      ['charge-card', 'retry', 2],
      ['send-receipt', 'dead', 3],
    ]);

    // The onDeadLetter provider is called on the next poll (every second).
    await clock.advance('1s');
    expect(app.get(DeadLetterAlerts).alerts).toEqual([
      `send-receipt ${jobs.receipt} died after 3 attempts: mail relay refused the connection (simulated outage)`,
    ]);
    const dead = await http.get('/dead-letters').expect(200);
    expect(dead.body).toEqual([
      {
        id: jobs.receipt,
        name: 'send-receipt',
        queue: 'emails',
        args: { orderId, email: 'ada@example.com' },
        attempts: 3,
        errorClass: 'retryable',
        lastError: 'mail relay refused the connection (simulated outage)',
        lastFailedAt: '2026-03-02T09:00:10.000Z',
      },
    ]);

    // 09:00:30: the charge's second backoff (20 s): the gateway answers.
    await clock.advance('19s');
    const charged = await tester.drainQueue();
    expect(summary(charged)).toEqual([['charge-card', 'completed', 3]]);
    expect(charged[0]!.result).toEqual({ chargeId: `ch_${orderId}_4200` });

    // The relay comes back; a dead letter stays dead until someone retries it.
    await http.post('/mail-relay/up').expect(200);
    await clock.advance('1m');
    expect(await tester.drainQueue()).toEqual([]);
    // Retried: due now, with a fresh set of 3 attempts (the 4th, 5th and 6th).
    const retried = await http.post(`/dead-letters/${jobs.receipt}/retry`).expect(201);
    expect(retried.body).toMatchObject({ id: jobs.receipt, runAt: '2026-03-02T09:01:30.000Z' });
    const sent = await tester.drainQueue();
    expect(summary(sent)).toEqual([['send-receipt', 'completed', 4]]);
    expect(sent[0]!.job.maxAttempts).toBe(6);
    expect(app.get(MailRelay).sent).toEqual([`ada@example.com: Your receipt for ${orderId}`]);
    expect((await http.get('/dead-letters').expect(200)).body).toEqual([]);
    await http.post(`/dead-letters/${jobs.receipt}/retry`).expect(404);

    tester.assertCompleted('charge-card', 1);
    tester.assertCompleted('send-receipt', 1);
    expect(tester.runs().length).toBe(7); // 3 charge attempts and 4 receipt attempts, nothing else
  });

  it('discards an order with nothing to charge, and shows each queue with its concurrency', async () => {
    const http = request(app.getHttpServer());
    const order = await http.post('/orders').send({ cents: 0, email: 'bob@example.com' }).expect(202);
    const runs = await tester.drainQueue('payments');
    expect(summary(runs)).toEqual([['charge-card', 'discarded', 1]]);
    expect(runs[0]!.error).toBe(`order ${order.body.orderId} has nothing to charge`);

    // A discarded job is final: no retry comes, and it is not a dead letter.
    await clock.advance('1h');
    expect(summary(await tester.drainQueue('payments'))).toEqual([]);
    expect(await app.get(SchedulerService).deadLetters.list({ queue: 'payments' })).toEqual([]);

    const queues = await http.get('/queues').expect(200);
    expect(queues.body).toEqual(
      expect.arrayContaining([
        { queue: 'payments', concurrency: 1, available: 0, running: 0, completed: 0, dead: 0, discarded: 1 },
        expect.objectContaining({ queue: 'emails', concurrency: 5 }),
      ]),
    );
  });
});
