/**
 * What the automata of one .dockerignore may spend, shared by its patterns: state visits over the
 * matcher's life (only a transition not yet cached costs any), and the size of their caches.
 */
export class GlobBudget {
  steps = 0;
  cached = 0;
  readonly maxSteps: number;
  readonly maxCached: number;
  constructor(maxSteps = 10_000_000, maxCached = 1_000_000) {
    this.maxSteps = maxSteps;
    this.maxCached = maxCached;
  }
}

export const MAX_GLOB_STEPS = 1_000_000;

/** A pattern that would take too long on a path; the caller says which, and where. */
export class GlobCostError extends Error {}
