/**
 * A .dockerignore pattern as a small automaton, run over the path once, every state at a time
 * (the way RE2 runs moby's regexes), with no backtracking. The old translation to a JavaScript
 * regex made `**` a backtracking `.*`, and a fork's .dockerignore froze the app for 138 s.
 * A path is first checked for the pattern's literal runs (string searches), the sets of states
 * are pruned and cached, and what is left is bounded: a pattern that needs more state visits
 * than its budget is refused (GlobCostError), never left to stall the event loop.
 */

import { Nfa } from "./glob-automaton.ts";
import { GlobBudget } from "./glob-budget.ts";
import { LIT, SLASH, tokenize } from "./glob-tokens.ts";

export { GlobSyntaxError } from "./glob-tokens.ts";
export { GlobBudget, GlobCostError, MAX_GLOB_STEPS } from "./glob-budget.ts";

export interface Glob {
  /** True when the path, or a prefix of it that ends at a `/`, matches the whole pattern. */
  matchesOrParent(path: string): boolean;
}

export function compileGlob(pattern: string, budget: GlobBudget = new GlobBudget()): Glob {
  const tokens = tokenize(pattern);
  let lead = "";
  for (const t of tokens) {
    if (t.kind !== LIT) break;
    lead += String.fromCharCode(t.code);
  }
  if (lead.length === tokens.length) return { matchesOrParent: (p) => p === lead || (p.startsWith(lead) && p.charCodeAt(lead.length) === SLASH) };
  // A match starts with the pattern's literal head and holds its literal runs in order, so most
  // paths are turned away by a few string searches before the automaton runs.
  const runs: string[] = [];
  let run = "";
  for (const t of tokens.slice(lead.length)) {
    if (t.kind === LIT) run += String.fromCharCode(t.code);
    else if (run) {
      runs.push(run);
      run = "";
    }
  }
  if (run) runs.push(run);
  let nfa: Nfa | null = null;
  return {
    matchesOrParent(p) {
      if (!p.startsWith(lead)) return false;
      for (let k = 0, at = lead.length; k < runs.length; k++) {
        const found = p.indexOf(runs[k]!, at);
        if (found === -1) return false;
        at = found + runs[k]!.length;
      }
      nfa ??= new Nfa(tokens, budget);
      return nfa.matchesOrParent(p);
    },
  };
}
