/**
 * nestjs-scheduler/terminus: the scheduler's checks as a `@nestjs/terminus`
 * health indicator (an optional peer: `npm install @nestjs/terminus`).
 * Without terminus, `SchedulerService.health()` gives the same checks.
 * See docs/health.md.
 */
import { assertTerminusInstalled } from './terminus.package.js';

assertTerminusInstalled();

export { SchedulerHealthIndicator, type SchedulerPresetOptions } from './scheduler-health.indicator.js';
