import type { MemberEntry } from './membership-view.js';
import type { DigestEntry } from './view-digest.js';

/**
 * The byte budget of one message (`messageBudgetBytes`), as every message builder spends it:
 * piggybacked changes on probes and acks, digests and deltas of sync legs. Like chitchat's
 * delta serializer, a builder asks before it adds an item and stops or skips when the item
 * would not fit, so what does not fit waits for a later message.
 */
export class MessageBudget {
  /**
   * @param limit bytes the message may take
   * @param used bytes already taken by the message's fixed parts (its envelope)
   */
  constructor(
    readonly limit: number,
    private spent = 0,
  ) {}

  get used(): number {
    return this.spent;
  }

  /** Bytes still free (0 when overdrawn). */
  get left(): number {
    return Math.max(0, this.limit - this.spent);
  }

  /** Whether `bytes` more would still fit. */
  fits(bytes: number): boolean {
    return this.spent + bytes <= this.limit;
  }

  /** Takes `bytes` when they fit; false (nothing taken) when they do not. */
  take(bytes: number): boolean {
    if (!this.fits(bytes)) return false;
    this.spent += bytes;
    return true;
  }

  /** Takes `bytes` whether or not they fit (an item that must go, such as the first one). */
  add(bytes: number): void {
    this.spent += bytes;
  }
}

/**
 * Bytes of an entry's wire form with its separating comma:
 * {"baseUrl":"…","monitor":false,"lastUpdate":…,"by":"…"}. Normal-form URLs are ASCII.
 */
export function entrySize(e: MemberEntry): number {
  return e.baseUrl.length + String(e.lastUpdate).length + (e.monitor ? 44 : 45) + (e.by ? e.by.length + 8 : 0) + (e.generation ? String(e.generation).length + 14 : 0);
}

/** Bytes of a digest entry on the wire, with room for its separators. */
export function digestEntrySize(d: DigestEntry): number {
  return d[0].length + 40;
}
