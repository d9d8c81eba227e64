import { Injectable, type LoggerService } from '@nestjs/common';
import { DiscardJobError, Scheduled, type JobContext, type JobLogLine, type JsonObject } from '../../lib/index.js';

/** A LoggerService that keeps what it was given. */
export class CapturedLogger implements LoggerService {
  entries: { level: string; message: unknown }[] = [];
  log = (message: unknown) => void this.entries.push({ level: 'log', message });
  warn = (message: unknown) => void this.entries.push({ level: 'warn', message });
  error = (message: unknown) => void this.entries.push({ level: 'error', message });
  debug = (message: unknown) => void this.entries.push({ level: 'debug', message });
  verbose = (message: unknown) => void this.entries.push({ level: 'verbose', message });
  lines(): JobLogLine[] {
    return this.entries.filter((e) => typeof e.message === 'object').map((e) => e.message as JobLogLine);
  }
}

/** `failUntil`: attempts up to this one throw. */
export type Args = JsonObject & { failUntil?: number; discard?: boolean };

/** `send` fails as its arguments say; `slow` waits for its timeout. */
@Injectable()
export class Jobs {
  @Scheduled({ name: 'send', backoff: 0, maxRetries: 2 })
  send(ctx: JobContext<Args>) {
    if (ctx.args.discard) throw new DiscardJobError('not worth it');
    if ((ctx.args.failUntil ?? 0) >= ctx.attempt) throw new TypeError(`attempt ${ctx.attempt} broke`);
    return 'sent';
  }
  @Scheduled({ name: 'slow', timeout: '1s', backoff: 0, maxRetries: 1 })
  slow(ctx: JobContext) {
    return new Promise((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error)));
  }
}
