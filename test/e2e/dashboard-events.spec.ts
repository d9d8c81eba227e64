import { Logger } from '@nestjs/common';
import { request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Worker, type JobContext, type JobWorker } from '../../lib/index.js';
import type { DashboardLiveBatch, DashboardLiveEvent, SchedulerDashboardOptions } from '../../lib/dashboard/index.js';
import { DashboardEventHub } from '../../lib/dashboard/dashboard-events.js';
import { SchedulerHost } from '../../lib/scheduler.host.js';
import { T0 } from '../support/app.js';
import { CSRF, startDashboard, type DashboardApp, type DashboardAppOptions } from '../support/dashboard-app.js';
import { TEST_STORES, type TestStore } from '../support/stores.js';
import { waitFor } from '../support/wait.js';

@Worker({ name: 'mail' })
class Mail implements JobWorker<{ to: string }> {
  perform(ctx: JobContext<{ to: string; fail?: boolean }>) {
    if (ctx.args.fail) throw new Error(`no mailbox ${ctx.args.to}`);
  }
}

/** An SSE client over a real socket: the batches and comments it received, whether the server ended the stream. */
interface SseClient {
  status: number;
  headers: IncomingMessage['headers'];
  batches: DashboardLiveBatch[];
  comments: string[];
  ended: boolean;
  /** The client goes away (closes its socket). */
  close(): void;
}

async function listening(d: DashboardApp): Promise<number> {
  const server = d.app.getHttpServer() as Server;
  if (!server.listening) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function connect(d: DashboardApp, path: string, headers: Record<string, string> = {}): Promise<SseClient> {
  const port = await listening(d);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      const client: SseClient = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        batches: [],
        comments: [],
        ended: false,
        close: () => req.destroy(),
      };
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          for (const line of block.split('\n')) {
            if (line.startsWith('data: ')) client.batches.push(JSON.parse(line.slice(6)) as DashboardLiveBatch);
            else if (line.startsWith(': ')) client.comments.push(line.slice(2));
          }
        }
      });
      res.on('end', () => (client.ended = true));
      res.on('error', () => undefined);
      resolve(client);
    });
    req.on('error', reject);
    req.end();
  });
}

const types = (client: SseClient): string[] => client.batches.flatMap((b) => b.events.map((e) => e.type));
const API = '/scheduler/api';

