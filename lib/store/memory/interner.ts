/**
 * One shared string per value for a field that repeats from job to job
 * (queue, name, node): strings made per job (read from a message, built from
 * a template) would otherwise be kept once per finished job. Bounded, so
 * that values that never repeat cannot grow it without end.
 * @internal
 */
export class Interner {
  private readonly seen = new Map<string, string>();
  /** The last value: most jobs in a row share it, and the very same string compares at once. */
  private last = '';

  constructor(private readonly max = 10_000) {}

  of<T extends string | null>(value: T): T {
    if (value === null) return value;
    if (value === this.last) return this.last as T;
    let known = this.seen.get(value);
    if (known === undefined) {
      known = value;
      if (this.seen.size < this.max) this.seen.set(value, value);
    }
    this.last = known;
    return known as T;
  }
}

/**
 * The interners a store's finished jobs share.
 * @internal
 */
export interface FinishedStrings {
  names: Interner;
  queues: Interner;
  nodes: Interner;
}

/**
 * A new set of interners.
 * @internal
 */
export function finishedStrings(): FinishedStrings {
  return { names: new Interner(), queues: new Interner(), nodes: new Interner() };
}
