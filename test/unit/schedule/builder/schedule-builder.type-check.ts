/**
 * Compile-time proof of the builder's type-state: `tsc --noEmit` (tsconfig
 * includes test/) fails if any `@ts-expect-error` line below compiles, i.e.
 * if an impossible chain became possible. Never run, only type-checked.
 */
import { at, cron, every, on, type SchedulerService } from '../../../../lib/index.js';

export function allowed(scheduler: SchedulerService) {
  every(5).minutes().between('09:00', '17:00').weekdays().timezone('Europe/Paris');
  every().day().at('14:30').withoutOverlapping();
  every().monday().at('10:30pm').weekdays();
  every(2).weeks().at('08:00').startingOn('2026-12-01');
  on('mon', 'thu').at('08:00').jitter('1m').maxRuns(3);
  cron('0 6 * * *').timezone('America/New_York').between('06:00', '07:00');
  at(new Date()).misfire('skip').describe();
  void scheduler.every(5).minutes().do('healthcheck', 'ping');
  void scheduler
    .every()
    .day()
    .at('02:00')
    .runOnStart()
    .do('nightly', 'report', { args: { full: true } });
}

export function forbidden(scheduler: SchedulerService) {
  // @ts-expect-error .at() needs a day, week or weekday unit
  every(5).minutes().at('14:30');
  // @ts-expect-error plural units only after every(n)
  every().minutes();
  // @ts-expect-error singular units only after every()
  every(5).minute();
  // @ts-expect-error the time of day is set once
  every().day().at('08:00').at('09:00');
  // @ts-expect-error a window only on schedules that tick several times a day
  every().day().between('09:00', '17:00');
  // @ts-expect-error a window only on schedules that tick several times a day
  on('mon').at('08:00').between('09:00', '17:00');
  // @ts-expect-error cron ticks are fixed by the expression
  cron('0 6 * * *').at('06:00');
  // @ts-expect-error a one-time run has no zone, jitter, maxRuns or window
  at(new Date()).jitter('1m');
  // @ts-expect-error a one-time run has no zone
  at(new Date()).timezone('Europe/Paris');
  // @ts-expect-error onEveryNode is not supported (typed never)
  every(5).minutes().onEveryNode().describe();
  // @ts-expect-error on() needs at least one day
  on();
  // @ts-expect-error not a weekday name
  on('monday');
  // @ts-expect-error .do() only on chains started from SchedulerService
  void every(5).minutes().do('healthcheck', 'ping');
  // @ts-expect-error a handler is a registered name or a @Worker class, never code
  void scheduler.every(5).minutes().do('healthcheck', 42);
  const minutes = scheduler.every(5).minutes();
  // @ts-expect-error a handler is never a function
  void minutes.do('healthcheck', async () => {});
  // @ts-expect-error every() takes a count, not a duration
  every('5m');
}
