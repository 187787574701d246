/** A small cache of answers that go stale: bounded by count (oldest out first) and by age. */
export class TtlCache<T> {
  private readonly ttlMs: number;
  private readonly max: number;
  private readonly entries = new Map<string, { at: number; value: Promise<T> }>();

  constructor(ttlMs: number, max: number) {
    this.ttlMs = ttlMs;
    this.max = max;
  }

  /** A failed load is not kept: the next call asks again. */
  get(key: string, load: () => Promise<T>, now = Date.now()): Promise<T> {
    const hit = this.entries.get(key);
    if (hit && now - hit.at < this.ttlMs) return hit.value;
    this.entries.delete(key);
    while (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value!);
    const value = load();
    this.entries.set(key, { at: now, value });
    value.catch(() => this.entries.get(key)?.value === value && this.entries.delete(key));
    return value;
  }
}
