import { describe, expect, it } from 'vitest';
import { untilWritten, WRITE_PATIENCE_MS } from '../../../lib/workflow/until-written.js';
import { FakeClock } from '../../../lib/testing/index.js';

/** A write that fails `failures` times, then answers `ok`; `tries` counts its calls. */
function flaky(failures: number) {
  const state = { tries: 0 };
  const write = async () => {
    state.tries++;
    if (state.tries <= failures) throw new Error(`refused ${state.tries}`);
    return 'ok';
  };
  return { state, write };
}

function setup() {
  const clock = new FakeClock(Date.UTC(2026, 0, 1));
  const lines: string[] = [];
  const logger = { error: (m: string) => lines.push(m), log: (m: string) => lines.push(m) };
  return { clock, lines, logger, controller: new AbortController() };
}

describe('untilWritten', () => {
  it('a write that lands at once is called once and logs nothing', async () => {
    const { clock, lines, logger, controller } = setup();
    const { state, write } = flaky(0);
    await expect(untilWritten(write, { clock, signal: controller.signal, logger, what: () => 'step a' })).resolves.toBe('ok');
    expect(state.tries).toBe(1);
    expect(lines).toEqual([]);
  });

  it('tries again after 100 ms, then twice as long each time, and says when it landed', async () => {
    const { clock, lines, logger, controller } = setup();
    const { state, write } = flaky(3);
    const written = untilWritten(write, { clock, signal: controller.signal, logger, what: () => 'step a' });
    await clock.advance(0);
    expect(state.tries).toBe(1);
    await clock.advance(99);
    expect(state.tries).toBe(1);
    await clock.advance(1);
    expect(state.tries).toBe(2);
    await clock.advance(200);
    expect(state.tries).toBe(3);
    await clock.advance(400);
    await expect(written).resolves.toBe('ok');
    expect(state.tries).toBe(4);
    expect(lines).toEqual(['step a failed: refused 1', 'step a works again after 3 failures']);
  });

  it('gives up with the last error once the attempt is aborted, or after WRITE_PATIENCE_MS', async () => {
    const { clock, logger, controller } = setup();
    const aborted = untilWritten(flaky(Infinity).write, { clock, signal: controller.signal, logger, what: () => 'step a' });
    const caught = aborted.catch((error: unknown) => error);
    await clock.advance(150);
    controller.abort();
    await clock.advance(0);
    expect(await caught).toMatchObject({ message: 'refused 3' });

    const patient = setup();
    const { state, write } = flaky(Infinity);
    const outlasted = untilWritten(write, { clock: patient.clock, signal: patient.controller.signal, logger, what: () => 'step a' }).catch((e: unknown) => e);
    await patient.clock.advance(WRITE_PATIENCE_MS + 10_000);
    const error = await outlasted;
    expect(error).toBeInstanceOf(Error);
    // 100 ms doubling up to 5 s, then every 5 s for the rest of the five minutes.
    expect(state.tries).toBeGreaterThan(55);
    expect(state.tries).toBeLessThan(70);
  });
});
