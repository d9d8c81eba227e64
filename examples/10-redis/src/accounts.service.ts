import { Injectable } from '@nestjs/common';

export interface AccountSync {
  id: number;
  /** How many times it was synced. */
  syncs: number;
  /** When its last sync was asked for (the job's `scheduledAt`), or null. */
  lastSyncedAt: string | null;
}

/** The accounts to keep in sync with a partner's API (an app would keep them in its database). */
@Injectable()
export class AccountsService {
  private readonly accounts = new Map<number, AccountSync>([1, 2, 3].map((id) => [id, { id, syncs: 0, lastSyncedAt: null }]));

  ids(): number[] {
    return [...this.accounts.keys()];
  }

  has(id: number): boolean {
    return this.accounts.has(id);
  }

  list(): AccountSync[] {
    return [...this.accounts.values()];
  }

  recordSync(id: number, at: Date): void {
    const account = this.accounts.get(id);
    if (!account) return;
    account.syncs += 1;
    account.lastSyncedAt = at.toISOString();
  }
}
