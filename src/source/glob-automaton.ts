import { ANY, CLASS, DIRS, LIT, ONE, SLASH, STAR, inClass, type Token } from "./glob-tokens.ts";
import { GlobBudget, GlobCostError, MAX_GLOB_STEPS } from "./glob-budget.ts";

/** A set of automaton states, as a cached deterministic state. */
interface DState {
  states: Int32Array;
  accept: boolean;
  /** Transitions on ASCII characters, by code; others in `next`. */
  ascii: (DState | undefined)[] | null;
  next: Map<number, DState> | null;
  generation: number;
}

/** What a cached state costs against the budget beyond its NFA states (objects, map entries). */
const DSTATE_OVERHEAD = 64;

const canTakeSlash = (t: Token) => t.kind === ANY || t.kind === DIRS || (t.kind === LIT && t.code === SLASH) || (t.kind === CLASS && inClass(t, SLASH));

/**
 * States 0..n follow the tokens (n accepts); a `**` then `/` at token i also has a loop state
 * n+1+i, which stays on any character and leaves for state i+1 on a `/`.
 *
 * Threads that a loop already covers are dropped after each character, which keeps the set small
 * on the patterns that make a backtracking matcher explode (`**a**a**a`, `*a*a*a`, `**` then `/`
 * repeated): every path to acceptance passes through every token, so
 * - an active `**` (it never leaves) covers every thread at an earlier token;
 * - an active `**` then `/` loop after a `/` token covers the earlier threads too, as they can
 *   only reach it just after a `/`, where the loop reaches the next token itself;
 * - an active `*` covers earlier threads that can't take a `/` before reaching it, as it stays
 *   active until a `/`.
 *
 * Each set reached is cached with its transitions (a lazy DFA, as RE2 does), so a path costs
 * a lookup per character once the pattern's sets are known; the cache is dropped when the
 * budget's room for it runs out, and the state visits of uncached steps are counted.
 */
export class Nfa {
  private readonly budget: GlobBudget;
  private cache = new Map<string, DState>();
  private cacheGeneration = 1;
  private cachedHere = 0;
  private start: DState | null = null;
  private readonly tokens: Token[];
  private readonly kind: Uint8Array;
  private readonly code: Int32Array;
  private readonly accept: number;
  /** How many tokens that can take a `/` come before each token. */
  private readonly group: Int32Array;
  /** For a `**` then `/` token: whether its loop covers earlier threads. */
  private readonly absorbs: Uint8Array;
  private readonly mark: Uint32Array;
  private readonly starStamp: Uint32Array;
  private readonly starMax: Int32Array;
  private generation = 0;
  private readonly next: Int32Array;
  private nextSize = 0;
  private acceptNext = false;