describe.each([
  ...TEST_STORES.filter((s) => s.kind === 'memory' || s.kind === 'postgres').map((s) => ({ ...s, platform: 'express' as const })),
  ...TEST_STORES.filter((s) => s.kind === 'memory').map((s) => ({ ...s, platform: 'fastify' as const })),
])('dashboard live events (SSE) on the $kind store, $platform', ({ kind, open, platform }) => {
  const apps: DashboardApp[] = [];
  let store: TestStore | undefined;
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
    await store?.drop();
    store = undefined;
    vi.restoreAllMocks();
  });

  const start = async (dashboard: SchedulerDashboardOptions = { allowUnauthenticated: true }, scheduler: DashboardAppOptions['scheduler'] = {}) => {
    store ??= await open(`dash_sse_${kind}`);
    // Without the history, which listens to the scheduler for the app's lifetime: what listens here is the streams' alone.
    const d = await startDashboard({
      platform,
      scheduler: { ...store.options, queues: false, ...scheduler },
      providers: [Mail],
      dashboard: { historySize: 0, ...dashboard },
    });
    apps.push(d);
    return d;
  };
  const hub = (d: DashboardApp) => d.app.get(DashboardEventHub);
  const bus = (d: DashboardApp) => d.app.get(SchedulerHost).ports.service.events;

  it('sends batches of lifecycle events, at most one a second, with a heartbeat; reads nothing from the store; leaves no listener behind', async () => {
    // The scheduler's loop off (the tester runs the jobs), so that nothing else reads the store while the clock moves.
    const d = await start(undefined, { enabled: false });
    const store = d.app.get(SchedulerHost).ports.service.store;
    const reads = (['get', 'list', 'count', 'queueCounts', 'getQueueStates', 'getScheduleStates', 'listRuns'] as const).map((method) =>
      vi.spyOn(store, method),
    );
    const TYPES = [
      'job:start',
      'job:stop',
      'job:exception',
      'job:discard',
      'job:cancel',
      'queue:pause',
      'queue:resume',
      'peer:election',
      'dashboard:action',
    ] as const;
    const listened = () => TYPES.filter((type) => bus(d).has(type));
    // Before any client, the dashboard listens to nothing (the scheduler itself may).
    const before = listened();
    expect(before).not.toContain('job:start');
    const a = await connect(d, `${API}/events`);
    const b = await connect(d, `${API}/events`);
    expect(a.status).toBe(200);
    expect(a.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(a.headers['x-robots-tag']).toBe('noindex, nofollow');
    await waitFor(() => a.comments.includes('connected') && b.comments.includes('connected'), 5_000, 'both streams open');
    expect(hub(d).size).toBe(2);
    expect(listened()).toEqual(TYPES);
    for (const read of reads) expect(read).not.toHaveBeenCalled();

    // A burst: one batch at once (the first), the rest a second later in one more.
    const job = await d.scheduler.enqueue('mail', { to: 'ada' });
    await d.tester.drainQueue();
    await d.clock.advance(0);
    await waitFor(() => a.batches.length === 1 && b.batches.length === 1, 5_000, 'the first batch');
    expect(a.batches[0]).toEqual(b.batches[0]);
    expect(a.batches[0]!.events.map((e) => e.type)).toEqual(['job:start', 'job:stop']);
    expect(a.batches[0]!.events[1]).toMatchObject({
      type: 'job:stop',
      at: T0.toISOString(),
      job: { id: job.id, name: 'mail', state: 'completed' },
      outcome: 'completed',
    });
    expect(a.batches[0]!.events[1]!.job).not.toHaveProperty('args');

    await d.http().post(`${API}/queues/default/pause`).set(CSRF).expect(200);
    await d.http().post(`${API}/queues/default/resume`).set(CSRF).expect(200);
    const failing = await d.scheduler.enqueue('mail', { to: 'bob', fail: true }, { maxRetries: 0 });
    await d.tester.drainQueue();
    const cancelled = await d.scheduler.enqueue('mail', { to: 'eve' });
    await d.scheduler.cancelJob(cancelled.id);
    await d.clock.advance(999);
    expect(a.batches).toHaveLength(1);
    await d.clock.advance(1);
    await waitFor(() => a.batches.length === 2 && b.batches.length === 2, 5_000, 'the second batch');
    expect(types(a).slice(2)).toEqual(['queue:pause', 'dashboard:action', 'queue:resume', 'dashboard:action', 'job:start', 'job:exception', 'job:cancel']);
    const events = a.batches[1]!.events;
    expect(events[0]).toEqual({ type: 'queue:pause', at: new Date(T0.getTime()).toISOString(), queue: 'default' });
    expect(events[1]!.action).toEqual({ action: 'queues.pause', target: 'default', actor: null, outcome: 'ok' });
    expect(events[5]).toMatchObject({ job: { id: failing.id }, error: { name: 'Error', message: 'no mailbox bob' }, kind: 'error', nextRunAt: null });
    expect(events[6]).toMatchObject({ job: { id: cancelled.id, state: 'cancelled' }, reason: 'cancelled' });

    // What the test itself did read the store; the streams read nothing while they wait.
    for (const read of reads) read.mockClear();
    expect(a.comments).not.toContain('heartbeat');
    await d.clock.advance('15s');
    await waitFor(() => a.comments.includes('heartbeat') && b.comments.includes('heartbeat'), 5_000, 'a heartbeat');
    expect(a.batches).toHaveLength(2);
    for (const read of reads) expect(read).not.toHaveBeenCalled();

    // Clients that leave are forgotten, and the last one takes the listeners with it.
    a.close();
    await waitFor(() => hub(d).size === 1, 5_000, 'one client left');
    expect(bus(d).has('job:start')).toBe(true);
    b.close();
    await waitFor(() => hub(d).size === 0, 5_000, 'no client left');
    expect(listened()).toEqual(before);
    expect(d.clock.pendingTimers).toBe(0);
  });

  it('is guarded like every route; app shutdown ends the streams', async () => {
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const d = await start({ access: (req) => (req.headers['x-role'] === 'viewer' ? 'read_only' : false) });
    const refused = await connect(d, `${API}/events`);
    expect(refused.status).toBe(403);
    expect(hub(d).size).toBe(0);
    const viewer = await connect(d, `${API}/events`, { 'x-role': 'viewer' });
    expect(viewer.status).toBe(200);
    await waitFor(() => hub(d).size === 1, 5_000, 'the stream open');
    apps.splice(apps.indexOf(d), 1);
    // Shutdown ends the stream itself: were it left to the connection's timeouts (an hour here), close would never return in time.
    const server = d.app.getHttpServer() as Server;
    server.keepAliveTimeout = server.requestTimeout = server.headersTimeout = 3_600_000;
    await d.close();
    await waitFor(() => viewer.ended, 5_000, 'the stream ended');
    expect(hub(d).size).toBe(0);
    expect(bus(d).has('job:start')).toBe(false);
  });

  if (kind === 'postgres' && platform === 'express') {
    it('sends leader changes: a follower elected when the leader stops', async () => {
      const leader = await start({ allowUnauthenticated: true }, { peer: { leaseTtl: '2s' } });
      await waitFor(() => leader.scheduler.isLeader(), 10_000, 'the first node to lead');
      const follower = await start({ allowUnauthenticated: true }, { peer: { leaseTtl: '2s' } });
      const client = await connect(follower, `${API}/events`);
      await waitFor(() => hub(follower).size === 1, 5_000, 'the stream open');
      apps.splice(apps.indexOf(leader), 1);
      await leader.close();
      await waitFor(() => follower.scheduler.isLeader(), 10_000, 'the follower to lead');
      const node = (await follower.scheduler.health()).node;
      await follower.clock.advance(0);
      await waitFor(() => types(client).includes('peer:election'), 5_000, 'the election event');
      const election = client.batches.flatMap((b) => b.events).find((e) => e.type === 'peer:election') as DashboardLiveEvent;
      expect(election.node).toBe(node);
      client.close();
    });
  }
});
