import type { ServerResponse } from 'node:http';
import { Controller, Injectable, Res, Sse, UseGuards, type BeforeApplicationShutdown, type MessageEvent, type OnModuleDestroy } from '@nestjs/common';
import { Observable, type Subscriber } from 'rxjs';
import type { TimerHandle } from '../clock/clock.js';
import { SchedulerHost } from '../scheduler.host.js';
import type { DashboardActionEvent, JobEvent, SchedulerEventMap } from '../telemetry/scheduler.events.js';
import { DashboardAccessGuard } from './dashboard-access.guard.js';
import { jobSummary, type DashboardJobSummary } from './dashboard-job.views.js';

/** The scheduler events `GET api/events` sends. @publicApi */
export type DashboardLiveEventType =
  | 'job:start'
  | 'job:stop'
  | 'job:exception'
  | 'job:discard'
  | 'job:cancel'
  | 'queue:pause'
  | 'queue:resume'
  | 'peer:election'
  | 'peer:resignation'
  | 'dashboard:action';

/**
 * One event of a batch: its type, when this node saw it (the scheduler's
 * clock), and what the UI shows of it (a job without its arguments).
 * @publicApi
 */
export interface DashboardLiveEvent {
  type: DashboardLiveEventType;
  at: string;
  /** `job:*`: the job (no arguments, result or meta). */
  job?: DashboardJobSummary;
  /** `job:*`: the attempt's outcome, and its duration in ms. */
  outcome?: string;
  duration?: number;
  /** `job:exception`: the error's name and message, its kind, and when it runs again (`null`: dead). */
  error?: { name: string; message: string };
  kind?: string;
  nextRunAt?: string | null;
  /** `job:discard`, `job:cancel`: why. */
  reason?: string;
  /** `queue:*`: the queue. */
  queue?: string;
  /** `peer:*`: the node that took or gave up leadership. */
  node?: string;
  /** `dashboard:action`: the audit event as emitted. */
  action?: DashboardActionEvent;
}

/** The data of one SSE message: the events since the previous one, oldest first; `dropped` counts those left out past the batch limit. @publicApi */
export interface DashboardLiveBatch {
  events: DashboardLiveEvent[];
  dropped: number;
}

/** At most one message per connection per this many ms. @internal */
export const LIVE_BATCH_MS = 1_000;
/** A comment every this many ms keeps proxies from closing an idle stream. @internal */
export const LIVE_HEARTBEAT_MS = 15_000;
/** The most events one batch holds; the rest are counted as dropped. @internal */
export const LIVE_BATCH_LIMIT = 500;

const TYPES: readonly DashboardLiveEventType[] = [
  'job:start',
  'job:stop',
  'job:exception',
  'job:discard',
  'job:cancel',
  'queue:pause',
  'queue:resume',
  'peer:election',
  'peer:resignation',
  'dashboard:action',
];

interface Connection {
  subscriber: Subscriber<MessageEvent>;
  /** The sequence number of the last event before it connected. */
  from: number;
  /** The platform's response (Node's), to know when it has finished at shutdown. */
  response: NodeResponse | null;
}

/** What the hub needs of Node's `ServerResponse` (an `OutgoingMessage`, not a `Writable`). */
type NodeResponse = Pick<ServerResponse, 'once' | 'off' | 'writableFinished' | 'destroyed'>;

/** Node's response (a `ServerResponse`) under the platform's: Fastify's reply wraps it as `raw`. */
function nodeResponse(res: unknown): NodeResponse | null {
  const raw = ((res as { raw?: unknown } | null)?.raw ?? res) as Partial<NodeResponse> | null;
  return raw && typeof raw.once === 'function' && typeof raw.off === 'function' && typeof raw.writableFinished === 'boolean' ? (raw as NodeResponse) : null;
}

/** Resolves once a response has finished or closed, or after `ms`. */
function finished(response: NodeResponse, ms: number): Promise<void> {
  if (response.writableFinished || response.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    timer.unref();
    function done(): void {
      clearTimeout(timer);
      response.off('finish', done);
      response.off('close', done);
      resolve();
    }
    response.once('finish', done);
    response.once('close', done);
  });
}

/**
 * The live events of `GET api/events`, shared by every connection: one set
 * of listeners on the scheduler's events while at least one client is
 * connected (none otherwise), one batch a second at most, sent to every
 * connection, and one heartbeat timer. Reads nothing from the store. Timers
 * run on the scheduler's clock. On shutdown every stream is completed, so
 * the HTTP server can close.
 * @internal
 */
@Injectable()
export class DashboardEventHub implements OnModuleDestroy, BeforeApplicationShutdown {
  private readonly connections = new Set<Connection>();
  private pending: { seq: number; event: DashboardLiveEvent }[] = [];
  private dropped = 0;
  private seq = 0;
  private stops: (() => void)[] = [];
  private flushTimer: TimerHandle | null = null;
  private heartbeatTimer: TimerHandle | null = null;
  private lastFlush = -Infinity;
  private closed = false;
  /** The responses of the streams ended at shutdown. */
  private ending: NodeResponse[] = [];

  constructor(private readonly host: SchedulerHost) {}

