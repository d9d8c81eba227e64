import { Injectable } from '@nestjs/common';

export type PaymentStatus = 'succeeded' | 'failed';

/**
 * Waits for the payment provider's webhook. A job awaits `waitFor(id, signal)`;
 * the webhook controller calls `deliver(id, status)`. An aborted signal (the
 * job's timeout, a cancel, a shutdown) stops the wait and forgets the waiter.
 */
@Injectable()
export class PaymentWebhooks {
  private readonly waiters = new Map<string, (status: PaymentStatus) => void>();

  waitFor(paymentId: string, signal: AbortSignal): Promise<PaymentStatus> {
    return new Promise((resolve, reject) => {
      const stop = () => {
        this.waiters.delete(paymentId);
        reject(signal.reason as Error);
      };
      if (signal.aborted) return stop();
      signal.addEventListener('abort', stop, { once: true });
      this.waiters.set(paymentId, (status) => {
        signal.removeEventListener('abort', stop);
        this.waiters.delete(paymentId);
        resolve(status);
      });
    });
  }

  /** Whether a job was waiting for this payment. */
  deliver(paymentId: string, status: PaymentStatus): boolean {
    const waiter = this.waiters.get(paymentId);
    waiter?.(status);
    return waiter !== undefined;
  }

  /** Payments with a job waiting for them. */
  get waiting(): string[] {
    return [...this.waiters.keys()];
  }
}
