import { afterEach, describe, expect, it } from 'vitest';
import { Worker, type JobWorker } from '../../lib/index.js';
import type { DashboardNode, DashboardNodeList } from '../../lib/dashboard/index.js';
import { PACKAGE_VERSION } from '../../lib/scheduler.constants.js';
import { SchedulerHost } from '../../lib/scheduler.host.js';
import { FakeClock } from '../../lib/testing/index.js';
import { T0 } from '../support/app.js';
import { startDashboard, type DashboardApp } from '../support/dashboard-app.js';
import { TEST_STORES, type TestStore } from '../support/stores.js';

@Worker({ name: 'mail' })
class Mail implements JobWorker<{ to: string }> {
  perform() {}
}

const API = '/scheduler/api';

describe.each(TEST_STORES)('GET api/nodes on the $kind store', ({ kind, open }) => {
  const apps: DashboardApp[] = [];
  let store: TestStore | undefined;
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
    await store?.drop();
    store = undefined;
  });

  /** A node on the shared store and clock, its queues paused so that nothing it claims moves under the test. */
  const node = async (name: string, clock: FakeClock, queues: false | Record<string, number>) => {
    const app = await startDashboard({
      scheduler: { ...store!.options, nodeName: name, queues, lifeline: { heartbeat: '10s', rescueAfter: '45s' } },
      providers: [Mail],
      clock,
    });
    apps.push(app);
    return app;
  };
  const nodes = async (app: DashboardApp): Promise<DashboardNode[]> => ((await app.http().get(`${API}/nodes`).expect(200)).body as DashboardNodeList).nodes;

  it('lists every live node of the store to each of them, with the leader, its beat, version and running jobs by queue', async () => {
    store = await open(`dnodes_${kind}`);
    const clock = new FakeClock(T0);
    const web = await node('web-1', clock, false);
    const worker = await node('worker-2', clock, { default: 4, mail: 2 });
    await worker.scheduler.pauseQueue('default');
    // The first beats happen when each loop first runs.
    await web.tester.drainQueue('none');
    await worker.tester.drainQueue('none');

    // One job running on worker-2, as its runner would have claimed it.
    await web.scheduler.enqueue('mail', {});
    const [running] = await worker.app.get(SchedulerHost).ports.service.store.claim({ queue: 'default', limit: 1, node: 'worker-2', now: T0 });
    expect(running).toBeDefined();

    const leader = await web.scheduler.leaderNode();
    expect(leader === 'web-1' || leader === 'worker-2').toBe(true);
    const seenByWeb = await nodes(web);
    expect(seenByWeb).toEqual([
      {
        id: 'web-1',
        leader: leader === 'web-1',
        self: true,
        heartbeatAt: T0.toISOString(),
        startedAt: T0.toISOString(),
        running: {},
        concurrency: {},
        version: PACKAGE_VERSION,
      },
      {
        id: 'worker-2',
        leader: leader === 'worker-2',
        self: false,
        heartbeatAt: T0.toISOString(),
        startedAt: T0.toISOString(),
        running: { default: 1, mail: 0 },
        concurrency: { default: 4, mail: 2 },
        version: PACKAGE_VERSION,
      },
    ]);
    const seenByWorker = await nodes(worker);
    expect(seenByWorker.map((n) => [n.id, n.self])).toEqual([
      ['web-1', false],
      ['worker-2', true],
    ]);

    // A node that stops cleanly leaves the list at once.
    await worker.close();
    apps.splice(apps.indexOf(worker), 1);
    expect((await nodes(web)).map((n) => n.id)).toEqual(['web-1']);
  });

  it('drops a node whose beats stopped once rescueAfter has passed, and lists the one that goes on beating', async () => {
    store = await open(`dnodes_ttl_${kind}`);
    const webClock = new FakeClock(T0);
    const web = await node('web-1', webClock, false);
    await web.tester.drainQueue('none');
    // A second node on a clock of its own, left at T0: it beats once, then never again (as a frozen process would).
    const frozen = await node('frozen-3', new FakeClock(T0), false);
    await frozen.tester.drainQueue('none');
    expect((await nodes(web)).map((n) => n.id)).toEqual(['frozen-3', 'web-1']);

    await webClock.advance('40s');
    await web.tester.drainQueue('none');
    const listed = await nodes(web);
    expect(listed.map((n) => [n.id, n.heartbeatAt])).toEqual([
      ['frozen-3', T0.toISOString()],
      ['web-1', new Date(T0.getTime() + 40_000).toISOString()],
    ]);
    await webClock.advance('10s');
    await web.tester.drainQueue('none');
    expect((await nodes(web)).map((n) => n.id)).toEqual(['web-1']);
  });
});
