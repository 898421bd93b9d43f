/**
 * The nonces of accepted requests, each held until its request could no longer pass the time
 * window, in buckets by expiry time (a timing wheel, as in Varghese and Lauck, "Hashed and
 * Hierarchical Timing Wheels", 1987):
 *
 * - a nonce's bucket follows from its request's timestamp, which the signature covers, so a
 *   replay (same timestamp, same nonce) always looks in the one bucket the original went to:
 *   one lookup, whatever the cache holds;
 * - expiry drops whole buckets once their last moment has passed: no walk over nonces, and a
 *   request stamped far ahead sits in a late bucket of its own without holding up the others;
 * - at `capacity` nonces the cache refuses to take more (`add` answers 'full') rather than
 *   forget one that has not expired, which would let its request be replayed.
 */
export class NonceCache {
  private readonly buckets = new Map<number, Set<string>>();
  private held = 0;
  /** When the earliest bucket expires (ms); nothing to drop before then. */
  private nextExpiry = Infinity;

  /**
   * @param bucketMs width of a bucket in ms: a nonce is held up to this long past its expiry.
   * @param capacity most nonces held.
   */
  constructor(
    private readonly bucketMs: number,
    readonly capacity: number,
  ) {
    if (!(bucketMs > 0) || !(capacity > 0)) throw new RangeError('NonceCache needs a positive bucket width and capacity');
  }

  /** Nonces held. */
  get size(): number {
    return this.held;
  }

  /** Ms from `now` until the earliest bucket expires and frees room (0 when nothing is held). */
  msUntilRoom(now: number): number {
    return this.nextExpiry === Infinity ? 0 : Math.max(0, this.nextExpiry - now);
  }

  /**
   * Records `nonce`, valid until `expiresAt` (ms). 'seen': it is already held for that time
   * (a replay); 'full': not recorded, the cache is at capacity; 'added' otherwise.
   */
  add(nonce: string, expiresAt: number, now: number): 'added' | 'seen' | 'full' {
    if (now >= this.nextExpiry) this.expire(now);
    const index = Math.floor(expiresAt / this.bucketMs);
    let bucket = this.buckets.get(index);
    if (bucket?.has(nonce)) return 'seen';
    if (this.held >= this.capacity) return 'full';
    if (!bucket) {
      bucket = new Set();
      this.buckets.set(index, bucket);
      this.nextExpiry = Math.min(this.nextExpiry, (index + 1) * this.bucketMs);
    }
    // a copy of its own: the nonce is cut from the request's header, and a cut string keeps the
    // whole header alive for as long as the cache holds it (about twice the memory)
    bucket.add(Buffer.from(nonce, 'latin1').toString('latin1'));
    this.held++;
    return 'added';
  }

  /** Drops every bucket whose whole range lies before `now`: O(buckets), about two windows' worth. */
  private expire(now: number): void {
    let next = Infinity;
    for (const [index, bucket] of this.buckets) {
      const end = (index + 1) * this.bucketMs;
      if (end <= now) {
        this.held -= bucket.size;
        this.buckets.delete(index);
      } else if (end < next) next = end;
    }
    this.nextExpiry = next;
  }
}
