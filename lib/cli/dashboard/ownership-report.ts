import { RendezvousTable } from '../../core/rendezvous-hash.js';
import type { ClusterState, MemberRow } from '../member-rows.js';
import type { OwnershipReport } from './dashboard-snapshot.js';

/** Where each server publishes its singletons (the library's SINGLETONS_STATE_KEY; the CLI does not load the Nest side). */
export const SINGLETONS_STATE_KEY = 'clustershazbot:singletons';

/** How many sample keys the keys-per-owner column is counted over. */
export const SAMPLE_KEYS = 10_000;

/**
 * The dashboard's ownership section from the shown view and its key/value state, or undefined
 * when no server publishes singletons (servers without coordination, or no singleton jobs):
 * - singletons: each singleton a server registered, with every server that holds it (two rows
 *   for one name show a divergence: both may run it), or `none` while nobody holds it (no
 *   owner with quorum, or a hand-over under way);
 * - keys per owner: how the eligible members (online and suspect) of the shown view split
 *   10,000 sample keys (`key-0` …), with the servers' own rendezvous function: what `owner()`
 *   answers on a server that holds this view.
 */
export function ownershipReport(rows: MemberRow[], state: ClusterState | undefined): OwnershipReport | undefined {
  if (!state) return undefined;
  const names = new Set<string>();
  const holders = new Map<string, string[]>();
  for (const [server, keys] of Object.entries(state)) {
    const published = keys[SINGLETONS_STATE_KEY] as { registered?: unknown; held?: unknown } | undefined;
    if (!published || typeof published !== 'object') continue;
    for (const name of stringsOf(published.registered)) names.add(name);
    for (const name of stringsOf(published.held)) {
      names.add(name);
      holders.set(name, [...(holders.get(name) ?? []), server]);
    }
  }
  if (names.size === 0) return undefined;
  const singletons = [...names].sort().flatMap((name) => (holders.get(name)?.sort() ?? ['none']).map((owner) => ({ name, owner })));
  const table = new RendezvousTable(rows.filter((r) => r.status !== 'offline').map((r) => r.address));
  const counts = new Map<string, number>(table.members.map((m) => [m, 0]));
  for (let i = 0; i < SAMPLE_KEYS; i++) {
    const owner = table.owner(`key-${i}`);
    if (owner) counts.set(owner, counts.get(owner)! + 1);
  }
  return { singletons, keysPerOwner: [...counts].map(([owner, keys]) => ({ owner, keys })) };
}

function stringsOf(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string').slice(0, 256) : [];
}
