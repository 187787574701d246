/**
 * The fastest of a few runs of `fn`, in ms: a bound on a linear-time matcher must not fail on
 * one scheduler hiccup of a shared machine, while a backtracking one is slow every time.
 */
export function fastestMs(fn: () => void, runs = 3): number {
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}
