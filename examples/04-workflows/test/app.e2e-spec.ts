import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { SchedulerModule } from 'nestjs-scheduler';
import { FakeClock, SchedulerTester } from 'nestjs-scheduler/testing';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppModule, schedulerModule } from '../src/app.module.js';
import { OrderService } from '../src/order.service.js';

/** A run as GET /workflows/:runId returns it. */
interface RunBody {
  state: string;
  error: string | null;
  context: Record<string, unknown>;
  steps: Record<string, { state: string; attempts: number; skipReason: string | null; completedSeq: number | null; error: string | null }>;
}

/** Each step's [state, attempts, skipReason], in the workflow's order. */
const stepStates = (run: RunBody) => Object.fromEntries(Object.entries(run.steps).map(([name, step]) => [name, [step.state, step.attempts, step.skipReason]]));

describe('order workflow (e2e)', () => {
  let app: INestApplication;
  let tester: SchedulerTester;

  beforeEach(async () => {
    // enabled: false: no queue runner, so the steps run only when the test drains the queue (and a
    // started run can be seen before its first step). The clock never needs to move: no retry waits.
    const clock = new FakeClock(new Date('2026-01-02T10:00:00Z'));
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] })
      .overrideModule(schedulerModule)
      .useModule(SchedulerModule.forRoot({ clock, enabled: false }))
      .compile();
    app = moduleRef.createNestApplication();
    await app.init();
    tester = new SchedulerTester(app);
  });

  afterEach(() => app.close());

  const start = async (context: Record<string, unknown>): Promise<string> => {
    const { body } = await request(app.getHttpServer()).post('/workflows/order').send(context).expect(202);
    return (body as { runId: string }).runId;
  };
  const getRun = async (runId: string): Promise<RunBody> => (await request(app.getHttpServer()).get(`/workflows/${runId}`).expect(200)).body as RunBody;

  it('runs the steps in the order of the DAG, the gift wrap included, and merges their outputs', async () => {
    const runId = await start({ orderId: 'A-1', giftWrap: true });
    const started = await getRun(runId);
    expect(started.state).toBe('running');
    expect(Object.values(started.steps).map((step) => step.state)).toEqual(['pending', 'pending', 'pending', 'pending', 'pending']);

    await tester.drainQueue();
    const run = await getRun(runId);
    expect(run.state).toBe('completed');
    expect(stepStates(run)).toEqual({
      validate: ['completed', 1, null],
      reserveStock: ['completed', 1, null],
      chargeCard: ['completed', 1, null],
      giftWrap: ['completed', 1, null],
      ship: ['completed', 1, null],
    });
    expect(run.context).toEqual({
      orderId: 'A-1',
      giftWrap: true,
      total: 42,
      reservationId: 'res-A-1',
      chargeId: 'ch-A-1',
      wrapped: true,
      trackingNumber: 'trk-A-1',
    });
    // validate, then reserveStock, then chargeCard and giftWrap (side by side, either first), then ship.
    expect(run.steps.validate!.completedSeq).toBe(1);
    expect(run.steps.reserveStock!.completedSeq).toBe(2);
    expect([run.steps.chargeCard!.completedSeq, run.steps.giftWrap!.completedSeq].sort((a, b) => a! - b!)).toEqual([3, 4]);
    expect(run.steps.ship!.completedSeq).toBe(5);
    const calls = app.get(OrderService).calls;
    expect([calls[0], calls[1], calls[4]]).toEqual(['validate A-1', 'reserve res-A-1', 'ship trk-A-1']);
    expect(calls.slice(2, 4).sort()).toEqual(['charge ch-A-1 for 42', 'gift-wrap A-1']);
    expect(calls).toHaveLength(5);
  });

  it('skips the gift wrap by its condition; a failing step fails the run and rolls back the completed steps, newest first', async () => {
    const runId = await start({ orderId: 'B-2', country: 'AQ' });
    const runs = await tester.drainQueue();
    expect(runs.filter((r) => r.outcome === 'dead').map((r) => r.error)).toEqual([expect.objectContaining({ name: 'CarrierRefusedError' })]);

    const run = await getRun(runId);
    expect(run.state).toBe('failed');
    expect(run.error).toBe('step ship failed: no carrier delivers to Antarctica');
    expect(stepStates(run)).toEqual({
      validate: ['completed', 1, null], // no rollback: it stays completed
      reserveStock: ['rolled_back', 1, null],
      chargeCard: ['rolled_back', 1, null],
      giftWrap: ['skipped', 0, 'condition'],
      ship: ['failed', 1, null],
    });
    expect(run.steps.ship!.error).toBe('no carrier delivers to Antarctica');
    expect(app.get(OrderService).calls).toEqual(['validate B-2', 'reserve res-B-2', 'charge ch-B-2 for 42', 'refund ch-B-2', 'release res-B-2']);
  });

  it('draws a run as a Mermaid flowchart, each step classed by its state', async () => {
    const runId = await start({ orderId: 'C-3', country: 'AQ' });
    await tester.drainQueue();

    const res = await request(app.getHttpServer()).get(`/workflows/${runId}/mermaid`).expect(200);
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    // The styles (classDef lines) are the library's; the graph and the states are the run's.
    expect(res.text.split('\n').filter((line) => !line.trimStart().startsWith('classDef '))).toEqual([
      'flowchart TD',
      '  validate["validate"]',
      '  reserveStock["reserveStock ↺ releaseStock"]',
      '  chargeCard["chargeCard ↺ refundCard"]',
      '  giftWrap["giftWrap (if)"]',
      '  ship["ship"]',
      '  validate --> reserveStock',
      '  reserveStock --> chargeCard',
      '  reserveStock --> giftWrap',
      '  chargeCard --> ship',
      '  giftWrap --> ship',
      '  class validate completed',
      '  class giftWrap skipped',
      '  class ship failed',
      '  class reserveStock,chargeCard rolled_back',
    ]);
  });

  it('answers 404 for an unknown run or workflow', async () => {
    const server = app.getHttpServer();
    const run = await request(server).get('/workflows/no-such-run').expect(404);
    expect(run.body).toEqual({ statusCode: 404, message: 'workflow run "no-such-run" not found', error: 'Not Found' });
    await request(server).post('/workflows/no-such-workflow').send({}).expect(404);
  });

  it('answers 400 for a context that is not a JSON object', async () => {
    const res = await request(app.getHttpServer()).post('/workflows/order').send([1, 2]).expect(400);
    expect((res.body as { message: string }).message).toMatch(/context/);
  });
});
