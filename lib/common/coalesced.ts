/**
 * `task`, run one call at a time: a call made while it runs asks for one
 * more run after it (however many calls came meanwhile) and settles with
 * that run, so the last run always begins after the last call. For the
 * re-reads of shared state that notices ask for: two reads at once may be
 * answered out of order, and the older answer, applied last, would undo
 * the newer (a queue resumed on one node left paused on another).
 *
 * A run that fails does not stop the one asked for meanwhile; the calls
 * settle with the last run's outcome.
 * @internal
 */
export function coalesced(task: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | null = null;
  let again = false;
  const loop = async (): Promise<void> => {
    let failure: { error: unknown } | null;
    do {
      again = false;
      failure = null;
      try {
        await task();
      } catch (error) {
        failure = { error };
      }
    } while (again);
    if (failure) throw failure.error;
  };
  return () => {
    if (running) {
      again = true;
      return running;
    }
    running = loop().finally(() => (running = null));
    return running;
  };
}