  /** Connections open now. */
  get size(): number {
    return this.connections.size;
  }

  /** A stream of batches for one client (`res`: the platform's response); completes at shutdown. */
  stream(res?: unknown): Observable<MessageEvent> {
    return new Observable<MessageEvent>((subscriber) => {
      if (this.closed) return subscriber.complete();
      const connection: Connection = { subscriber, from: this.seq, response: nodeResponse(res) };
      if (this.connections.size === 0) this.attach();
      this.connections.add(connection);
      // Sent at once, so that the client has the headers before the first batch.
      subscriber.next({ comment: 'connected' });
      return () => {
        this.connections.delete(connection);
        if (this.connections.size === 0) this.detach();
      };
    });
  }

  onModuleDestroy(): void {
    this.closed = true;
    this.ending = [...this.connections].flatMap(({ response }) => (response ? [response] : []));
    // Completing one runs its teardown, which deletes it from the set: safe while iterating a Set.
    for (const { subscriber } of this.connections) subscriber.complete();
    this.connections.clear();
    this.detach();
  }

  /**
   * Waits (a second at most) for the responses of the streams ended above
   * to finish before the HTTP server closes: a connection still finishing
   * its response is not idle, and the server would wait for it until its
   * keep-alive timeout (5 s on Express).
   */
  async beforeApplicationShutdown(): Promise<void> {
    const ending = this.ending.splice(0);
    await Promise.all(ending.map((response) => finished(response, 1_000)));
  }

  private get clock() {
    return this.host.ports.service.clock;
  }

  private attach(): void {
    const events = this.host.ports.service.events;
    this.stops = TYPES.map((type) => events.on(type, (payload) => this.push(live(type, payload, this.clock.now()))));
    this.armHeartbeat();
  }

  /** Stops listening and drops what was pending: nothing is left behind once the last client has gone. */
  private detach(): void {
    for (const stop of this.stops.splice(0)) stop();
    if (this.flushTimer !== null) this.clock.clearTimeout(this.flushTimer);
    if (this.heartbeatTimer !== null) this.clock.clearTimeout(this.heartbeatTimer);
    this.flushTimer = this.heartbeatTimer = null;
    this.pending = [];
    this.dropped = 0;
  }

  private push(event: DashboardLiveEvent): void {
    this.seq++;
    if (this.pending.length >= LIVE_BATCH_LIMIT) this.dropped++;
    else this.pending.push({ seq: this.seq, event });
    if (this.flushTimer !== null) return;
    const now = this.clock.now();
    this.flushTimer = this.clock.setTimeout(() => this.flush(), Math.max(0, this.lastFlush + LIVE_BATCH_MS - now));
  }

  private flush(): void {
    this.flushTimer = null;
    this.lastFlush = this.clock.now();
    const pending = this.pending;
    const dropped = this.dropped;
    this.pending = [];
    this.dropped = 0;
    for (const { subscriber, from } of this.connections) {
      const events = pending.filter((entry) => entry.seq > from).map((entry) => entry.event);
      if (events.length > 0 || dropped > 0) subscriber.next({ data: { events, dropped } satisfies DashboardLiveBatch });
    }
  }

  private armHeartbeat(): void {
    this.heartbeatTimer = this.clock.setTimeout(() => {
      for (const { subscriber } of this.connections) subscriber.next({ comment: 'heartbeat' });
      this.armHeartbeat();
    }, LIVE_HEARTBEAT_MS);
  }
}

/** What a batch shows of one scheduler event. */
function live<E extends DashboardLiveEventType>(type: E, payload: SchedulerEventMap[E], now: number): DashboardLiveEvent {
  const event: DashboardLiveEvent = { type, at: new Date(now).toISOString() };
  if (type.startsWith('job:')) {
    const p = payload as JobEvent & { error?: unknown; kind?: string; nextRunAt?: Date | null; reason?: string };
    Object.assign(event, { job: jobSummary(p.job), outcome: p.outcome, duration: p.duration });
    if (type === 'job:exception') {
      const error = p.error as { name?: unknown; message?: unknown } | null;
      event.error = { name: String(error?.name ?? 'Error'), message: String(error?.message ?? error) };
      event.kind = p.kind;
      event.nextRunAt = p.nextRunAt ? p.nextRunAt.toISOString() : null;
    }
    if (p.reason !== undefined) event.reason = p.reason;
  } else if (type.startsWith('queue:')) {
    event.queue = (payload as SchedulerEventMap['queue:pause']).queue;
  } else if (type.startsWith('peer:')) {
    event.node = (payload as SchedulerEventMap['peer:election']).node;
  } else {
    event.action = { ...(payload as DashboardActionEvent) };
  }
  return event;
}

/**
 * `GET api/events`: Server-Sent Events, batches of scheduler events (see
 * {@link DashboardEventHub}). Guarded like every route; no query timeout.
 * @internal
 */
@Controller()
@UseGuards(DashboardAccessGuard)
export class DashboardEventsController {
  constructor(private readonly hub: DashboardEventHub) {}

  @Sse('api/events')
  events(@Res({ passthrough: true }) res: unknown): Observable<MessageEvent> {
    return this.hub.stream(res);
  }
}
