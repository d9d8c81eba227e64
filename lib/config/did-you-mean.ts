/** Edit distance (insertions, deletions, substitutions, adjacent swaps) between two strings. @internal */
export function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = best;
    }
  }
  return rows[a.length]![b.length]!;
}

/**
 * The known name closest to `name`, ignoring case, if it is close enough to
 * be a typo: at most a third of its length (past `prefixLength`) away (so
 * `SCHEDULER_X` suggests nothing). Returns the known name as given.
 * @internal
 */
export function didYouMean(name: string, known: readonly string[], prefixLength = 0): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const distance = editDistance(name.toUpperCase(), candidate.toUpperCase());
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  const suffix = name.length - prefixLength;
  return bestDistance <= Math.max(1, Math.floor(suffix / 3)) ? best : undefined;
}
