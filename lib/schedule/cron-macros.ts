/**
 * The macro that runs a job once when the application boots instead of on a clock.
 * @internal
 */
export const REBOOT_MACRO = '@reboot';

/**
 * The cron macros we accept and the five-field expressions they stand for.
 *
 * We resolve macros ourselves rather than letting cron-parser do it: cron-parser
 * 5 does not know `@midnight`, matches macros case-sensitively, and also accepts
 * extras (`@minutely`, `@secondly`, `@weekdays`, `@weekends`) that other cron
 * implementations do not, so we keep the accepted set to the classic Vixie ones.
 * @internal
 */
export const CRON_MACROS: Readonly<Record<string, string>> = Object.freeze({
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
});

/**
 * Expands a macro such as `@daily` (case-insensitive) into its cron expression.
 * Returns the input unchanged when it is not a macro, and `undefined` when it
 * looks like a macro (starts with `@`) but is not one we know. `@reboot` is
 * not expanded: it has no clock time and is handled by the caller.
 * @internal
 */
export function expandCronMacro(expression: string): string | undefined {
  if (!expression.startsWith('@')) return expression;
  return CRON_MACROS[expression.toLowerCase()];
}

/**
 * True when `expression` is the `@reboot` macro (ignoring case and surrounding spaces).
 * @internal
 */
export function isRebootMacro(expression: string): boolean {
  return expression.trim().toLowerCase() === REBOOT_MACRO;
}
