import type { SqlNames } from '../sql/names.js';

/**
 * One numbered step of the scheduler's schema. Steps are append-only: a
 * released step never changes; a new one follows it.
 * @internal
 */
export interface SchedulerMigration {
  /** 1, 2, 3…: the order of application and the row kept in `{prefix}migrations`. */
  id: number;
  /** Short kebab-case description, e.g. `initial`. */
  name: string;
  /** A fixed JavaScript timestamp, for TypeORM's migration naming rule. */
  timestamp: number;
  /** The statements that apply the step, for these names. */
  up(names: SqlNames): string[];
  /** The statements that undo it. */
  down(names: SqlNames): string[];
}
