import type { EngineLifecycleEvent } from './engine-lifecycle.js';
import { notifyAll, type EngineLog } from './engine-log.js';
import type { MembershipChange } from './membership-view.js';
import { RendezvousTable } from './rendezvous-hash.js';
import type { ServerList } from './types.js';

/** A change of the eligible member set (see KeyOwnership.onChange). */
export interface OwnershipChange {
  /** The new set's fingerprint (see KeyOwnership.viewId). */
  viewId: string;
  /** Members that became eligible (base URLs, sorted). */
  added: string[];
  /** Members that stopped being eligible (base URLs, sorted). */
  removed: string[];
}

/** What key ownership reads from the engine: its public view and events, nothing of its units' state. */
export interface OwnershipSource {
  readonly settings: { readonly selfUrl: string };
  snapshot(sorted?: boolean): ServerList;
  onChange(listener: (change: MembershipChange) => void): () => void;
  onLifecycle(listener: (event: EngineLifecycleEvent) => void): () => void;
}

/**
 * Who owns a key: rendezvous hashing (see RendezvousTable) over the eligible members, the
 * online and suspect ones. A suspect keeps its keys until it is declared offline (ringpop keeps
 * suspects in its ring likewise), so a slow probe does not move keys back and forth; a server
 * that left, was taken offline by control or was declared offline owns nothing.
 *
 * Built from the engine's membership events: the table is rebuilt only when the eligible set
 * changes, so a lookup is one key hash and N score mixes, with no allocation.
 */
export class KeyOwnership {
  private eligible = new Set<string>();
  private table = new RendezvousTable([]);
  private readonly listeners = new Set<(change: OwnershipChange) => void>();
  private readonly unsubscribe: (() => void)[];

  constructor(
    private readonly engine: OwnershipSource,
    private readonly log?: EngineLog,
  ) {
    this.unsubscribe = [engine.onChange((change) => this.apply(change)), engine.onLifecycle(() => this.refresh())];
    this.refresh();
  }

  /** This server's base URL. */
  get selfUrl(): string {
    return this.engine.settings.selfUrl;
  }

  /** The owner's base URL, or undefined while no member is eligible. */
  owner(key: string): string | undefined {
    return this.table.owner(key);
  }

  /** The preference list: up to `n` base URLs, the owner first, then each one's successor. */
  owners(key: string, n: number): string[] {
    return this.table.owners(key, n);
  }

  /** Whether this server owns `key`. */
  isOwner(key: string): boolean {
    return this.table.owner(key) === this.engine.settings.selfUrl;
  }

  /** Whether a member is eligible (online or suspect) in this view. */
  isEligible(baseUrl: string): boolean {
    return this.table.has(baseUrl);
  }

  /** The eligible members, sorted by URL. */
  members(): readonly string[] {
    return this.table.members;
  }

  /** A 12-hex-digit fingerprint of the eligible set: equal on servers whose sets are equal. */
  viewId(): string {
    return this.table.viewId();
  }

  /** Called on every change of the eligible set, with no debounce. Returns an unsubscribe function. */
  onChange(listener: (change: OwnershipChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Rebuilds the eligible set from the whole view (at start, after a preload; also safe at any time). */
  refresh(): void {
    const list = this.engine.snapshot(false);
    const next = new Set<string>();
    for (const s of list.online) next.add(s.baseUrl);
    for (const s of list.suspect ?? []) next.add(s.baseUrl);
    this.install(next);
  }

  /** Stops following the engine. */
  close(): void {
    for (const off of this.unsubscribe) off();
    this.listeners.clear();
  }

  private apply(change: MembershipChange): void {
    const url = change.server.baseUrl;
    const eligible = change.server.online === true && change.type !== 'removed';
    if (eligible === this.eligible.has(url)) return;
    const next = new Set(this.eligible);
    if (eligible) next.add(url);
    else next.delete(url);
    this.install(next);
  }

  private install(next: Set<string>): void {
    const added = [...next].filter((url) => !this.eligible.has(url)).sort();
    const removed = [...this.eligible].filter((url) => !next.has(url)).sort();
    if (!added.length && !removed.length) return;
    this.eligible = next;
    this.table = new RendezvousTable(next);
    notifyAll(this.listeners, [{ viewId: this.table.viewId(), added, removed }], 'ownership', this.log);
  }
}
