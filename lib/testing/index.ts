/** nestjs-scheduler/testing: a fake clock and helpers to drain, run and assert jobs in tests. */
export { FakeClock, flushPromises } from './fake.clock.js';
export { SchedulerTester, type JobRun } from './scheduler.tester.js';
