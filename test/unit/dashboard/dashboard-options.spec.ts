import { describe, expect, it } from 'vitest';
import { allowedActions, allows } from '../../../lib/dashboard/dashboard-actions.js';
import { resolveDashboardOptions } from '../../../lib/dashboard/dashboard.options.js';
import { redactJson } from '../../../lib/dashboard/dashboard.redaction.js';
import { DEFAULT_REDACTED_KEYS, SchedulerConfigError } from '../../../lib/index.js';

describe('dashboard options', () => {
  it('fills in the defaults and trims the path', async () => {
    const resolved = resolveDashboardOptions({ allowUnauthenticated: true, path: '/ops/jobs/' }, DEFAULT_REDACTED_KEYS);
    expect(resolved).toMatchObject({
      path: 'ops/jobs',
      guards: [],
      readOnly: false,
      statsCacheMs: 5000,
      queryTimeoutMs: 5000,
      maxPageSize: 200,
      auditSize: 200,
    });
    expect(resolved.redact).toBe(DEFAULT_REDACTED_KEYS);
    expect(await resolved.access({ headers: {} })).toBe('all');
    expect(resolved.actor({ headers: {} })).toBeNull();
  });

  it('refuses an open dashboard and bad values with SchedulerConfigError', () => {
    const bad = (options: object) => () => resolveDashboardOptions(options, []);
    expect(bad({})).toThrow(SchedulerConfigError);
    expect(bad({ guards: [] })).toThrow(/would be open to anyone/);
    expect(bad({ allowUnauthenticated: true, statsCacheMs: -1 })).toThrow(/statsCacheMs.*at least 0/);
    expect(bad({ allowUnauthenticated: true, queryTimeoutMs: 0 })).toThrow(/queryTimeoutMs/);
    expect(bad({ allowUnauthenticated: true, auditSize: -1 })).toThrow(/auditSize.*at least 0/);
    expect(bad({ allowUnauthenticated: true, path: 'a b' })).toThrow(/path/);
    expect(bad({ access: 'all' })).toThrow(/access.*must be a function/);
    expect(bad({ allowUnauthenticated: true, redact: 'password' })).toThrow(/redact/);
  });
});

describe('dashboard access levels', () => {
  it('all, read_only, per action, nothing; read-only mode wins', () => {
    expect(allowedActions('all', false)).toHaveLength(20);
    expect(allowedActions('all', true)).toEqual([]);
    expect(allowedActions('read_only', false)).toEqual([]);
    expect(allowedActions(false, false)).toEqual([]);
    expect(allowedActions({ retryJobs: true, runSchedules: true }, false)).toEqual([
      'jobs.retry',
      'jobs.runNow',
      'schedules.runNow',
      'deadLetters.retry',
      'deadLetters.retryAll',
      'jobs.bulkRetry',
    ]);
    expect(allows({ pauseSchedules: true }, false, 'schedules.resume')).toBe(true);
    expect(allows({ pauseSchedules: false }, false, 'schedules.pause')).toBe(false);
    expect(allowedActions({ pauseWorkflows: true, retryWorkflows: true }, false)).toEqual(['workflows.retry', 'workflows.pause', 'workflows.resume']);
    expect(allowedActions({ cancelWorkflows: true }, false)).toEqual(['workflows.cancel']);
    expect(allowedActions({ deleteJobs: true }, false)).toEqual(['jobs.delete', 'jobs.bulkDelete']);
    expect(allowedActions({ scaleQueues: true, editSchedules: true }, false)).toEqual(['queues.scale', 'schedules.update']);
  });
});

describe('dashboard redaction', () => {
  const value = { user: 'ada', Password: 'x', nested: [{ apiToken: 't', keep: 1 }], auth: { secret: 's' } };

  it('hides keys at any depth: strings case-insensitively, RegExps (even global ones) on the key', () => {
    const pattern = /token/gi;
    expect(redactJson(value, ['password', pattern, 'auth'])).toEqual({
      user: 'ada',
      Password: '[redacted]',
      nested: [{ apiToken: '[redacted]', keep: 1 }],
      auth: '[redacted]',
    });
    expect(redactJson(value, [pattern])).toEqual({ ...value, nested: [{ apiToken: '[redacted]', keep: 1 }] });
    expect(redactJson('plain', ['password'])).toBe('plain');
  });

  it('a function sees a copy; one that throws hides everything', () => {
    expect(
      redactJson(value, (v) => {
        (v as { user: string }).user = 'changed';
        return 'mine';
      }),
    ).toBe('mine');
    expect(value.user).toBe('ada');
    expect(
      redactJson(value, () => {
        throw new Error('no');
      }),
    ).toBe('[redacted]');
  });
});
