import type { GossipServer, ServerList } from './types.js';
import { leafOf } from './hash.js';
import { DIGEST_BUCKETS, ViewDigest } from './view-digest.js';

/** One entry of the view: the wire's GossipServer plus its state. */
export interface MemberEntry extends GossipServer {
  online: boolean;
  /** Online but suspected of having failed (meaningful only when `online`). */
  suspect?: boolean;
}

/** A member's state: `alive`, `suspect` (stopped answering probes, still a member), or `offline`. */
export type MemberState = 'alive' | 'suspect' | 'offline';

export function stateOf(entry: MemberEntry): MemberState {
  return !entry.online ? 'offline' : entry.suspect ? 'suspect' : 'alive';
}

/**
 * - `joined`: a server not in the view appeared (in any state; see `server`)
 * - `suspect`: a live server is suspected of having failed
 * - `offline`: a server went offline (it left, was taken offline, or was declared failed)
 * - `online`: a server is alive again (came back, or refuted a suspicion)
 * - `removed`: an entry was dropped after the retention period
 */
export type MembershipChangeType = 'joined' | 'suspect' | 'offline' | 'online' | 'removed';

/** One transition of a server in this server's view, as `ClusterService.changes$` emits it. */
export interface MembershipChange {
  type: MembershipChangeType;
  server: MemberEntry;
  /** State before the change (absent for `joined`). */
  previous?: MemberState;
  /** Why, in words: "left", "failed: detected by …", "refuted a suspicion", "expired after 24 h"… */
  reason: string;
}

const RANK: Record<MemberState, number> = { alive: 0, suspect: 1, offline: 2 };

/** 0 alive, 1 suspect, 2 offline: how digests name an entry's state. */
export function rankOf(entry: MemberEntry): number {
  return RANK[stateOf(entry)];
}

/**
 * The total order that decides which of two entries for one server wins, memberlist's
 * (incarnation, state) order with stamps as incarnations: the later stamp; on equal stamps
 * offline beats suspect beats alive (the cautious answer), then monitor beats non-monitor,
 * then the server's own word beats a declaration by another (a leave is final against any
 * failure declaration about the same incarnation), then the declaring server's URL, then the
 * generation. A declaration carries the stamp of the entry it declares about (see
 * Membership.declare), so only a newer word from the server itself outranks it. Because it is
 * a total order, merging is a join: commutative, associative and idempotent.
 */
export function compareEntries(a: MemberEntry, b: MemberEntry): number {
  if (a.lastUpdate !== b.lastUpdate) return a.lastUpdate < b.lastUpdate ? -1 : 1;
  const rank = RANK[stateOf(a)] - RANK[stateOf(b)];
  if (rank !== 0) return rank < 0 ? -1 : 1;
  if (a.monitor !== b.monitor) return a.monitor ? 1 : -1;
  if (!a.by !== !b.by) return a.by ? -1 : 1;
  if (a.by !== b.by) return a.by! < b.by! ? -1 : 1;
  const ga = a.generation ?? 0;
  const gb = b.generation ?? 0;
  return ga === gb ? 0 : ga < gb ? -1 : 1;
}

export function describeChange(entry: MemberEntry, previous: MemberState | undefined): MembershipChange {
  const state = stateOf(entry);
  const server = { ...entry };
  if (!previous) return { type: 'joined', server, reason: `discovered (${state})` };
  if (state === 'offline') return { type: 'offline', server, previous, reason: entry.by ? `failed: declared by ${entry.by}` : 'left' };
  if (state === 'suspect') return { type: 'suspect', server, previous, reason: `suspected by ${entry.by ?? 'a peer'}` };
  return { type: 'online', server, previous, reason: previous === 'suspect' ? 'refuted a suspicion' : 'came back' };
}

/** The membership view keyed by normalised base URL. It applies the join; policy lives in the engine. */
export class MembershipView {
  private readonly entries = new Map<string, MemberEntry>();
  /** The view's hash, kept current on every change (see ViewDigest). */
  readonly digest = new ViewDigest();
  /** Servers per digest bucket. */
  private readonly bucketSizes = new Int32Array(DIGEST_BUCKETS);

  /**
   * `share`, when given, maps a stored entry to a canonical frozen equal one: a simulator of
   * thousands of servers passes one table to every view, so each version of an entry exists
   * once in memory instead of once per view.
   */
  constructor(private readonly share?: (entry: MemberEntry) => MemberEntry) {}

  get size(): number {
    return this.entries.size;
  }

