import { describe, expect, it } from 'vitest';
import { FailureReport } from '../../../lib/common/failure-report.js';

/** A logger that keeps its lines, and a wall clock the test moves. */
function setup(withStack = true) {
  const lines: string[] = [];
  const logger = { error: (m: string) => lines.push(`error ${m}`), log: (m: string) => lines.push(`log ${m}`) };
  let now = 1_000_000;
  const report = new FailureReport(logger, 'claim', withStack, () => now);
  return { lines, report, advance: (ms: number) => (now += ms) };
}

describe('FailureReport', () => {
  it('an outage logs its first failure, a reminder a minute with the count, and one line when it ends', () => {
    const { lines, report, advance } = setup(false);
    for (let i = 0; i < 60; i++) {
      report.failed(new Error(`refused ${i}`));
      advance(1_000);
    }
    expect(lines).toEqual(['error claim failed: refused 0']);
    report.failed(new Error('refused 60'));
    expect(lines.at(-1)).toBe('error claim still failing (61 failures in 60 s): refused 60');
    report.succeeded();
    expect(lines.at(-1)).toBe('log claim works again after 61 failures');
    expect(lines).toHaveLength(3);
  });

  it('the next outage starts afresh, with its stack when asked; success without failure logs nothing', () => {
    const { lines, report } = setup(true);
    report.succeeded();
    expect(lines).toEqual([]);
    const error = new Error('gone');
    report.failed(error);
    report.succeeded();
    report.failed('plain text');
    expect(lines).toEqual([`error claim failed: ${error.stack}`, 'log claim works again', 'error claim failed: plain text']);
  });

  it('a thrown value whose reading throws is still reported', () => {
    const { lines, report } = setup(true);
    const hostile = Object.create(null, {
      toString: {
        value: () => {
          throw new Error('no');
        },
      },
    }) as unknown;
    report.failed(hostile);
    expect(lines).toEqual(['error claim failed: (object that cannot be converted to text)']);
  });
});
