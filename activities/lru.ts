// A bound on the per-host resources a worker keeps open (SQL pools, SSH connections): a worker
// serving hundreds of clusters opens one per host on first use, and without a bound would hold
// them all forever. Least recently used first, idle ones only: a resource in use (a held
// connection, a running command, an open channel) is never closed, even when that leaves more
// open than the bound until one is done.
//
// Use is counted per key, not per value: it starts before the value exists (a connection being
// opened is in use) and a value replaced under the same key (a reconnect) inherits it.

export interface LruMapOptions<V> {
  /** At most this many values open while idle ones can be closed. */
  max: number;
  /** A value unused this long is closed by sweep(); absent: never for idleness. */
  idleMs?: number;
  /** Closes a value the map let go of (it is no longer in the map). */
  evict: (key: string, value: V, why: 'bound' | 'idle') => void;
  /** The clock, in ms; tests give their own. */
  now?: () => number;
}

export class LruMap<V> {
  /** Insertion order is recency order: a touched key is moved to the end. */
  private readonly values = new Map<string, V>();
  private readonly lastUsed = new Map<string, number>();
  private readonly uses = new Map<string, number>();
  private readonly now: () => number;

  constructor(private readonly opts: LruMapOptions<V>) {
    if (!Number.isInteger(opts.max) || opts.max < 1)
      throw new Error(`an LRU bound must be a whole number of at least 1, got ${opts.max}`);
    this.now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.values.size;
  }

  get(key: string): V | undefined {
    return this.values.get(key);
  }

  /** Adds or replaces the value (the key becomes the most recent), then keeps to the bound. */
  set(key: string, value: V): void {
    this.values.delete(key);
    this.values.set(key, value);
    this.lastUsed.set(key, this.now());
    this.shrink(key);
  }

  /** Forgets the key's value without closing it (the caller closed it, or it died). */
  delete(key: string): boolean {
    this.lastUsed.delete(key);
    return this.values.delete(key);
  }

  /** Every value, and the map emptied: the caller closes them. */
  drain(): V[] {
    const all = [...this.values.values()];
    this.values.clear();
    this.lastUsed.clear();
    return all;
  }

  /** True while something uses the key. */
  inUse(key: string): boolean {
    return (this.uses.get(key) ?? 0) > 0;
  }

  /**
   * Marks the key in use until the returned function is called (once; later calls do nothing).
   * Both ends count as a use for recency.
   */
  use(key: string): () => void {
    this.uses.set(key, (this.uses.get(key) ?? 0) + 1);
    this.touch(key);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const n = (this.uses.get(key) ?? 1) - 1;
      if (n > 0) this.uses.set(key, n);
      else this.uses.delete(key);
      this.touch(key);
      // A release can bring the map back under its bound: an idle value is closed now.
      this.shrink();
    };
  }

  /** Closes the values unused for idleMs or longer. */
  sweep(): void {
    const idleMs = this.opts.idleMs;
    if (idleMs === undefined) return;
    const now = this.now();
    for (const key of [...this.values.keys()])
      if (!this.inUse(key) && now - (this.lastUsed.get(key) ?? now) >= idleMs) this.evict(key, 'idle');
  }

  private touch(key: string): void {
    const v = this.values.get(key);
    if (v === undefined) return;
    this.values.delete(key);
    this.values.set(key, v);
    this.lastUsed.set(key, this.now());
  }

  /** Closes idle values, least recently used first, until the bound holds (or none is idle). */
  private shrink(keep?: string): void {
    for (const key of [...this.values.keys()]) {
      if (this.values.size <= this.opts.max) return;
      if (key !== keep && !this.inUse(key)) this.evict(key, 'bound');
    }
  }

  private evict(key: string, why: 'bound' | 'idle'): void {
    const v = this.values.get(key) as V;
    this.delete(key);
    this.opts.evict(key, v, why);
  }
}

/**
 * A limit from the environment (SUCCESSOVER_SQL_POOLS_MAX ...): the default when unset, a clear
 * error naming the variable when it is not a whole number of at least `min`.
 */
export function limitFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 1): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min)
    throw new Error(
      `${name}: expected a whole number of at least ${min}, got ${JSON.stringify(raw)}: fix or unset it (default ${fallback})`,
    );
  return n;
}

/** How often to sweep: soon after idleMs has passed, rarely enough to cost nothing. */
export function sweepEvery(idleMs: number): number {
  return Math.min(Math.max(Math.floor(idleMs / 4), 100), 60_000);
}
