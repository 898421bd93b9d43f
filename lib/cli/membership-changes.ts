import type { MemberRow, MemberStatus } from './member-rows.js';

/**
 * One change between two polls of a view: a member appeared (`from` absent), changed status,
 * or was removed after the retention period (`to: 'removed'`). Changes that cancel out
 * between two polls (a suspicion refuted within one interval) are not seen: the CLI polls.
 */
export interface MemberChange {
  /** When the poll that saw it answered, ms since epoch (this machine's clock). */
  at: number;
  address: string;
  from?: MemberStatus;
  to: MemberStatus | 'removed';
  /** For suspect and offline: who declared it, or `itself`. */
  declaredBy?: string;
}

/** The changes from one view (rows) to the next, in address order. */
export function membershipChanges(previous: MemberRow[], next: MemberRow[], at = Date.now()): MemberChange[] {
  const before = new Map(previous.map((r) => [r.address, r]));
  const changes: MemberChange[] = [];
  for (const row of next) {
    const old = before.get(row.address);
    before.delete(row.address);
    if (old?.status === row.status) continue;
    const change: MemberChange = { at, address: row.address, to: row.status };
    if (old) change.from = old.status;
    if (row.declaredBy) change.declaredBy = row.declaredBy;
    changes.push(change);
  }
  for (const gone of before.values()) changes.push({ at, address: gone.address, from: gone.status, to: 'removed' });
  return changes.sort((a, b) => (a.address < b.address ? -1 : 1));
}

/** One change as a line of `watch`. */
export function describeMemberChange(change: MemberChange): string {
  const when = new Date(change.at).toISOString();
  const what = change.from === undefined ? `joined, ${change.to}` : `${change.from} -> ${change.to}`;
  const by = !change.declaredBy || change.to === 'online' ? '' : change.declaredBy === 'itself' ? ' (by itself)' : ` (declared by ${change.declaredBy})`;
  return `${when}  ${change.address}  ${what}${by}`;
}
