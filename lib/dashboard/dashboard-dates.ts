/** @internal An ISO 8601 string, or `null` for no date. */
export const iso = (date: Date | null): string | null => (date ? date.toISOString() : null);
