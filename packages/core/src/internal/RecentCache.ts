/**
 * A map of what was looked up recently, bounded in memory: two generations of at most `limit`
 * entries each. When the young one is full it becomes the old one (the older one is dropped); a
 * hit in the old one moves the entry back to the young one. A working set of up to `limit` keys
 * always hits, unlike a map that is cleared when full (which misses every key of a working set
 * just larger than it, over and over).
 * @internal
 */
export class RecentCache<K, V> {
  #young = new Map<K, V>();
  #old = new Map<K, V>();

  constructor(readonly limit: number) {}

  get(key: K): V | undefined {
    const value = this.#young.get(key);
    if (value !== undefined || this.#old.size === 0) return value;
    const old = this.#old.get(key);
    if (old !== undefined) this.set(key, old);
    return old;
  }

  set(key: K, value: V): void {
    if (this.#young.size >= this.limit) {
      this.#old = this.#young;
      this.#young = new Map();
    }
    this.#young.set(key, value);
  }

  /** Forgets every entry (what it caches changed). */
  clear(): void {
    this.#young = new Map();
    this.#old = new Map();
  }
}
