import type { ClaimKey } from '../store/job-store.js';

/**
 * Messages between nodes. They carry names and ids, never job arguments.
 * - `insert`: due work in a queue; `first`, when the sender knows it, is the
 *   first new job in claim order (a queue runner keeps its claim cursor
 *   when that job lies past it).
 * - `push`: jobs `ids` of `queue` were inserted already claimed (`claim`)
 *   for `node`, which offered idle slots (see `JobPush`): that node runs
 *   them; every other node ignores the notice.
 * - `cancel`: abort a running job wherever it runs. Only the id: the reason
 *   is stored with the job, and a notice must stay far below NOTIFY's
 *   8000-byte limit whatever the caller wrote.
 * - `queues`: a queue was paused, resumed or scaled: reload queue states.
 * - `schedules`: runtime schedules or pauses changed: reload them.
 * - `resync`: the notifier reconnected and may have missed messages: catch up.
 * - `leader`: the leader gave its lease up: followers try to take it now.
 * - `breakers`: a circuit breaker opened, closed or was registered: re-read them.
 * @publicApi
 */
export type Notification =
  | { type: 'insert'; queue: string; first?: ClaimKey }
  | { type: 'push'; node: string; queue: string; claim: string; ids: string[] }
  | { type: 'cancel'; jobId: string }
  | { type: 'queues' }
  | { type: 'schedules' }
  | { type: 'resync' }
  | { type: 'leader' }
  | { type: 'breakers' };

/**
 * Wakes idle queue runners when work arrives, so latency does not wait for the poll.
 * @publicApi
 */
export interface Notifier {
  /** True when messages reach other processes (then cluster messages such as `schedules` are worth sending). */
  readonly shared: boolean;
  start(): Promise<void>;
  stop(): Promise<void>;
  notify(message: Notification): Promise<void>;
  /** Returns a function that removes the listener. */
  subscribe(listener: (message: Notification) => void): () => void;
}

/**
 * In-process notifications, delivered on the next microtask.
 * @publicApi
 */
export class LocalNotifier implements Notifier {
  readonly shared = false;
  private readonly listeners = new Set<(message: Notification) => void>();

  async start(): Promise<void> {}

  async stop(): Promise<void> {
    this.listeners.clear();
  }

  async notify(message: Notification): Promise<void> {
    queueMicrotask(() => {
      for (const listener of this.listeners) listener(message);
    });
  }

  subscribe(listener: (message: Notification) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
