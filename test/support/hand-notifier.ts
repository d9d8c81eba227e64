import type { Notification, Notifier } from '../../lib/notifier/notifier.js';

/**
 * A notifier the test speaks through: `send` delivers to the listeners at
 * once, in the caller's turn. `shared`: as a notifier between nodes (a node
 * then takes it that other nodes change what it reads).
 */
export class HandNotifier implements Notifier {
  constructor(readonly shared = false) {}
  private readonly listeners = new Set<(message: Notification) => void>();
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  async notify(): Promise<void> {}
  subscribe(listener: (message: Notification) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  send(message: Notification): void {
    for (const listener of this.listeners) listener(message);
  }
}
