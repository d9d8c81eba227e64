import { describe, expect, it } from 'vitest';
import { cron } from '../../../../lib/index.js';
import { cronPhrase } from '../../../../lib/schedule/builder/schedule-json.describe.js';

describe('cronPhrase', () => {
  it.each([
    ['*/15 * * * *', 'Every 15 minutes'],
    ['* * * * *', 'Every minute'],
    ['*/10 * * * * *', 'Every 10 seconds'],
    ['0 */6 * * *', 'Every 6 hours'],
    ['0 * * * *', 'Every hour'],
    // A fixed first field is a time of day, not a step.
    ['0 3 * * *', 'Every day at 03:00'],
    ['30 14 * * 1-5', 'Every weekday at 14:30'],
    ['0 8 * * 1,4', 'Every Monday and Thursday at 08:00'],
    ['0 9 * * 7', 'Every Sunday at 09:00'],
    ['15 30 6 * * *', 'Every day at 06:30:15'],
  ])('%s → %s', (expression, words) => {
    expect(cronPhrase(expression)).toBe(words);
  });

  it.each(['0 0 1 * *', '0 9-17 * * *', '@daily', '0 0 * * MON', '5 4 * * sun', 'not a cron'])('leaves %s to be quoted', (expression) => {
    expect(cronPhrase(expression)).toBeNull();
  });

  it("gives the builder's cron() its words", () => {
    expect(cron('0 3 * * *').describe()).toBe('Every day at 03:00 (Etc/UTC); clock-aligned: cron "0 3 * * *"');
  });
});
