// A Map bounded by entry count and by total weight (e.g. characters held): what a long-running server may
// cache per client-chosen key without its memory growing with the number of distinct keys.
export class Lru<K, V> {
  private map = new Map<K, { value: V; weight: number; at: number }>();
  private total = 0;
  /** Counts insertions and refreshes: an entry's `at` says how far from the newest end of the order it may be. */
  private tick = 0;

  constructor(
    private maxEntries: number, private maxWeight = Infinity, private weigh: (value: V) => number = () => 0,
    /** Called for each entry pushed out by the bounds (not for delete or clear): what frees a value held elsewhere. */
    private evicted?: (key: K, value: V) => void,
  ) {}

  get size(): number { return this.map.size; }
  get weight(): number { return this.total; }

  /**
   * The value, now among the most recently used. An entry is moved to the newest end only once it may have fallen
   * into the older half of the entries (as many moves since its last as half the entries held): a hot entry read on
   * every request costs no Map delete and insert each time, and still never reaches the eviction end while it is used.
   */
  get(key: K): V | undefined {
    const e = this.map.get(key);
    if (!e) return undefined;
    if (this.tick - e.at >= this.map.size / 2) {
      this.map.delete(key);
      e.at = ++this.tick;
      this.map.set(key, e);
    }
    return e.value;
  }

  /** The value, without refreshing it (Map order stays insertion order, so eviction is oldest first). */
  peek(key: K): V | undefined { return this.map.get(key)?.value; }

  /** Stores the value, evicting the least recently used until within bounds; a value heavier than the whole budget is not kept. */
  set(key: K, value: V): void {
    this.delete(key);
    const weight = this.weigh(value);
    if (weight > this.maxWeight) return;
    this.map.set(key, { value, weight, at: ++this.tick });
    this.total += weight;
    while (this.map.size > this.maxEntries || this.total > this.maxWeight) {
      const [k, e] = this.map.entries().next().value as [K, { value: V }];
      this.delete(k);
      this.evicted?.(k, e.value);
    }
  }

  delete(key: K): boolean {
    const e = this.map.get(key);
    if (!e) return false;
    this.map.delete(key);
    this.total -= e.weight;
    return true;
  }

  clear(): void { this.map.clear(); this.total = 0; }

  /** The least recently used entry. */
  oldest(): [K, V] | undefined {
    const first = this.map.entries().next();
    return first.done ? undefined : [first.value[0], first.value[1].value];
  }
}