  constructor(tokens: Token[], budget: GlobBudget) {
    this.budget = budget;
    this.tokens = tokens;
    const n = tokens.length;
    this.accept = n;
    this.kind = Uint8Array.from(tokens, (t) => t.kind);
    this.code = Int32Array.from(tokens, (t) => t.code);
    this.group = new Int32Array(n + 1);
    this.absorbs = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const t = tokens[i]!;
      this.group[i + 1] = this.group[i]! + (canTakeSlash(t) ? 1 : 0);
      const before = tokens[i - 1];
      this.absorbs[i] = t.kind === DIRS && (i === 0 || (before!.kind === LIT && before!.code === SLASH)) ? 1 : 0;
    }
    const states = 2 * n + 2;
    this.mark = new Uint32Array(states);
    this.starStamp = new Uint32Array(n + 2);
    this.starMax = new Int32Array(n + 2);
    this.next = new Int32Array(states);
  }

  matchesOrParent(path: string): boolean {
    if (!this.start || this.start.generation !== this.cacheGeneration) {
      this.begin();
      this.add(0);
      this.start = this.intern();
    }
    let d: DState = this.start;
    let steps = 0;
    for (let pos = 0; ; pos++) {
      const c = pos < path.length ? path.charCodeAt(pos) : -1;
      if (pos > 0 && (c === -1 || c === SLASH) && d.accept) return true;
      if (c === -1 || d.states.length === 0) return false;
      let nd: DState | undefined = c < 128 ? d.ascii?.[c] : d.next?.get(c);
      if (!nd) {
        // Stepping and interning the set each cost about its size.
        steps += 2 * d.states.length + 1;
        this.budget.steps += 2 * d.states.length + 1;
        if (steps > MAX_GLOB_STEPS || this.budget.steps > this.budget.maxSteps) {
          throw new GlobCostError(`matching it against \`${path.slice(0, 100)}\` takes too long`);
        }
        nd = this.transition(d, c);
      }
      d = nd;
    }
  }

  private transition(d: DState, c: number): DState {
    this.begin();
    for (let k = 0; k < d.states.length; k++) this.step(d.states[k]!, c);
    this.prune();
    const nd = this.intern();
    if (d.generation === this.cacheGeneration && nd.generation === this.cacheGeneration) {
      if (c < 128) {
        if (!d.ascii) this.charge(128);
        (d.ascii ??= new Array<DState | undefined>(128))[c] = nd;
      } else {
        (d.next ??= new Map()).set(c, nd);
        this.charge(4);
      }
    }
    return nd;
  }

  /** The cached state for the set just built, or a new one, cached while the budget has room. */
  private intern(): DState {
    const states = this.next.slice(0, this.nextSize).sort();
    const key = (this.acceptNext ? "+" : "-") + states.join(",");
    const known = this.cache.get(key);
    if (known) return known;
    const cost = states.length + DSTATE_OVERHEAD;
    if (this.budget.cached + cost > this.budget.maxCached) this.flush();
    const d: DState = { states, accept: this.acceptNext, ascii: null, next: null, generation: 0 };
    if (this.budget.cached + cost <= this.budget.maxCached) {
      d.generation = this.cacheGeneration;
      this.cache.set(key, d);
      this.charge(cost);
    }
    return d;
  }

  private charge(cost: number): void {
    this.cachedHere += cost;
    this.budget.cached += cost;
  }

  private flush(): void {
    this.cache = new Map();
    this.cacheGeneration++;
    this.budget.cached -= this.cachedHere;
    this.cachedHere = 0;
  }

  private step(s: number, c: number): void {
    const n = this.accept;
    if (s > n) {
      // The loop of the `**` then `/` at token s-n-1.
      this.add(s);
      if (c === SLASH) this.add(s - n);
      return;
    }
    if (s === n) return;
    switch (this.kind[s]) {
      case LIT: if (c === this.code[s]) this.add(s + 1); break;
      case ONE: if (c !== SLASH) this.add(s + 1); break;
      case CLASS: if (inClass(this.tokens[s]!, c)) this.add(s + 1); break;
      case STAR: if (c !== SLASH) this.add(s); break;
      case ANY: this.add(s); break;
      // The entry of `**` then `/` consumes nothing: its loop state does.
    }
  }

  /** Adds a state to the next set, with every state it reaches without a character. */
  private add(s: number): void {
    const n = this.accept;
    for (;;) {
      if (this.mark[s] === this.generation) return;
      this.mark[s] = this.generation;
      if (s === n) {
        this.acceptNext = true;
        return;
      }
      this.next[this.nextSize++] = s;
      if (s > n) return;
      const kind = this.kind[s];
      if (kind === DIRS) this.add(n + 1 + s);
      if (kind !== STAR && kind !== ANY && kind !== DIRS) return;
      s++;
    }
  }

  private prune(): void {
    const n = this.accept;
    const gen = this.generation;
    let cutoff = 0;
    let stars = false;
    for (let k = 0; k < this.nextSize; k++) {
      const s = this.next[k]!;
      if (s > n) {
        if (this.absorbs[s - n - 1] && s - n - 1 > cutoff) cutoff = s - n - 1;
        continue;
      }
      const kind = this.kind[s];
      if (kind === ANY && s > cutoff) cutoff = s;
      else if (kind === STAR) {
        const g = this.group[s]!;
        if (this.starStamp[g] !== gen || this.starMax[g]! < s) {
          this.starStamp[g] = gen;
          this.starMax[g] = s;
        }
        stars = true;
      }
    }
    if (cutoff === 0 && !stars) return;
    let kept = 0;
    for (let k = 0; k < this.nextSize; k++) {
      const s = this.next[k]!;
      const ti = s > n ? s - n - 1 : s;
      if (ti < cutoff) continue;
      if (stars && s < n) {
        const g = this.group[s]!;
        if (this.starStamp[g] === gen && s < this.starMax[g]!) continue;
      }
      this.next[kept++] = s;
    }
    this.nextSize = kept;
  }

  private begin(): void {
    this.nextSize = 0;
    this.acceptNext = false;
    if (++this.generation === 0xffffffff) {
      this.mark.fill(0);
      this.starStamp.fill(0);
      this.generation = 1;
    }
  }
}
