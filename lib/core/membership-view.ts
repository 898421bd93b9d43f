import type { GossipServer, ServerList } from './types.js';

/** One entry of the view: the wire's GossipServer plus which list it sits in. */
export interface MemberEntry extends GossipServer {
  online: boolean;
}

/**
 * - `joined`: a server not in the view appeared (online or offline; see `server.online`)
 * - `offline`: a known server went from online to offline
 * - `online`: a known server came back from offline
 * - `removed`: an entry was dropped after the retention period
 */
export type MembershipChangeType = 'joined' | 'offline' | 'online' | 'removed';

export interface MembershipChange {
  type: MembershipChangeType;
  server: MemberEntry;
}

/**
 * The total order that decides which of two entries for one server wins: the later stamp;
 * on equal stamps offline beats online (the cautious answer), then monitor beats non-monitor.
 * Because it is a total order, merging is a join: commutative, associative and idempotent.
 */
export function compareEntries(a: MemberEntry, b: MemberEntry): number {
  if (a.lastUpdate !== b.lastUpdate) return a.lastUpdate < b.lastUpdate ? -1 : 1;
  if (a.online !== b.online) return a.online ? -1 : 1;
  if (a.monitor !== b.monitor) return a.monitor ? 1 : -1;
  return 0;
}

/** The membership view keyed by normalised base URL. It applies the join; policy lives in the engine. */
export class MembershipView {
  private readonly entries = new Map<string, MemberEntry>();

  get size(): number {
    return this.entries.size;
  }

  get(baseUrl: string): MemberEntry | undefined {
    return this.entries.get(baseUrl);
  }

  values(): IterableIterator<MemberEntry> {
    return this.entries.values();
  }

  /** Sets an entry unconditionally (the server's own entry, which only it decides). */
  set(entry: MemberEntry): void {
    this.entries.set(entry.baseUrl, { ...entry });
  }

  /** Keeps whichever of the current and incoming entry wins; returns what changed, if anything. */
  merge(incoming: MemberEntry): MembershipChange | null {
    const current = this.entries.get(incoming.baseUrl);
    if (current && compareEntries(incoming, current) <= 0) return null;
    const entry = { ...incoming };
    this.entries.set(entry.baseUrl, entry);
    if (!current) return { type: 'joined', server: { ...entry } };
    if (current.online && !entry.online) return { type: 'offline', server: { ...entry } };
    if (!current.online && entry.online) return { type: 'online', server: { ...entry } };
    return null; // a newer stamp or a changed monitor flag: no membership transition
  }

  remove(baseUrl: string): MembershipChange | null {
    const current = this.entries.get(baseUrl);
    if (!current) return null;
    this.entries.delete(baseUrl);
    return { type: 'removed', server: { ...current } };
  }

  /** The page's wire form, each list sorted by base URL so equal views serialise equally. */
  toServerList(): ServerList {
    const online: GossipServer[] = [];
    const offline: GossipServer[] = [];
    const sorted = [...this.entries.values()].sort((a, b) => (a.baseUrl < b.baseUrl ? -1 : a.baseUrl > b.baseUrl ? 1 : 0));
    for (const { baseUrl, monitor, lastUpdate, online: isOnline } of sorted) {
      (isOnline ? online : offline).push({ baseUrl, monitor, lastUpdate });
    }
    return { online, offline };
  }
}

/** Flattens a wire list into entries (online list first, then offline). */
export function entriesOf(list: ServerList): MemberEntry[] {
  const out: MemberEntry[] = [];
  for (const s of list.online ?? []) out.push({ baseUrl: s.baseUrl, monitor: s.monitor, lastUpdate: s.lastUpdate, online: true });
  for (const s of list.offline ?? []) out.push({ baseUrl: s.baseUrl, monitor: s.monitor, lastUpdate: s.lastUpdate, online: false });
  return out;
}
