import { Logger } from '@nestjs/common';
import { isConnectionError, StoreUnavailableError } from './postgres.errors.js';

const RETRY_FIRST_MS = 250;
const RETRY_MAX_MS = 5_000;

/**
 * Whether the store has reached PostgreSQL (and found or built its schema).
 *
 * States: `new` → `starting` → `ready`; with `waitForDatabase`, a start that
 * cannot reach the database moves to `waiting` and tries again in the
 * background (backoff 250 ms doubling to 5 s) until `ready`. `closed` is
 * final. Errors that are not about reaching the database (a migration that
 * fails, `migrate: false` with no tables) reject `start` instead: waiting
 * would not fix them.
 * @internal
 */
export class PostgresReadiness {
  private state: 'new' | 'starting' | 'waiting' | 'ready' | 'closed' = 'new';
  private starting: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private lastError: unknown;
  private readonly logger = new Logger('Scheduler');
  private reach: () => void = () => undefined;
  /** Resolves when the store first becomes `ready`; pending for ever if it never does. */
  readonly reached = new Promise<void>((resolve) => (this.reach = resolve));

  constructor(
    private readonly prepare: () => Promise<void>,
    private readonly waitForDatabase: boolean,
  ) {}

  get ready(): boolean {
    return this.state === 'ready';
  }

  /** Resolves when ready, or (waiting for the database) once the background retries are scheduled. */
  start(): Promise<void> {
    if (this.state === 'closed') return Promise.reject(new StoreUnavailableError('the store is closed'));
    return (this.starting ??= this.firstTry());
  }

  /** @throws StoreUnavailableError unless ready (its cause: why the last try failed). */
  check(): void {
    if (this.state === 'ready') return;
    if (this.state === 'closed') throw new StoreUnavailableError('the store is closed');
    throw new StoreUnavailableError(
      this.state === 'new' ? 'the store was not initialised' : 'PostgreSQL is not reachable yet',
      this.lastError === undefined ? undefined : { cause: this.lastError },
    );
  }

  /** Stops background retries; false when already closed. */
  close(): boolean {
    if (this.state === 'closed') return false;
    this.state = 'closed';
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    return true;
  }

  private becomeReady(): void {
    this.state = 'ready';
    this.reach();
  }

  /** A method, not a comparison, so TypeScript does not narrow the state across awaits. */
  private closed(): boolean {
    return this.state === 'closed';
  }

  private async firstTry(): Promise<void> {
    this.state = 'starting';
    try {
      await this.prepare();
      if (this.state === 'starting') this.becomeReady();
    } catch (error) {
      this.lastError = error;
      if (this.closed()) return;
      if (!this.waitForDatabase || !isConnectionError(error)) {
        this.state = 'new';
        this.starting = null;
        throw error;
      }
      this.state = 'waiting';
      this.logger.warn(`PostgreSQL is not reachable, the store will start once it is: ${describe(error)}`);
      this.retryIn(RETRY_FIRST_MS);
    }
  }

  private retryIn(delay: number): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      this.prepare().then(
        () => {
          if (this.state !== 'waiting') return;
          this.becomeReady();
          this.logger.log('PostgreSQL is reachable: the store is ready');
        },
        (error: unknown) => {
          // Reached, but refused for another reason (permissions, migrate: false
          // with no tables): worth a line, since waiting alone will not fix it.
          if (!isConnectionError(error) && describe(error) !== describe(this.lastError)) {
            this.logger.error(`the store cannot start: ${describe(error)}`);
          }
          this.lastError = error;
          if (this.state === 'waiting') this.retryIn(Math.min(delay * 2, RETRY_MAX_MS));
        },
      );
    }, delay);
    // Waiting for a database must not by itself keep the process alive.
    this.timer.unref();
  }
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  return error.message || (typeof code === 'string' ? code : error.name);
}
