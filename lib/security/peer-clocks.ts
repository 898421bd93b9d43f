/**
 * How far each peer's clock is from ours, learned from the `ts` of its signed replies (the
 * midpoint estimate of NTP's on-wire exchange, RFC 5905 section 8, with one sample: the error is
 * at most half the round trip). Requests to a peer are stamped on its clock, so that a peer
 * that refuses requests signed before it started (replay protection across restarts) still
 * accepts ours at once when our clock is behind its own.
 */
export class PeerClocks {
  private readonly offsets = new Map<string, number>();

  /** @param maxPeers most peers remembered; the least recently heard from is forgotten first. */
  constructor(private readonly maxPeers = 10_000) {}

  /** Ms to add to our clock to get `peer`'s (0 until it has answered). */
  offset(peer: string): number {
    return this.offsets.get(peer) ?? 0;
  }

  /** A signed reply from `peer` stamped `peerTs`, to a request sent at `sentAt` and answered at `receivedAt` (our clock). */
  observe(peer: string, peerTs: number, sentAt: number, receivedAt: number): void {
    const offset = Math.round(peerTs - (sentAt + receivedAt) / 2);
    if (!Number.isSafeInteger(offset)) return;
    this.offsets.delete(peer);
    this.offsets.set(peer, offset);
    if (this.offsets.size > this.maxPeers) this.offsets.delete(this.offsets.keys().next().value as string);
  }
}
