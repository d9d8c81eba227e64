import { InvalidArgumentError } from '../../scheduler.errors.js';
import type { JobFilter } from '../job.types.js';
import type { ConformanceSuite } from './suite.js';

/**
 * Conformance: search filters (args conditions, name substring, tags) and
 * capped counts, with keyset paging.
 * @internal
 */
export function searchConformance(suite: ConformanceSuite): void {
  const { at, SEC, insert, running, ref, ids, describe, it, expect } = suite;

  describe('search', () => {
    const seed = async () => {
      const a = await insert({ name: 'SendMail', args: { userId: 42, user: { email: 'a b@x.io', admin: true }, tags: ['vip'] }, tags: ['blue'] });
      const b = await insert({ name: 'report', args: { userId: '42', user: { email: 'b@x.io', admin: false }, note: null }, tags: ['blue', 'red'] });
      const c = await insert({ name: 'mailbox-sync', args: { userId: 7, 'a.b': { '0': 'key' }, list: ['zero'] } });
      const d = await running({ name: 'sendmail', args: { userId: 42, user: { email: 'd@x.io' } }, tags: ['red'] });
      await suite.store.complete(ref(d), { sent: true }, at(SEC));
      const e = await insert({ name: 'report', args: [42] });
      return { a, b, c, d, e };
    };
    const list = async (filter: JobFilter) => ids(await suite.store.list(filter));

    it('matches an args value by its JSON type: 42 is not "42"', async () => {
      const { a, b, d } = await seed();
      expect(await list({ args: [{ path: ['userId'], value: 42 }] })).toEqual(ids([d, a]));
      expect(await list({ args: [{ path: ['userId'], value: '42' }] })).toEqual(ids([b]));
      expect(await list({ args: [{ path: ['userId'], value: 42.0 }], order: 'asc' })).toEqual(ids([a, d]));
      expect(await suite.store.count({ args: [{ path: ['userId'], value: 42 }] })).toBe(2);
    });

    it('walks nested object keys; booleans and null match only themselves', async () => {
      const { a, b, c } = await seed();
      expect(await list({ args: [{ path: ['user', 'email'], value: 'a b@x.io' }] })).toEqual(ids([a]));
      expect(await list({ args: [{ path: ['user', 'admin'], value: true }] })).toEqual(ids([a]));
      expect(await list({ args: [{ path: ['user', 'admin'], value: false }] })).toEqual(ids([b]));
      expect(await list({ args: [{ path: ['note'], value: null }] })).toEqual(ids([b]));
      expect(await list({ args: [{ path: ['a.b', '0'], value: 'key' }] })).toEqual(ids([c]));
    });

    it('matches nothing through an array, at a missing key, or against an object', async () => {
      await seed();
      expect(await list({ args: [{ path: ['list', '0'], value: 'zero' }] })).toEqual([]);
      expect(await list({ args: [{ path: ['list'], value: 'zero' }] })).toEqual([]);
      expect(await list({ args: [{ path: ['tags'], value: 'vip' }] })).toEqual([]);
      expect(await list({ args: [{ path: ['0'], value: 42 }] })).toEqual([]);
      expect(await list({ args: [{ path: ['user'], value: 'a b@x.io' }] })).toEqual([]);
      expect(await list({ args: [{ path: ['missing'], value: null }] })).toEqual([]);
      expect(await list({ args: [{ path: ['userId'], value: 43 }] })).toEqual([]);
      expect(await suite.store.count({ args: [{ path: ['nobody'], value: 1 }] })).toBe(0);
    });

    it('ANDs conditions, and with the other filters', async () => {
      const { a, d } = await seed();
      const is42 = { path: ['userId'], value: 42 } as const;
      expect(await list({ args: [is42, { path: ['user', 'admin'], value: true }] })).toEqual(ids([a]));
      expect(await list({ args: [is42, { path: ['userId'], value: 7 }] })).toEqual([]);
      expect(await list({ args: [is42], states: ['completed'] })).toEqual(ids([d]));
      expect(await list({ args: [is42], nameContains: ['MAIL'] })).toEqual(ids([d, a]));
    });

    it('finds a name by substring, ignoring the case of ASCII letters', async () => {
      const { a, c, d } = await seed();
      expect(await list({ nameContains: ['mail'] })).toEqual(ids([d, c, a]));
      expect(await list({ nameContains: ['SENDm'] })).toEqual(ids([d, a]));
      expect(await list({ nameContains: ['%'] })).toEqual([]);
      expect(await list({ nameContains: ['_'] })).toEqual([]);
      expect(await list({ nameContains: ['send', 'MAIL'] })).toEqual(ids([d, a]));
      expect(await list({ nameContains: ['send', 'box'] })).toEqual([]);
      expect(await list({ nameContains: [] })).toHaveLength(5);
      expect(await suite.store.count({ nameContains: ['report'] })).toBe(2);
    });

    it('folds only ASCII letters, and reads keys holding quotes and backslashes', async () => {
      const accented = await insert({ name: 'Émile', args: { 'say "hi" \\ now': 'yes' } });
      expect(await list({ nameContains: ['ÉMI'] })).toEqual(ids([accented]));
      expect(await list({ nameContains: ['émi'] })).toEqual([]);
      expect(await list({ nameContains: ['ÉmI'] })).toEqual(ids([accented]));
      expect(await list({ args: [{ path: ['say "hi" \\ now'], value: 'yes' }] })).toEqual(ids([accented]));
      expect(await list({ args: [{ path: ['say "hi" now'], value: 'yes' }] })).toEqual([]);
    });

    it('filters by tags, every one given', async () => {
      const { a, b, d } = await seed();
      expect(await list({ tags: ['blue'] })).toEqual(ids([b, a]));
      expect(await list({ tags: ['blue', 'red'] })).toEqual(ids([b]));
      expect(await list({ tags: ['red'] })).toEqual(ids([d, b]));
      expect(await list({ tags: ['green'] })).toEqual([]);
    });

    it('pages by id past a cursor with search filters', async () => {
      const { a, c, d } = await seed();
      expect(await list({ nameContains: ['mail'], limit: 1 })).toEqual(ids([d]));
      expect(await list({ nameContains: ['mail'], limit: 1, afterId: d.id })).toEqual(ids([c]));
      expect(await list({ nameContains: ['mail'], afterId: c.id })).toEqual(ids([a]));
      expect(await list({ args: [{ path: ['userId'], value: 42 }], afterId: a.id, order: 'asc' })).toEqual(ids([d]));
    });

    it('caps a count', async () => {
      await seed();
      expect(await suite.store.count({}, { cap: 3 })).toBe(3);
      expect(await suite.store.count({}, { cap: 5 })).toBe(5);
      expect(await suite.store.count({}, { cap: 100 })).toBe(5);
      expect(await suite.store.count({ nameContains: ['mail'] }, { cap: 2 })).toBe(2);
      expect(await suite.store.count({ nameContains: ['report'] }, { cap: 100 })).toBe(2);
      await expect(suite.store.count({}, { cap: 0 })).rejects.toBeInstanceOf(InvalidArgumentError);
    });

    it('refuses a condition without a path or with a value that is not a scalar', async () => {
      await expect(suite.store.list({ args: [{ path: [], value: 1 }] })).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(suite.store.list({ args: [{ path: [''], value: 1 }] })).rejects.toBeInstanceOf(InvalidArgumentError);
      const object = { path: ['a'], value: {} } as unknown as NonNullable<JobFilter['args']>[number];
      await expect(suite.store.count({ args: [object] })).rejects.toBeInstanceOf(InvalidArgumentError);
    });
  });
}
