import type { ServerList } from './types.js';

/**
 * The quorum a singleton needs before it runs:
 * - `'majority'`: this server sees a strict majority of the cluster's last known size alive;
 * - a number n ≥ 1: it sees at least n servers alive (itself included);
 * - `'none'`: no check (a partition then runs the job on each side).
 */
export type QuorumOption = 'majority' | 'none' | number;

/** How this server counts the cluster from its view (see countQuorum). */
export interface QuorumCount {
  /** Online and not suspected, this server included. */
  alive: number;
  /** Suspected of having failed, not yet declared offline. */
  suspect: number;
  /** Declared offline by the failure detector (`by` set), not yet reaped. */
  failed: number;
  /** The cluster's last known size: alive + suspect + failed. A server that left (offline without `by`) is not counted. */
  known: number;
}

/** The outcome of a quorum check, with the figures that decided it. */
export interface QuorumReport extends QuorumCount {
  /** Alive servers needed (0 for `'none'`). */
  needed: number;
  ok: boolean;
}

/**
 * Counts the view for the quorum guard, the keep-majority rule of Akka's split-brain
 * resolver with the last known membership: a graceful leave shrinks the known size (the
 * server said it is gone), a failure does not, until the dead entry is reaped after the
 * retention period, because a server declared offline may be alive on the other side of a
 * partition.
 */
export function countQuorum(view: ServerList): QuorumCount {
  const alive = view.online.length;
  const suspect = view.suspect?.length ?? 0;
  let failed = 0;
  for (const s of view.offline ?? []) if (s.by) failed++;
  return { alive, suspect, failed, known: alive + suspect + failed };
}

/**
 * Whether this server may act for the cluster. Only alive servers count toward the quorum;
 * suspects count toward the known size but not toward the quorum. Why: in a partition, the
 * majority side declares the minority's servers offline after its suspicion timeout, which
 * the majority's extra confirmations shorten (Lifeguard); the minority confirms its own
 * suspicions more slowly. Counting suspects as present would let a minority owner run until
 * its slower timeouts expire, after the majority had already taken over: a double run. Not
 * counting them, it stops once it suspects enough servers, well before the majority's
 * declaration (see docs/coordination.md, "Why suspects do not count").
 */
export function checkQuorum(count: QuorumCount, option: QuorumOption): QuorumReport {
  if (option === 'none') return { ...count, needed: 0, ok: true };
  const needed = option === 'majority' ? Math.floor(count.known / 2) + 1 : option;
  return { ...count, needed, ok: count.alive >= needed };
}

/** Throws a TypeError naming the problem when `option` is not a QuorumOption. */
export function assertQuorumOption(option: unknown, where: string): asserts option is QuorumOption {
  if (option === 'majority' || option === 'none') return;
  if (typeof option === 'number' && Number.isInteger(option) && option >= 1) return;
  throw new TypeError(`${where}: quorum must be 'majority', 'none' or a whole number of servers ≥ 1; got ${JSON.stringify(option)}`);
}
