import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { Notification, Notifier } from '../notifier/notifier.js';
import { parseNotification } from '../notifier/notification.parse.js';
import { safeErrorText } from '../execution/job-errors.js';
import { closeRedis, type RedisConnection } from './redis.client.js';

/**
 * The channel of a store's notifications: `{prefix}:events`, and
 * `{prefix}:events:db<n>` on a database other than 0, since pub/sub is
 * server-wide (a message published from one database is heard in every
 * other), while keys are not: two deployments with the same prefix in two
 * databases must not take each other's cancels and wake-ups.
 * @publicApi
 */
export function notificationChannel(redis: RedisConnection): string {
  const db = Number(redis.client.options.db ?? 0);
  return db === 0 ? `${redis.base}events` : `${redis.base}events:db${db}`;
}

/** How often the subscribed connection is pinged (more often when the socket timeout is shorter). */
const PING_EVERY_MS = 10_000;

/**
 * Messages among the nodes of a Redis store: PUBLISH on the store's
 * connection, SUBSCRIBE on a second one (a subscribed connection can do
 * nothing else). Pub/sub is fire-and-forget: a message sent while a node is
 * disconnected is lost, so a node that reconnects tells its own listeners
 * `resync` (they catch up), and queue runners poll as the fallback anyway.
 * @publicApi
 */
export class RedisNotifier implements Notifier {
  readonly shared = true;
  private readonly logger = new Logger('Scheduler');
  private readonly listeners = new Set<(message: Notification) => void>();
  private subscriber: RedisConnection | null = null;
  private pinger: NodeJS.Timeout | null = null;

  constructor(
    private readonly redis: RedisConnection,
    /** The channel every node of the store uses. */
    readonly channel: string,
  ) {}

  async start(): Promise<void> {
    if (this.subscriber) return;
    const subscriber = await this.redis.fork();
    this.subscriber = subscriber;
    const client: Redis = subscriber.client;
    client.on('message', (channel: string, payload: string) => {
      if (channel !== this.channel) return;
      const message = parseNotification(payload);
      if (message) this.deliver(message);
    });
    client.on('error', (error: Error) => this.logger.warn(`the Redis notification connection failed (polling goes on): ${error.message}`));
    // Subscribed again by us after each (re)connection, not by ioredis, which announces the connection
    // `ready` before its subscription is back: `resync` must follow a live subscription, or a message
    // published in between is lost without a catch-up. A server never reached yet (waitForDatabase) is
    // subscribed to at its first connection.
    client.options.autoResubscribe = false;
    client.on('ready', () => {
      client.subscribe(this.channel).then(
        () => this.deliver({ type: 'resync' }),
        (error: unknown) => this.logger.warn(`subscribing to notifications failed (polling goes on): ${(error as Error)?.message ?? String(error)}`),
      );
    });
    if (!subscriber.waiting()) await client.subscribe(this.channel);
    // A subscribed connection only listens, so a half-open one would stay silent for ever: a PING now and
    // then gives the socket timeout an answer to wait for, and a silent socket is replaced (then `resync`).
    const every = Math.min(PING_EVERY_MS, subscriber.timeouts.socketTimeout);
    this.pinger = setInterval(() => void client.ping().catch(() => {}), every).unref();
  }

  async stop(): Promise<void> {
    const subscriber = this.subscriber;
    this.subscriber = null;
    if (this.pinger) clearInterval(this.pinger);
    this.pinger = null;
    this.listeners.clear();
    if (subscriber) await closeRedis(subscriber);
  }

  /**
   * Publishes a message to every node. One the server does not take (the
   * connection lost, its retries spent) is logged, not thrown, as on
   * PostgreSQL: it only wakes the others sooner than their polling would,
   * and its caller's own write has landed already (an enqueue that rejected
   * here would be retried, its job inserted twice). This process's listeners,
   * which hear it through the subscribed connection, get it from here then.
   */
  async notify(message: Notification): Promise<void> {
    try {
      await this.redis.client.publish(this.channel, JSON.stringify(message));
    } catch (error) {
      this.logger.warn(`sending a "${message.type}" notification failed (polling will catch up): ${safeErrorText(error)}`);
      this.deliver(message);
    }
  }

  subscribe(listener: (message: Notification) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private deliver(message: Notification): void {
    for (const listener of this.listeners) {
      try {
        listener(message);
      } catch (error) {
        this.logger.error(`a notification listener threw: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
}
