/**
 * Jobs, dead letters or runs one deleting call removes at most. On Redis a
 * script holds the server for its whole run (10,000 deletions in one
 * stalled every other client for 0.2–0.4 s here, 1,000 for 20–40 ms); on
 * SQLite a write transaction holds the file's write lock and, the driver
 * being synchronous, the whole process.
 * @internal
 */
export const DELETE_SLICE = 1_000;

/**
 * Up to `limit` deletions by `call(n)` (a script that deletes at most `n`
 * and answers how many it did), in slices of {@link DELETE_SLICE}, until
 * one falls short; the total.
 * @internal
 */
export async function deleteInSlices(limit: number, call: (n: number) => Promise<number>): Promise<number> {
  let total = 0;
  while (total < limit) {
    // A synchronous store's call settles at once: let timers and I/O in between slices.
    if (total > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    const want = Math.min(DELETE_SLICE, limit - total);
    const n = await call(want);
    total += n;
    if (n < want) break;
  }
  return total;
}
