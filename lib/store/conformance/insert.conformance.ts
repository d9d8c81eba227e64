import type { JsonObject } from '../../common/json.js';
import type { NewJob } from '../job.types.js';
import type { ConformanceSuite } from './suite.js';

/**
 * Conformance: insert and get (defaults, batches, copies, unique and tick keys on insert).
 * @internal
 */
export function insertConformance(suite: ConformanceSuite): void {
  const { BASE, at, ms, SEC, newJob, insert, claim, attemptError, describe, it, expect } = suite;

  describe('insert and get', () => {
    it('stores a job with defaults and reads it back', async () => {
      const job = await insert({ args: { to: 'a@example.com' } });
      expect(typeof job.id).toBe('string');
      expect(job).toMatchObject({
        name: 'work',
        schedule: null,
        queue: 'default',
        args: { to: 'a@example.com' },
        state: 'available',
        priority: 5,
        attempt: 0,
        maxAttempts: 3,
        timeout: null,
        misfired: false,
        startedAt: null,
        finishedAt: null,
        heartbeatAt: null,
        node: null,
        tickKey: null,
        uniqueKey: null,
        serialKey: null,
        pinnedNode: null,
        tags: [],
        meta: {},
        result: null,
        errors: [],
        trace: null,
        preemptible: null,
      });
      expect(ms(job.runAt)).toBe(BASE.getTime());
      expect(ms(job.scheduledAt)).toBe(BASE.getTime());
      expect(job.insertedAt).toBeInstanceOf(Date);
      expect(await suite.store.get(job.id)).toEqual(job);
    });

    it('keeps every given field', async () => {
      const trace = { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: 1 };
      const job = await insert({
        name: 'report',
        schedule: 'nightly',
        queue: 'reports',
        args: [1, 'two', { three: [3] }, null, true],
        priority: 2,
        maxAttempts: 7,
        timeout: 30_000,
        runAt: at(5 * SEC),
        scheduledAt: at(4 * SEC),
        misfired: true,
        tickKey: 'nightly@1',
        uniqueKey: 'u-1',
        serialKey: 's-1',
        pinnedNode: 'node-b',
        tags: ['x', 'y'],
        meta: { origin: { user: 42 } },
        trace,
        preemptible: 'requeue',
      });
      const stored = await suite.store.get(job.id);
      expect(stored).toMatchObject({
        name: 'report',
        schedule: 'nightly',
        queue: 'reports',
        args: [1, 'two', { three: [3] }, null, true],
        priority: 2,
        maxAttempts: 7,
        timeout: 30_000,
        misfired: true,
        tickKey: 'nightly@1',
        uniqueKey: 'u-1',
        serialKey: 's-1',
        pinnedNode: 'node-b',
        tags: ['x', 'y'],
        meta: { origin: { user: 42 } },
        trace,
        preemptible: 'requeue',
      });
      expect(ms(stored!.runAt)).toBe(at(5 * SEC).getTime());
      expect(ms(stored!.scheduledAt)).toBe(at(4 * SEC).getTime());
    });

    it('gives each job a distinct id', async () => {
      const results = await suite.store.insert([newJob(), newJob(), newJob()]);
      expect(new Set(results.map((r) => r.job.id)).size).toBe(3);
    });

    it("keeps each job's own fields in a batch, whether its jobs differ in one field or only in args", async () => {
      const meta = { team: 'core' };
      const variants: Partial<NewJob>[] = [
        {},
        { priority: 1 },
        { runAt: at(SEC) },
        { scheduledAt: at(-SEC) },
        { tags: ['t'] },
        { meta: { team: 'core' } },
        { meta: { team: 'other' } },
        { timeout: 5_000 },
        { pinnedNode: 'node-b' },
        { misfired: true },
        { preemptible: false },
        { preemptible: 'suspend' },
      ];
      const inputs = variants.map((overrides, i) => newJob({ args: { i }, meta, ...overrides }));
      const results = await suite.store.insert(inputs);
      for (const [i, result] of results.entries()) {
        const stored = await suite.store.get(result.job.id);
        expect(stored).toEqual(result.job);
        expect(stored).toMatchObject({ args: { i }, priority: inputs[i]!.priority, tags: inputs[i]!.tags ?? [], meta: inputs[i]!.meta });
        expect(ms(stored!.runAt)).toBe(inputs[i]!.runAt.getTime());
        expect(ms(stored!.scheduledAt)).toBe((inputs[i]!.scheduledAt ?? inputs[i]!.runAt).getTime());
        expect(stored!.timeout).toBe(inputs[i]!.timeout);
        expect(stored!.pinnedNode).toBe(inputs[i]!.pinnedNode ?? null);
        expect(stored!.misfired).toBe(inputs[i]!.misfired ?? false);
        expect(stored!.preemptible).toBe(inputs[i]!.preemptible ?? null);
      }
      // Claimed, retried and claimed again, a job keeps its preemptible.
      const [requeue] = await suite.store.insert([newJob({ queue: 'preempt', preemptible: 'requeue' }), newJob({ queue: 'preempt', preemptible: false })]);
      const claimed = await claim({ queue: 'preempt', limit: 2 });
      expect(new Set(claimed.map((job) => job.preemptible))).toEqual(new Set([false, 'requeue']));
      const first = claimed.find((job) => job.id === requeue!.job.id)!;
      await suite.store.retry({ id: first.id, attempt: first.attempt }, BASE, attemptError(1));
      expect((await claim({ queue: 'preempt' }))[0]).toMatchObject({ id: first.id, preemptible: 'requeue' });
      // A batch that differs only in args and unique keys: keys collide with the batch and the table.
      const held = await insert({ uniqueKey: 'held' });
      const shared = await suite.store.insert([
        newJob({ args: { n: 1 }, uniqueKey: 'a' }),
        newJob({ args: { n: 2 } }),
        newJob({ args: { n: 3 }, uniqueKey: 'a' }),
        newJob({ args: { n: 4 }, uniqueKey: 'held' }),
        newJob({ args: null }),
      ]);
      expect(shared.map((r) => r.inserted)).toEqual([true, true, false, false, true]);
      expect(shared[2]!.job.id).toBe(shared[0]!.job.id);
      expect(shared[3]!.job.id).toBe(held.id);
      expect((await suite.store.get(shared[1]!.job.id))!.args).toEqual({ n: 2 });
      expect((await suite.store.get(shared[4]!.job.id))!.args).toBeNull();
      const [ticks0, ticks1] = await suite.store.insert([newJob({ tickKey: 'tick' }), newJob({ tickKey: 'tick' })]);
      expect([ticks0!.inserted, ticks1!.inserted, ticks1!.conflict]).toEqual([true, false, 'tick']);
    });

    it('returns null for an unknown id', async () => {
      const job = await insert();
      await suite.store.delete([job.id]);
      expect(await suite.store.get(job.id)).toBeNull();
    });

    it('keeps a "__proto__" key as plain data', async () => {
      const args = JSON.parse('{"__proto__": {"polluted": true}, "n": 1}') as JsonObject;
      const job = await insert({ args });
      const read = (await suite.store.get(job.id))!;
      expect(Object.getOwnPropertyDescriptor(read.args, '__proto__')?.value).toEqual({ polluted: true });
      expect((read.args as JsonObject).n).toBe(1);
      expect(Object.getPrototypeOf(read.args)).toBe(Object.prototype);
      expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
    });

    it('isolates stored jobs from callers', async () => {
      const input = newJob({ args: { list: [1, 2] }, meta: { nested: { a: 1 } }, tags: ['t'] });
      const job = (await suite.store.insert([input]))[0]!.job;
      (input.args as { list: number[] }).list.push(3);
      (input.meta!.nested as { a: number }).a = 2;
      input.tags!.push('u');
      (job.args as { list: number[] }).list.push(4);
      job.meta.extra = true;

      const read = (await suite.store.get(job.id))!;
      expect(read.args).toEqual({ list: [1, 2] });
      expect(read.meta).toEqual({ nested: { a: 1 } });
      expect(read.tags).toEqual(['t']);

      (read.args as { list: number[] }).list.push(5);
      read.errors.push(attemptError(1));
      read.state = 'completed';
      read.runAt.setTime(0);
      const again = (await suite.store.get(job.id))!;
      expect(again.args).toEqual({ list: [1, 2] });
      expect(again.errors).toEqual([]);
      expect(again.state).toBe('available');
      expect(ms(again.runAt)).toBe(BASE.getTime());

      const [claimed] = await claim();
      (claimed!.args as { list: number[] }).list.length = 0;
      const stored = (await suite.store.get(job.id))!;
      for (const date of [claimed!.runAt, claimed!.scheduledAt, claimed!.insertedAt, claimed!.startedAt!, claimed!.heartbeatAt!]) date.setTime(0);
      const after = (await suite.store.get(job.id))!;
      expect(after.args).toEqual({ list: [1, 2] });
      expect([after.runAt, after.scheduledAt, after.insertedAt, after.startedAt, after.heartbeatAt].map(ms)).toEqual(
        [stored.runAt, stored.scheduledAt, stored.insertedAt, stored.startedAt, stored.heartbeatAt].map(ms),
      );
      expect(ms(after.startedAt)).toBe(BASE.getTime());

      const listed = await suite.store.list({});
      listed[0]!.tags.push('v');
      expect((await suite.store.get(job.id))!.tags).toEqual(['t']);
    });
  });
}
