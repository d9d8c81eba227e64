import { Injectable, Logger, type LoggerService } from '@nestjs/common';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { CheckInMiddleware, Scheduled, SchedulerConfigError, type CheckIn, type JobContext, type JsonObject } from '../../lib/index.js';
import { bootstrapError, startApp, type TestApp } from '../support/app.js';

@Injectable()
class Jobs {
  @Scheduled({ name: 'backup', backoff: 0, maxRetries: 1 })
  backup(ctx: JobContext<JsonObject>) {
    if (ctx.args.fail === true) throw new Error(`disk full (attempt ${ctx.attempt})`);
  }
}

/** A monitor on a real local port: records each request; `/slow/…` never answers, `/broken/…` answers 500. */
class Monitor {
  requests: string[] = [];
  private readonly hung: ServerResponse[] = [];
  private server!: Server;
  base = '';

  async start(): Promise<void> {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        this.requests.push(`${req.method} ${req.url}${body ? ` ${body}` : ''}`);
        if (req.url!.startsWith('/slow/')) return void this.hung.push(res);
        res.statusCode = req.url!.startsWith('/broken/') ? 500 : 200;
        res.end('OK');
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const res of this.hung) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

class Warnings implements LoggerService {
  lines: string[] = [];
  log = () => undefined;
  error = () => undefined;
  warn = (message: unknown) => void this.lines.push(String(message));
}

describe('CheckInMiddleware', () => {
  const monitor = new Monitor();
  let t: TestApp | undefined;
  beforeAll(() => monitor.start());
  afterAll(() => monitor.stop());
  beforeEach(() => {
    monitor.requests = [];
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });
  afterEach(async () => {
    await t?.close();
    t = undefined;
    vi.restoreAllMocks();
  });

  const run = async (args: JsonObject) => {
    await t!.scheduler.enqueue('backup', args);
    await t!.tester.drainQueue();
    return t!.tester.runs('backup').map((r) => r.outcome);
  };

  it('pings <url>/start, then <url> on success or <url>/fail on each failed attempt (healthchecks.io)', async () => {
    t = await startApp([Jobs], { middleware: [CheckInMiddleware.with({ url: `${monitor.base}/ping/abc?create=1` })] });
    expect(await run({})).toEqual(['completed']);
    expect(monitor.requests).toEqual(['GET /ping/abc/start?create=1', 'GET /ping/abc?create=1']);
    monitor.requests = [];
    expect(await run({ fail: true })).toEqual(['completed', 'retry', 'dead']);
    expect(monitor.requests).toEqual([
      'GET /ping/abc/start?create=1',
      'GET /ping/abc/fail?create=1',
      'GET /ping/abc/start?create=1',
      'GET /ping/abc/fail?create=1',
    ]);
  });

  it("POST sends a failure's message; `on` picks the check-ins", async () => {
    t = await startApp([Jobs], { middleware: [CheckInMiddleware.with({ url: `${monitor.base}/hc/x/`, method: 'POST', on: ['failure'] })] });
    await run({});
    await run({ fail: true });
    expect(monitor.requests).toEqual(['POST /hc/x/fail disk full (attempt 1)', 'POST /hc/x/fail disk full (attempt 2)']);
  });

  it('a monitor that answers 500, never answers, or is not there does not fail the job; each is logged', async () => {
    const logger = new Warnings();
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    t = await startApp([Jobs], {
      middleware: [
        CheckInMiddleware.with({ url: `${monitor.base}/broken/1`, on: ['success'], logger }),
        CheckInMiddleware.with({ url: `${monitor.base}/slow/1`, on: ['success'], timeoutMs: 100, logger }),
        CheckInMiddleware.with({ url: `http://127.0.0.1:${deadPort}/gone`, on: ['success'], logger }),
      ],
    });
    expect(await run({})).toEqual(['completed']);
    expect(monitor.requests).toEqual(['GET /broken/1', 'GET /slow/1']);
    expect(logger.lines).toHaveLength(3);
    expect(logger.lines[0]).toMatch(/check-in success of backup \(\S+\): http:\/\/127\.0\.0\.1:\d+\/broken\/1 answered 500/);
    expect(logger.lines[1]).toMatch(/check-in success of backup \(\S+\) failed: .*(timeout|aborted)/i);
    expect(logger.lines[2]).toMatch(/check-in success of backup \(\S+\) failed: fetch failed/);
  });

  it('`report` receives each check-in instead; a URL function may pick a URL per job or none', async () => {
    const seen: string[] = [];
    t = await startApp([Jobs], {
      middleware: [
        CheckInMiddleware.with({ report: (c: CheckIn) => void seen.push(`${c.status}:${c.outcome}:${c.job.attempt}:${c.durationMs}`) }),
        CheckInMiddleware.with({ url: (c) => (c.status === 'start' ? null : `${monitor.base}/by-name/${c.job.name}/${c.status}`) }),
      ],
    });
    await run({ fail: true });
    expect(seen).toEqual(['start:null:1:null', 'failure:retry:1:0', 'start:null:2:null', 'failure:dead:2:0']);
    expect(monitor.requests).toEqual(['GET /by-name/backup/failure', 'GET /by-name/backup/failure']);
  });

  it('needs a url or a report: bootstrap fails without one', async () => {
    const error = await bootstrapError([Jobs], { middleware: [CheckInMiddleware] });
    expect(error).toBeInstanceOf(SchedulerConfigError);
    expect((error as Error).message).toContain('give exactly one of url or report');
  });
});
