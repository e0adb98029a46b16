/**
 * Amortised expiry for in-memory maps: each call looks at a few entries from a cursor that walks the map in
 * insertion order (roughly expiry order), so memory stays bounded without O(n) pauses.
 */
export class IncrementalSweeper<K, V> {
  private cursor: Iterator<[K, V]> | undefined;

  constructor(private readonly map: Map<K, V>, private readonly expired: (v: V) => boolean, private readonly perCall = 4) {}

  /** Examines up to `perCall` entries and deletes the expired ones (optionally calling `onDelete`). */
  step(onDelete?: (k: K, v: V) => void): void {
    for (let i = 0; i < this.perCall; i++) {
      this.cursor ??= this.map.entries();
      const n = this.cursor.next();
      if (n.done) { this.cursor = undefined; return; }
      const [k, v] = n.value;
      if (this.expired(v)) {
        this.map.delete(k);
        onDelete?.(k, v);
      }
    }
  }
}
