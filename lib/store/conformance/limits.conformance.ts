import type { JsonObject } from '../../common/json.js';
import { InvalidArgumentError, PayloadTooLargeError, UnstorableResultError } from '../../scheduler.errors.js';
import type { NewJob } from '../job.types.js';
import type { ConformanceSuite } from './suite.js';

/**
 * Conformance: refused input and cleaned output, the same rules on every store.
 * @internal
 */
export function limitsConformance(suite: ConformanceSuite): void {
  const { at, SEC, newJob, insert, running, ref, attemptError, state, makeStore, describe, it, expect } = suite;

  describe('refused input and cleaned output (the same rules on every store)', () => {
    const PAIR = '\u{1F600}';
    const cyclic = (): JsonObject => {
      const meta: Record<string, unknown> = { a: 1 };
      meta.self = meta;
      return meta as JsonObject;
    };

    it.each<[string, () => Partial<NewJob>, string]>([
      ['a name over 200 characters', () => ({ name: 'n'.repeat(201) }), 'name'],
      ['a queue name over 200 characters', () => ({ queue: 'q'.repeat(201) }), 'queue'],
      ['a unique key with a lone surrogate', () => ({ uniqueKey: 'key-\uD800' }), 'uniqueKey'],
      ['a unique key over 1,000 bytes (past the btree entry limit at 2,704)', () => ({ uniqueKey: 'k'.repeat(3_000) }), 'uniqueKey'],
      ['args with U+0000', () => ({ args: { s: 'a\u0000b' } }), 'args'],
      ['args with a lone surrogate in a string', () => ({ args: { s: 'a\uDC00' } }), 'args'],
      ['args with a lone surrogate in a key', () => ({ args: { ['k\uD800']: 1 } }), 'args'],
      ['args with a BigInt', () => ({ args: { n: 2n } as never }), 'args'],
      ['meta with U+0000', () => ({ meta: { s: '\u0000' } }), 'meta'],
      ['cyclic meta', () => ({ meta: cyclic() }), 'meta'],
      ['a runAt past year 9999', () => ({ runAt: new Date('+010000-01-01T00:00:00.000Z') }), 'runAt'],
      ['a runAt before year 1', () => ({ runAt: new Date('-000001-01-01T00:00:00.000Z') }), 'runAt'],
      ['an invalid runAt', () => ({ runAt: new Date(Number.NaN) }), 'runAt'],
      ['a tag over 200 characters', () => ({ tags: ['t'.repeat(201)] }), 'tags'],
      ['more than 50 tags', () => ({ tags: Array.from({ length: 51 }, (_, i) => `t${i}`) }), 'tags'],
      ['a priority outside 0-9', () => ({ priority: 10 }), 'priority'],
    ])('refuses %s with InvalidArgumentError naming the field, storing nothing of the call', async (_, bad, argument) => {
      const rejection = suite.store.insert([newJob({ uniqueKey: 'fine' }), newJob(bad())]);
      await expect(rejection).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(rejection).rejects.toMatchObject({ argument });
      expect(await suite.store.count({})).toBe(0);
      // The good job alone goes in: nothing of the refused call holds its key.
      expect((await suite.store.insert([newJob({ uniqueKey: 'fine' })]))[0]!.inserted).toBe(true);
    });

    it('keeps unique keys apart that differ only in characters around the limits', async () => {
      // Refused, not replaced: two lone surrogates would both become U+FFFD and collide.
      await expect(suite.store.insert([newJob({ uniqueKey: 'k\uD800' })])).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(suite.store.insert([newJob({ uniqueKey: 'k\uD801' })])).rejects.toBeInstanceOf(InvalidArgumentError);
      const keys = ['k\uFFFD', `k${PAIR}`, 'k'.repeat(1_000), '漢'.repeat(333)];
      const results = await suite.store.insert(keys.map((uniqueKey) => newJob({ uniqueKey })));
      expect(results.map((r) => r.inserted)).toEqual([true, true, true, true]);
      expect((await Promise.all(results.map((r) => suite.store.get(r.job.id)))).map((j) => j!.uniqueKey)).toEqual(keys);
    });

    it('accepts the years 1 and 9999, and names and tags at their limits', async () => {
      const first = await insert({ runAt: new Date('0001-01-01T00:00:00.000Z'), name: 'n'.repeat(200), tags: ['t'.repeat(200)] });
      const last = await insert({ runAt: new Date('9999-12-31T23:59:59.999Z') });
      expect((await suite.store.get(first.id))!.runAt.toISOString()).toBe('0001-01-01T00:00:00.000Z');
      expect((await suite.store.get(last.id))!.runAt.toISOString()).toBe('9999-12-31T23:59:59.999Z');
    });

    it('refuses args or meta over maxPayloadBytes with PayloadTooLargeError naming the field; a limit may be raised past 1 MiB', async () => {
      const small = await makeStore({ maxPayloadBytes: 100 });
      await small.store.init();
      try {
        expect(small.store.maxPayloadBytes).toBe(100);
        const fits = { s: 'x'.repeat(92) }; // {"s":"…"} is 100 bytes
        expect((await small.store.insert([newJob({ args: fits })]))[0]!.inserted).toBe(true);
        await expect(small.store.insert([newJob({ args: { s: 'x'.repeat(93) } })])).rejects.toMatchObject({
          name: 'PayloadTooLargeError',
          field: 'args',
          bytes: 101,
          limit: 100,
        });
        await expect(small.store.insert([newJob({ meta: { s: 'é'.repeat(50) } })])).rejects.toBeInstanceOf(PayloadTooLargeError);
        expect(await small.store.count({})).toBe(1);
      } finally {
        await small.store.close();
        await small.cleanup();
      }
      expect(suite.store.maxPayloadBytes).toBe(1_048_576);
      const big = { s: 'x'.repeat(1_500_000) };
      await expect(suite.store.insert([newJob({ args: big })])).rejects.toBeInstanceOf(PayloadTooLargeError);
      const raised = await makeStore({ maxPayloadBytes: 2 * 1_048_576 });
      await raised.store.init();
      try {
        const [result] = await raised.store.insert([newJob({ args: big })]);
        expect((await raised.store.get(result!.job.id))!.args).toEqual(big);
      } finally {
        await raised.store.close();
        await raised.cleanup();
      }
    });

    it('stores a result with U+0000 and lone surrogates (in strings and keys) cleaned to U+FFFD', async () => {
      const job = await running();
      await suite.store.complete(ref(job), { text: 'a\u0000b', lone: ['\uD800', `${PAIR}\uDC00`], ['key\uDBFF']: true }, at(SEC));
      const done = (await suite.store.get(job.id))!;
      expect(done.state).toBe('completed');
      expect(done.result).toEqual({ text: 'a\uFFFDb', lone: ['\uFFFD', `${PAIR}\uFFFD`], 'key\uFFFD': true });
      const text = await running();
      await suite.store.complete(ref(text), 'x\u0000\uDFFF', at(SEC));
      expect((await suite.store.get(text.id))!.result).toBe('x\uFFFD\uFFFD');
    });

    it('refuses a result over maxPayloadBytes with UnstorableResultError, leaving the job running for its attempt to fail', async () => {
      const job = await running();
      const rejection = suite.store.complete(ref(job), { big: 'x'.repeat(1_048_576) }, at(SEC));
      await expect(rejection).rejects.toBeInstanceOf(UnstorableResultError);
      await expect(rejection).rejects.toMatchObject({ jobId: job.id, cause: { name: 'PayloadTooLargeError', field: 'result' } });
      expect(await suite.store.get(job.id)).toMatchObject({ state: 'running', attempt: 1, result: null });
      await suite.store.retry(ref(job), at(2 * SEC), attemptError(1, { name: 'UnstorableResultError' }));
      expect(await state(job.id)).toBe('available');
    });

    it('stores errors and cancel reasons with U+0000 and lone surrogates cleaned, and cancel reasons cut on code points', async () => {
      const dirty = { name: 'Bad\uD800Error', message: `m\u0000 ${'x'.repeat(10)}\uDC00`, stack: 'at \uDBFF\u0000' };
      const retried = await running();
      await suite.store.retry(ref(retried), at(SEC), attemptError(1, dirty));
      const failed = await running();
      await suite.store.fail(ref(failed), 'dead', attemptError(1, dirty), at(SEC));
      const released = await running();
      await suite.store.release(ref(released), at(SEC), attemptError(1, { ...dirty, kind: 'shutdown' }));
      for (const id of [retried.id, failed.id, released.id]) {
        expect((await suite.store.get(id))!.errors[0]).toMatchObject({
          name: 'Bad\uFFFDError',
          message: `m\uFFFD ${'x'.repeat(10)}\uFFFD`,
          stack: 'at \uFFFD\uFFFD',
        });
      }
      const cancelled = await running();
      const reason = `stop\u0000${'r'.repeat(1_994)}${PAIR}${'r'.repeat(7)}`;
      await suite.store.cancel(cancelled.id, at(SEC), reason);
      expect((await suite.store.get(cancelled.id))!.errors.at(-1)!.message).toBe(`stop\uFFFD${'r'.repeat(1_994)}${PAIR}… (7 more characters)`);
    });
  });
}
