import type { MemberEntry } from './membership-view.js';

/**
 * Recent changes waiting to ride on probes and acks (SWIM's piggybacking). One item per
 * server (a newer change replaces an older one); each is sent `limit` times, least-sent first
 * and, among equals, newest first (as memberlist's TransmitLimitedQueue), so fresh news is
 * never stuck behind a backlog and reaches everyone in O(log N) probe intervals.
 */
export class BroadcastQueue {
  private readonly items = new Map<string, { entry: MemberEntry; sent: number; seq: number }>();
  private seq = 0;

  get size(): number {
    return this.items.size;
  }

  enqueue(entry: MemberEntry): void {
    this.items.set(entry.baseUrl, { entry: { ...entry }, sent: 0, seq: this.seq++ });
  }

  /** Up to `max` entries, least-sent first, newest first among equals; drops those sent `limit` times. */
  take(max: number, limit: number): MemberEntry[] {
    if (max <= 0 || this.items.size === 0) return [];
    const chosen = [...this.items.values()].sort((a, b) => a.sent - b.sent || b.seq - a.seq).slice(0, max);
    for (const item of chosen) {
      item.sent++;
      if (item.sent >= limit) this.items.delete(item.entry.baseUrl);
    }
    return chosen.map((item) => ({ ...item.entry }));
  }
}
