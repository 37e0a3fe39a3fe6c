/** Deletions between renewals at the least: a small map is copied at most once per this many. */
const MIN_DELETES_PER_RENEWAL = 256;

/**
 * A `Map` for entries that come and go all the time and lead to much else (the virtual clock's
 * timers, the wait-for graph's task nodes): it replaces its map by a copy once as many entries were
 * deleted since the last copy as it holds (at least 256), so a copy costs O(1) per deletion.
 *
 * Why: when V8 rebuilds a map's hash table (it fills up with deleted entries, grows or shrinks), the
 * old table keeps its entries and a pointer to the new one (for iterators still walking it). Once
 * one table of a busy map has lived long enough to be promoted to the old generation, that table,
 * garbage but old, keeps every later table alive until the next full collection, and with them
 * every value they held: the young-generation collector copies and promotes them all, values deleted
 * long ago included. A copy starts a chain of its own, and the old map's chain is garbage at once.
 * In a simulation, the virtual clock's timers (closures holding promises that hold task functions'
 * frames) made about a third of all the young collector copied. The wrapper costs a little on every
 * call: maps whose values lead nowhere (counts, small records) stay plain `Map`s.
 *
 * @internal
 */
export class ChurnMap<K, V> {
  #map = new Map<K, V>();
  #deletes = 0;

  get size(): number {
    return this.#map.size;
  }

  get(key: K): V | undefined {
    return this.#map.get(key);
  }

  has(key: K): boolean {
    return this.#map.has(key);
  }

  set(key: K, value: V): this {
    this.#map.set(key, value);
    return this;
  }

  /** Deletes `key`; returns whether it was there. */
  delete(key: K): boolean {
    if (!this.#map.delete(key)) return false;
    if (++this.#deletes >= MIN_DELETES_PER_RENEWAL && this.#deletes >= this.#map.size) {
      this.#deletes = 0;
      this.#map = new Map(this.#map);
    }
    return true;
  }

  /** The values in insertion order (a copy keeps the order). */
  values(): IterableIterator<V> {
    return this.#map.values();
  }

  keys(): IterableIterator<K> {
    return this.#map.keys();
  }

  entries(): IterableIterator<[K, V]> {
    return this.#map.entries();
  }

  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.#map.entries();
  }
}
