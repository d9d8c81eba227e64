import { describe, expect, it } from 'vitest';
import { jobMatchesSearch, parseCursor, parseJobSearch, type DashboardSearchParams } from '../../../lib/dashboard/dashboard-search.js';
import { resolveDashboardOptions } from '../../../lib/dashboard/dashboard.options.js';
import { InvalidArgumentError, SchedulerConfigError } from '../../../lib/index.js';
import { buildJob } from '../../../lib/store/new-job.js';
import { newJobInput } from '../../../lib/store/conformance/suite.js';
import type { Job } from '../../../lib/store/job.types.js';

const parse = (q: string, rest: Omit<DashboardSearchParams, 'q'> = {}) => parseJobSearch({ q, ...rest });
const refused = (q: string, rest: Omit<DashboardSearchParams, 'q'> = {}): InvalidArgumentError => {
  try {
    parse(q, rest);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidArgumentError);
    return error as InvalidArgumentError;
  }
  throw new Error(`"${q}" was accepted`);
};

describe('dashboard search: parsing q', () => {
  it('reads args values as JSON scalars: numbers, booleans, null; anything else, or quoted, a string', () => {
    expect(parse('args.userId:42').filter.args).toEqual([{ path: ['userId'], value: 42 }]);
    expect(parse('args.userId:"42"').filter.args).toEqual([{ path: ['userId'], value: '42' }]);
    expect(parse('args.amount:-1.5e2').filter.args).toEqual([{ path: ['amount'], value: -150 }]);
    expect(parse('args.on:true args.off:false args.none:null').filter.args).toEqual([
      { path: ['on'], value: true },
      { path: ['off'], value: false },
      { path: ['none'], value: null },
    ]);
    expect(parse('args.flag:"true"').filter.args).toEqual([{ path: ['flag'], value: 'true' }]);
    expect(parse('args.code:007 args.v:1.').filter.args).toEqual([
      { path: ['code'], value: '007' },
      { path: ['v'], value: '1.' },
    ]);
    expect(parse('args.user.email:"a b" args.to:x@y.io').filter.args).toEqual([
      { path: ['user', 'email'], value: 'a b' },
      { path: ['to'], value: 'x@y.io' },
    ]);
    expect(parse(String.raw`args.quote:"say \"hi\"\n"`).filter.args).toEqual([{ path: ['quote'], value: 'say "hi"\n' }]);
    expect(parse('args.url:http://x:80').filter.args).toEqual([{ path: ['url'], value: 'http://x:80' }]);
  });

  it('reads queue:, name:, state:, tag:, id: and free text, all ANDed', () => {
    expect(parse('  queue:billing   name:nightly state:dead,discarded tag:vip tag:"big one" send "mail:x"  ')).toEqual({
      filter: {
        queue: 'billing',
        nameOrSchedule: 'nightly',
        states: ['dead', 'discarded'],
        tags: ['vip', 'big one'],
        nameContains: ['send', 'mail:x'],
      },
      id: null,
    });
    expect(parse('id:123 args.a:1')).toEqual({ filter: { args: [{ path: ['a'], value: 1 }] }, id: '123' });
    expect(parse('')).toEqual({ filter: {}, id: null });
  });

  it('merges the plain parameters: states intersect, a repeated single value must agree', () => {
    expect(parse('state:dead,running', { state: 'dead,completed' }).filter.states).toEqual(['dead']);
    expect(parse('state:running', { state: 'dead' }).filter.states).toEqual([]);
    expect(parse('queue:q1', { queue: 'q1', name: 'mail' }).filter).toEqual({ queue: 'q1', nameOrSchedule: 'mail' });
    expect(parse('', { state: 'available' }).filter).toEqual({ states: ['available'] });
    expect(refused('queue:q2', { queue: 'q1' }).message).toMatch(/queue:q2 contradicts queue "q1"/);
    expect(refused('name:a name:b').message).toMatch(/name:b contradicts name "a"/);
    expect(refused('id:1 id:2').message).toMatch(/id:2 contradicts id:1/);
    expect(refused('', { state: 'lost' })).toMatchObject({ argument: 'state', message: expect.stringMatching(/unknown state "lost"/) });
  });

  it('refuses bad syntax with a message naming the term', () => {
    expect(refused('queue:a nope:1').message).toMatch(/unknown qualifier "nope:" in nope:1/);
    expect(refused('args:1').message).toMatch(/unknown qualifier "args:"/);
    expect(refused('args.:1').message).toMatch(/args\.:1: a path is keys separated by dots/);
    expect(refused('args.a..b:1').message).toMatch(/args\.a\.\.b:1/);
    expect(refused('args.a:').message).toMatch(/args\.a: needs a value/);
    expect(refused('args.a:"open').message).toMatch(/unterminated quote in args\.a:"open/);
    expect(refused('args.a:"x"y').message).toMatch(/args\.a:"x"y: the quoted text must end the term/);
    expect(refused('args.a:x"y"').message).toMatch(/quote the whole value/);
    expect(refused('args.n:1e999').message).toMatch(/args\.n:1e999: the number is out of range/);
    expect(refused('state:dead,lost').message).toMatch(/state:dead,lost: unknown state "lost"/);
    expect(refused('id:abc').message).toMatch(/id:abc: a job id is digits/);
    expect(refused('tag:""').message).toMatch(/the quoted text is empty/);
    expect(refused(String.raw`"bad \x escape"`).message).toMatch(/not a valid quoted string/);
    expect(refused('x'.repeat(1001)).message).toMatch(/at most 1000 characters/);
    expect(refused(Array.from({ length: 21 }, (_, i) => `w${i}`).join(' ')).message).toMatch(/at most 20 terms, got 21/);
    expect(() => parseJobSearch({ q: ['a', 'b'] as unknown as string })).toThrow(/"q": must be given once/);
  });

  it('takes a cursor of digits only', () => {
    expect(parseCursor(undefined)).toBeUndefined();
    expect(parseCursor('')).toBeUndefined();
    expect(parseCursor('42')).toBe('42');
    expect(() => parseCursor('x1')).toThrow(InvalidArgumentError);
  });
});

describe('dashboard search: a job found by id meets the other terms as a store judges them', () => {
  const input = newJobInput(new Date(0), { name: 'SendMail', schedule: 'nightly', queue: 'q1', args: { user: { id: 42 }, list: [1] }, tags: ['vip'] });
  const job = (): Job => buildJob('7', input, new Date(0));

  it('checks states, queue, name or schedule, free text, tags and args', () => {
    const matches = (q: string) => jobMatchesSearch(job(), parse(q).filter);
    expect(matches('')).toBe(true);
    expect(matches('state:available queue:q1 name:nightly sendm tag:vip args.user.id:42')).toBe(true);
    expect(matches('name:SendMail')).toBe(true);
    expect(matches('state:dead')).toBe(false);
    expect(matches('queue:q2')).toBe(false);
    expect(matches('name:other')).toBe(false);
    expect(matches('mail box')).toBe(false);
    expect(matches('tag:vip tag:red')).toBe(false);
    expect(matches('args.user.id:"42"')).toBe(false);
    expect(matches('args.list.0:1')).toBe(false);
  });
});

describe('dashboard search: the countCap option', () => {
  it('defaults to 10000 and takes a positive integer', () => {
    expect(resolveDashboardOptions({ allowUnauthenticated: true }, []).countCap).toBe(10_000);
    expect(resolveDashboardOptions({ allowUnauthenticated: true, countCap: 1 }, []).countCap).toBe(1);
    expect(() => resolveDashboardOptions({ allowUnauthenticated: true, countCap: 0 }, [])).toThrow(/countCap.*at least 1/);
    expect(() => resolveDashboardOptions({ allowUnauthenticated: true, countCap: 1.5 }, [])).toThrow(SchedulerConfigError);
  });
});
