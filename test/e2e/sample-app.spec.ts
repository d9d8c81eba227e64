import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { SchedulerService } from '../../lib/index.js';
import { AppModule } from '../../sample-app/app.module.js';
import { TOKEN_COOKIE, TokenGuard } from '../../sample-app/token.guard.js';
import { waitFor } from '../support/wait.js';

/** The sample app (`npm run sample`, memory store) boots as it is and runs its jobs. */
describe('the sample app', () => {
  let app: TestingModule | INestApplication | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('runs its catalogue batch to the end, its checkpoint kept as progress: 24 synced, 1 failed', async () => {
    app = await Test.createTestingModule({ imports: [AppModule] }).compile();
    await app.init();
    const scheduler = app.get(SchedulerService);
    await waitFor(async () => (await scheduler.history('catalog-sync')).length === 1, 15_000, 'the catalogue batch to end');
    const [done] = await scheduler.history('catalog-sync');
    expect(done).toMatchObject({
      state: 'completed',
      result: { status: 'partial', processed: 24, failed: 1, errors: [{ message: 'supplier has no price for SKU-013' }] },
    });
    expect(done!.progress).toMatchObject({ processed: 24, failed: 1 });
  });

  it('serves the dashboard API to the token it prints, and to nobody else', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    const http = moduleRef.createNestApplication();
    app = http;
    await http.init();
    const { token } = http.get(TokenGuard);
    await request(http.getHttpServer()).get('/scheduler/api/overview').expect(401);
    await request(http.getHttpServer()).get('/scheduler/api/overview').set('authorization', 'Bearer not-the-token').expect(401);
    const overview = await request(http.getHttpServer()).get('/scheduler/api/overview').set('authorization', `Bearer ${token}`).expect(200);
    expect((overview.body as { queues: { queue: string }[] }).queues.map((q) => q.queue)).toEqual(
      expect.arrayContaining(['default', 'emails', 'payments', 'billing']),
    );
  });

  it('serves the dashboard UI to a browser that opened the printed link: the token becomes a cookie its requests carry', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    const http = moduleRef.createNestApplication();
    app = http;
    await http.init();
    const { token } = http.get(TokenGuard);
    const server = http.getHttpServer();
    await request(server).get('/scheduler').expect(401);
    await request(server).get('/scheduler?token=wrong').expect(401);
    const page = await request(server).get(`/scheduler?token=${token}`).expect(200);
    expect(page.text).toContain('<script type="module"');
    const cookie = page.headers['set-cookie']?.[0] ?? '';
    expect(cookie).toMatch(new RegExp(`^${TOKEN_COOKIE}=${token};.*HttpOnly; SameSite=Strict`));
    await request(server).get('/scheduler/api/config').set('cookie', `${TOKEN_COOKIE}=${token}`).expect(200);
    await request(server).get('/scheduler/api/config').set('cookie', `${TOKEN_COOKIE}=nope`).expect(401);
  });
});
