/**
 * Recent changes waiting to ride on probes and acks (SWIM's piggybacking). One item per key
 * (a server; a newer change replaces an older one); each is sent `limit` times, least-sent
 * first and, among equals, newest first (as memberlist's TransmitLimitedQueue), so fresh news
 * is never stuck behind a backlog and reaches everyone in O(log N) probe intervals.
 */
export class BroadcastQueue<T> {
  private readonly items = new Map<string, { item: T; sent: number; seq: number }>();
  private seq = 0;

  get size(): number {
    return this.items.size;
  }

  /** The item waiting under `key`, if any (to merge a newer change into it). */
  peek(key: string): T | undefined {
    return this.items.get(key)?.item;
  }

  enqueue(key: string, item: T): void {
    this.items.set(key, { item, sent: 0, seq: this.seq++ });
  }

  /**
   * Up to `max` items, least-sent first, newest first among equals; drops those sent `limit`
   * times. With `fits`, items it refuses (too big for what is left of a message) are skipped
   * and stay queued.
   */
  take(max: number, limit: number, fits: (item: T) => boolean = () => true): T[] {
    if (max <= 0 || this.items.size === 0) return [];
    const ordered = [...this.items.entries()].sort((a, b) => a[1].sent - b[1].sent || b[1].seq - a[1].seq);
    const out: T[] = [];
    for (const [key, queued] of ordered) {
      if (out.length >= max) break;
      if (!fits(queued.item)) continue;
      queued.sent++;
      if (queued.sent >= limit) this.items.delete(key);
      out.push(queued.item);
    }
    return out;
  }
}
