import { entriesOf, rankOf } from '../core/membership-view.js';
import type { GossipServer, ServerList } from '../core/types.js';
import { ViewDigest } from '../core/view-digest.js';
import { RefusedError } from './cli-errors.js';

/** A member's status as operators read it: `online`, `suspect` (still a member) or `offline`. */
export type MemberStatus = 'online' | 'suspect' | 'offline';
export const MEMBER_STATUSES: readonly MemberStatus[] = ['online', 'suspect', 'offline'];

/** One line of the members table (and one object of `members --format json`). */
export interface MemberRow {
  /** The member's base URL. */
  address: string;
  status: MemberStatus;
  monitor: boolean;
  /** Stamp of the entry's last change, ms since epoch (hybrid clock). */
  lastUpdate: number;
  /**
   * Suspect and offline entries: the server whose failure detector declared it, or `itself`
   * when it went offline by itself (shut down, drained). Absent on online entries.
   */
  declaredBy?: string;
  /** Keys of its key/value state as the asked server holds them; absent when unknown. */
  stateKeys?: number;
}

/** Every server's keys, as `GET <prefix>/state` answers. */
export type ClusterState = Record<string, Record<string, unknown>>;

/**
 * A `GET <prefix>/list` answer, checked: the CLI shows what servers send, so a server that
 * answers something else gets a clear error instead of a crash further on.
 * @throws RefusedError
 */
export function parseServerList(json: unknown, from: string): ServerList {
  const list = json as ServerList;
  const isEntries = (v: unknown) => v === undefined || (Array.isArray(v) && v.every((e: GossipServer) => typeof e?.baseUrl === 'string' && typeof e.lastUpdate === 'number'));
  if (typeof list !== 'object' || list === null || !Array.isArray(list.online) || !isEntries(list.online) || !isEntries(list.offline) || !isEntries(list.suspect)) {
    throw new RefusedError(`${from} answered its list with something that is not a server list`);
  }
  return list;
}

/** A `GET <prefix>/state` answer, checked. @throws RefusedError */
export function parseClusterState(json: unknown, from: string): ClusterState {
  if (typeof json !== 'object' || json === null || Array.isArray(json) || Object.values(json).some((v) => typeof v !== 'object' || v === null)) {
    throw new RefusedError(`${from} answered its state with something that is not every server's keys`);
  }
  return json as ClusterState;
}

/** The rows of a view, sorted by address; `state` adds the number of keys per member. */
export function memberRows(list: ServerList, state?: ClusterState): MemberRow[] {
  const rows: MemberRow[] = [];
  const add = (entries: GossipServer[] | undefined, status: MemberStatus) => {
    for (const e of entries ?? []) {
      const row: MemberRow = { address: e.baseUrl, status, monitor: e.monitor === true, lastUpdate: e.lastUpdate };
      if (status !== 'online') row.declaredBy = e.by ?? 'itself';
      if (state) row.stateKeys = Object.keys(state[e.baseUrl] ?? {}).length;
      rows.push(row);
    }
  };
  add(list.online, 'online');
  add(list.suspect, 'suspect');
  add(list.offline, 'offline');
  return rows.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
}

/** How many members are in each status. */
export function statusCounts(rows: MemberRow[]): Record<MemberStatus, number> {
  const counts = { online: 0, suspect: 0, offline: 0 };
  for (const r of rows) counts[r.status]++;
  return counts;
}

/**
 * A fingerprint of a server's membership view: 16 hex digits, equal on servers whose views
 * hold the same members with the same stamps and states, so a split shows as several values.
 * It is the root of the view digest servers compare in every sync (`ViewDigest`), over the
 * membership entries only (a list answer does not carry key/value versions). Ringpop shows
 * divergent views the same way, with a checksum of its member list.
 */
export function viewFingerprint(list: ServerList): string {
  const digest = new ViewDigest();
  for (const entry of entriesOf(list)) digest.toggleMember(entry.baseUrl, entry.lastUpdate, rankOf(entry));
  return digest.root();
}