  /** How many servers of the view fall in a digest bucket. */
  bucketSize(bucket: number): number {
    return this.bucketSizes[bucket];
  }

  get(baseUrl: string): MemberEntry | undefined {
    return this.entries.get(baseUrl);
  }

  keys(): IterableIterator<string> {
    return this.entries.keys();
  }

  values(): IterableIterator<MemberEntry> {
    return this.entries.values();
  }

  /**
   * Sets an entry unconditionally (the server's own entry, which only it decides). Stored
   * entries are never mutated, so a frozen entry is kept as it is: a simulator can share one
   * object among thousands of views.
   */
  set(entry: MemberEntry): void {
    this.replace(this.entries.get(entry.baseUrl), Object.isFrozen(entry) ? entry : this.stored(entry));
  }

  /**
   * Keeps whichever of the current and incoming entry wins. Returns `null` when the current
   * one won; otherwise the previous state (`undefined` when the server is new).
   */
  merge(incoming: MemberEntry): { previous: MemberState | undefined; entry: MemberEntry } | null {
    const current = this.entries.get(incoming.baseUrl);
    if (current && compareEntries(incoming, current) <= 0) return null;
    const entry = this.stored(incoming);
    this.replace(current, entry);
    return { previous: current && stateOf(current), entry };
  }

  remove(baseUrl: string): MemberEntry | null {
    const current = this.entries.get(baseUrl);
    if (!current) return null;
    this.entries.delete(baseUrl);
    this.bucketSizes[leafOf(baseUrl) >>> 6]--;
    this.digest.toggleMember(baseUrl, current.lastUpdate, rankOf(current), Object.isFrozen(current) ? current : undefined);
    return current;
  }

  private stored(entry: MemberEntry): MemberEntry {
    return this.share ? this.share(copy(entry)) : copy(entry);
  }

  private replace(current: MemberEntry | undefined, entry: MemberEntry): void {
    if (current) this.digest.toggleMember(current.baseUrl, current.lastUpdate, rankOf(current), Object.isFrozen(current) ? current : undefined);
    else this.bucketSizes[leafOf(entry.baseUrl) >>> 6]++;
    this.entries.set(entry.baseUrl, entry);
    this.digest.toggleMember(entry.baseUrl, entry.lastUpdate, rankOf(entry), Object.isFrozen(entry) ? entry : undefined);
  }

  /** The wire form. `sorted` orders each list by base URL so equal views serialise equally. */
  toServerList(sorted = true): ServerList {
    const online: GossipServer[] = [];
    const offline: GossipServer[] = [];
    const suspect: GossipServer[] = [];
    let all = [...this.entries.values()];
    if (sorted) all = all.sort((a, b) => (a.baseUrl < b.baseUrl ? -1 : a.baseUrl > b.baseUrl ? 1 : 0));
    for (const entry of all) {
      const state = stateOf(entry);
      (state === 'alive' ? online : state === 'offline' ? offline : suspect).push(toWire(entry));
    }
    return suspect.length ? { online, offline, suspect } : { online, offline };
  }
}

function copy(entry: MemberEntry): MemberEntry {
  const out: MemberEntry = { baseUrl: entry.baseUrl, monitor: entry.monitor, lastUpdate: entry.lastUpdate, online: entry.online };
  if (entry.online && entry.suspect) out.suspect = true;
  if (entry.by && (!entry.online || entry.suspect)) out.by = entry.by;
  if (entry.generation) out.generation = entry.generation;
  return out;
}

export function toWire(entry: MemberEntry): GossipServer {
  const wire: GossipServer = { baseUrl: entry.baseUrl, monitor: entry.monitor, lastUpdate: entry.lastUpdate };
  if (entry.by && (!entry.online || entry.suspect)) wire.by = entry.by;
  if (entry.generation) wire.generation = entry.generation;
  return wire;
}

/** Flattens a wire list into entries. */
export function entriesOf(list: ServerList): MemberEntry[] {
  const out: MemberEntry[] = [];
  const add = (servers: GossipServer[] | undefined, online: boolean, suspect: boolean) => {
    if (!Array.isArray(servers)) return;
    for (const s of servers) {
      const entry: MemberEntry = { baseUrl: s?.baseUrl, monitor: s?.monitor, lastUpdate: s?.lastUpdate, online };
      if (suspect) entry.suspect = true;
      if (s?.by !== undefined) entry.by = s.by;
      if (s?.generation !== undefined) entry.generation = s.generation;
      out.push(entry);
    }
  };
  add(list.online, true, false);
  add(list.suspect, true, true);
  add(list.offline, false, false);
  return out;
}
