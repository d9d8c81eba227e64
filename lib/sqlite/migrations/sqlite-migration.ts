/**
 * One numbered step of the SQLite schema. Steps are append-only: a released
 * step never changes; a new one follows it.
 * @internal
 */
export interface SqliteMigration {
  /** 1, 2, 3…: the order of application, kept in `PRAGMA user_version`. */
  id: number;
  /** Short kebab-case description, e.g. `initial`. */
  name: string;
  /** The statements that apply the step. */
  up: readonly string[];
}
