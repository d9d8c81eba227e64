import { describe, expect, it } from 'vitest';
import { schedulerConfigFromEnv, SchedulerEnvError } from '../../../lib/config/index.js';
import { SchedulerConfigError } from '../../../lib/index.js';
import { didYouMean, editDistance } from '../../../lib/config/did-you-mean.js';
import { redactUrl, redactValue } from '../../../lib/config/env-values.js';

function thrown(run: () => unknown): SchedulerEnvError {
  try {
    run();
  } catch (error) {
    if (error instanceof SchedulerEnvError) return error;
    throw error;
  }
  throw new Error('nothing was thrown');
}

describe('schedulerConfigFromEnv: errors, warnings, secrets', () => {
  it('throws once, listing every bad variable with its value and why', () => {
    const error = thrown(() =>
      schedulerConfigFromEnv(
        {
          SCHEDULER_WORKERS: 'ten',
          SCHEDULER_POLL_INTERVAL: '1 second',
          SCHEDULER_ENABLED: 'maybe',
          SCHEDULER_STORE: 'postgres',
          SCHEDULER_POSTGRES_URL: 'mysql://admin:hunter2@db:3306/app',
          SCHEDULER_DLQ_QUEUE: 'dead',
        },
        { warn: () => undefined },
      ),
    );
    expect(error).toBeInstanceOf(SchedulerConfigError);
    expect(error.problems.map((problem) => [problem.variable, problem.value])).toEqual([
      ['SCHEDULER_ENABLED', 'maybe'],
      ['SCHEDULER_WORKERS', 'ten'],
      ['SCHEDULER_POLL_INTERVAL', '1 second'],
      ['SCHEDULER_DLQ_QUEUE', 'dead'],
      ['SCHEDULER_POSTGRES_URL', 'mysql://admin:***@db:3306/app'],
    ]);
    expect(error.message).toContain('5 bad variables:');
    expect(error.message).toContain('SCHEDULER_WORKERS="ten": must be an integer from 1 to 10000');
    expect(error.message).toContain('SCHEDULER_POSTGRES_URL="mysql://admin:***@db:3306/app": must start with postgres:// or postgresql://');
    expect(error.message).not.toContain('hunter2');
  });

  it('never prints a password, even of a URL it cannot parse, nor a value whose name says secret', () => {
    const error = thrown(() =>
      schedulerConfigFromEnv(
        { SCHEDULER_STORE: 'redis', SCHEDULER_REDIS_URL: 'redis://:s3cret@/:bad:port', SCHEDULER_REDIS_DB: 'x' },
        { warn: () => undefined },
      ),
    );
    expect(error.message).not.toContain('s3cret');
    expect(error.problems[0]).toMatchObject({ variable: 'SCHEDULER_REDIS_URL', value: '[redacted]' });
    expect(redactValue('API_TOKEN', 'abc')).toBe('[redacted]');
    expect(redactValue('SCHEDULER_REDIS_KEY_PREFIX', 'scheduler')).toBe('scheduler');
    expect(redactUrl('postgres://user:pw@h:5432/db?sslmode=require&password=pw2')).toBe('postgres://user:***@h:5432/db?sslmode=require&password=***');
    expect(redactUrl('redis://token-only@h:6379')).toBe('redis://***@h:6379');
  });

  it('warns about unknown SCHEDULER_* names with a "did you mean", without their values, and reads nothing from them', () => {
    const warnings: string[] = [];
    const options = schedulerConfigFromEnv(
      { SCHEDULER_POLL_INTERVALL: '5s', SCHEDULER_WORKER: '3', SCHEDULER_REDIS_ULR: 'redis://:pw@h', SCHEDULER_ZZZ: 'x', OTHER_POLL_INTERVAL: '1s' },
      { warn: (message) => warnings.push(message) },
    );
    expect(JSON.parse(JSON.stringify(options))).toEqual({});
    expect(warnings).toEqual([
      'unknown variable SCHEDULER_POLL_INTERVALL (not read): did you mean SCHEDULER_POLL_INTERVAL?',
      'unknown variable SCHEDULER_WORKER (not read): did you mean SCHEDULER_WORKERS?',
      'unknown variable SCHEDULER_REDIS_ULR (not read): did you mean SCHEDULER_REDIS_URL?',
      'unknown variable SCHEDULER_ZZZ (not read)',
    ]);
  });

  it('suggests only names within a third of the typed name', () => {
    expect(editDistance('ABCD', 'ABDC')).toBe(1);
    expect(editDistance('KITTEN', 'SITTING')).toBe(3);
    expect(didYouMean('SCHEDULER_STOR', ['SCHEDULER_STORE', 'SCHEDULER_PEER'], 10)).toBe('SCHEDULER_STORE');
    expect(didYouMean('SCHEDULER_scheme', ['SCHEDULER_STORE'], 10)).toBeUndefined();
    expect(didYouMean('SCHEDULER_lock_ttl', ['SCHEDULER_LOCK_TTL'], 10)).toBe('SCHEDULER_LOCK_TTL');
  });
});
