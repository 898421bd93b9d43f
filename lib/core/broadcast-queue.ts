import type { MemberEntry } from './membership-view.js';

/**
 * Recent changes waiting to ride on probes and acks (SWIM's piggybacking). One item per
 * server (a newer change replaces an older one); each is sent `limit` times, least-sent first,
 * so a change reaches everyone in O(log N) probe intervals without full-view exchanges.
 */
export class BroadcastQueue {
  private readonly items = new Map<string, { entry: MemberEntry; sent: number }>();

  get size(): number {
    return this.items.size;
  }

  enqueue(entry: MemberEntry): void {
    this.items.set(entry.baseUrl, { entry: { ...entry }, sent: 0 });
  }

  /** Up to `max` entries, least-sent first (ties at random); drops those sent `limit` times. */
  take(max: number, limit: number, random: () => number): MemberEntry[] {
    if (max <= 0 || this.items.size === 0) return [];
    const ranked = [...this.items.values()].map((item) => ({ item, tie: random() })).sort((a, b) => a.item.sent - b.item.sent || a.tie - b.tie);
    const chosen = ranked.slice(0, max).map(({ item }) => item);
    for (const item of chosen) {
      item.sent++;
      if (item.sent >= limit) this.items.delete(item.entry.baseUrl);
    }
    return chosen.map((item) => ({ ...item.entry }));
  }
}
