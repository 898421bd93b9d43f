import { BroadcastQueue } from './broadcast-queue.js';
import type { EngineSettings } from './engine-settings.js';
import { compareEntries, entriesOf, stateOf, toWire, type MemberEntry } from './membership-view.js';
import type { Membership } from './membership.js';
import { entrySize, MessageBudget } from './message-budget.js';
import type { PeerBook } from './peer-book.js';
import { jsonSize, type StateDelta } from './state-wire.js';
import type { GossipServer, ProbeMessage, ServerList } from './types.js';

type DisseminationSettings = Pick<EngineSettings, 'retransmitMult' | 'maxPiggyback' | 'messageBudgetBytes'>;

/** What a probe or ack carries besides its own fields: membership entries and key/value deltas. */
export type Piggyback = ServerList & { state?: StateDelta[] };

/**
 * SWIM's dissemination component: recent membership changes and key/value deltas waiting to
 * ride on probes, acks and pushes (piggybacking), each sent a limited number of times
 * (retransmitMult · ceil(log10(N + 1)), as memberlist's TransmitLimitedQueue), within the
 * message budget. It learns membership changes by subscribing to Membership; key/value deltas
 * are queued by the state replication unit.
 */
export class Dissemination {
  private readonly members = new BroadcastQueue<MemberEntry>();
  private readonly deltas = new BroadcastQueue<StateDelta>();

  /**
   * @param deps.timeLeft a queued key/value delta as it should travel now (its keys' time to
   *   live recomputed from the expiry held: see ReplicatedState.withTimeLeft)
   */
  constructor(
    private readonly settings: DisseminationSettings,
    private readonly membership: Membership,
    private readonly peers: PeerBook,
    private readonly deps: { timeLeft?: (delta: StateDelta) => StateDelta } = {},
  ) {
    membership.onApplied((entry) => this.members.enqueue(entry.baseUrl, entry));
    // a confirmation travels apart from the entry it confirms (one per declarer)
    membership.onConfirmation((entry) => this.members.enqueue(`${entry.baseUrl} ${entry.by}`, entry));
  }

  /** Membership changes waiting (a queue that keeps growing means more churn than gossip can carry). */
  get depth(): number {
    return this.members.size;
  }

  /** Whether anything waits to be sent (pushes are idle otherwise). */
  get hasPending(): boolean {
    return this.members.size > 0 || this.deltas.size > 0;
  }

  /** Queues a delta for piggybacking, merged with a queued one of the same server when they join up. */
  queueState(delta: StateDelta): void {
    const queued = this.deltas.peek(delta.server);
    if (queued && delta.floor === undefined && queued.floor === undefined && queued.generation === delta.generation && delta.from <= queued.to && delta.from >= queued.from) {
      const byKey = new Map(queued.entries.map((e) => [e.key, e]));
      for (const e of delta.entries) if ((byKey.get(e.key)?.version ?? -1) < e.version) byKey.set(e.key, e);
      const entries = [...byKey.values()].sort((a, b) => a.version - b.version);
      const merged: StateDelta = { server: delta.server, from: queued.from, to: Math.max(queued.to, delta.to), entries };
      if (delta.generation !== undefined) merged.generation = delta.generation;
      this.deltas.enqueue(delta.server, merged);
      return;
    }
    this.deltas.enqueue(delta.server, delta);
  }

  /**
   * Our own entry plus recent changes for a probe or ack (membership, then key/value deltas
   * while the byte budget lasts); a suspect target also gets its suspicion, so it can refute.
   * Page-format peers get no state. An ack leaves out what the probe it `answers` carried (the
   * sender has it): otherwise every push came straight back in its ack and used up a
   * transmission that should have gone to someone who lacked it.
   */
  piggyback(target?: string, answers?: ProbeMessage): Piggyback {
    const received = answers ? carriedEntries(answers) : [];
    // only index the probe when something waits to be sent (most acks in a quiet cluster)
    const carried = answers && this.hasPending ? carriedBy(answers, received) : undefined;
    const limit = Math.max(1, this.settings.retransmitMult * Math.ceil(Math.log10(this.membership.size + 1)));
    const list: Piggyback = { online: [], offline: [] };
    const budget = new MessageBudget(this.settings.messageBudgetBytes, 96 + (target?.length ?? 0));
    const add = (e: MemberEntry) => pushEntry(list, e, toWire(e));
    const self = this.membership.self();
    add(self);
    budget.add(entrySize(self));
    const targetEntry = target ? this.membership.get(target) : undefined;
    const refutable = targetEntry?.suspect ? targetEntry : undefined;
    if (refutable) {
      add(refutable);
      budget.add(entrySize(refutable));
    }
    // an ack corrects what the probe carried stale, the prober's own entry first of all: a
    // prober we hold as suspect or offline learns it now and refutes, instead of waiting for a
    // queued copy (whose few transmissions go to the members we hold alive, so after a
    // partition heals, a live server declared offline by the other side could go on unaware,
    // and keep running a singleton, until its next full sync). The whole compareEntries order
    // decides, tie-breaks included: the view digest hashes only stamp and rank, so anti-entropy
    // would never repair an entry that differs from ours only in a tie-break
    const corrected = new Set<string>();
    if (answers) {
      for (const [url, theirs] of winners(received)) {
        const ours = this.membership.get(url);
        if (!ours || url === self.baseUrl || compareEntries(ours, theirs) <= 0 || !budget.take(entrySize(ours))) continue;
        add(ours);
        corrected.add(url);
      }
    }
    // a deep queue (suspicion churn under loss in a big cluster) drains faster: up to half of it
    // per message, within the byte budget, as memberlist fills its packets; otherwise maxPiggyback
    const max = Math.max(this.settings.maxPiggyback, Math.ceil(this.members.size / 2));
    // our own entry heads every message, and a suspect target's suspicion follows it: their
    // queued copies (a restamp, queued so that pushes run; the suspicion as applied) count as
    // sent, but are not added a second time, nor do they take one of the `max` slots, which
    // are for changes the receiver may lack: `fits` counts what is added, so the queue is
    // walked whole (it is sorted whole anyway). Another declarer's confirmation of that
    // suspicion is another entry, and goes as any change.
    const isSelf = (e: MemberEntry) => e.baseUrl === self.baseUrl;
    const inAlready = (e: MemberEntry) => isSelf(e) || (refutable !== undefined && e.baseUrl === refutable.baseUrl && compareEntries(e, refutable) === 0);
    let added = 0;
    const taken = this.members.take(Infinity, limit, (e) => {
      if (inAlready(e)) return true;
      if (added >= max || corrected.has(e.baseUrl) || carried?.members.has(entryKey(e)) || !budget.take(entrySize(e))) return false;
      added++;
      return true;
    });
    for (const e of taken) if (!inAlready(e)) add(e);
    if (this.deltas.size && !(target && this.peers.isPageFormat(target))) {
      const state = this.deltas.take(Infinity, limit, (delta) => {
        const theirs = carried?.state.get(delta.server);
        if (theirs && delta.floor === undefined && theirs.from <= delta.from && theirs.to >= delta.to) return false;
        return budget.take(jsonSize(delta) + 1);
      });
      // a delta waits in the queue, and relays pass it on: its keys go with the time they have left
      const timeLeft = this.deps.timeLeft;
      if (state.length) list.state = timeLeft ? state.map((delta) => timeLeft(delta)) : state;
    }
    return list;
  }
}

/** Adds an entry to the list its state belongs in. */
export function pushEntry(list: ServerList, entry: MemberEntry, wire: GossipServer): void {
  const state = stateOf(entry);
  if (state === 'suspect') (list.suspect ??= []).push(wire);
  else (state === 'alive' ? list.online : (list.offline ??= [])).push(wire);
}

/**
 * A probe's member entries, converted as a merge converts them (entriesOf), those with a string
 * URL and a numeric stamp; an alive entry loses its `by`, as the sender's view drops it.
 */
function carriedEntries(message: ProbeMessage): MemberEntry[] {
  const out = entriesOf(message).filter((e) => typeof e.baseUrl === 'string' && typeof e.lastUpdate === 'number');
  for (const e of out) if (stateOf(e) === 'alive') delete e.by;
  return out;
}

/**
 * Each member's entry in a received probe (see carriedEntries); of a server carried twice, the
 * winner by compareEntries (what the sender holds after merging its own message).
 */
function winners(received: MemberEntry[]): Map<string, MemberEntry> {
  const out = new Map<string, MemberEntry>();
  for (const e of received) {
    const seen = out.get(e.baseUrl);
    if (!seen || compareEntries(e, seen) > 0) out.set(e.baseUrl, e);
  }
  return out;
}

/**
 * An entry named by every field compareEntries orders on (stamp, state, monitor, declarer,
 * generation): two suspicions of one stamp by different declarers are different news (a
 * Lifeguard confirmation is not "already carried" by another declarer's suspicion).
 */
function entryKey(e: MemberEntry): string {
  const state = stateOf(e);
  return `${e.baseUrl} ${e.lastUpdate}:${state} ${e.monitor === true} ${state === 'alive' ? '' : (e.by ?? '')} ${e.generation ?? 0}`;
}

/**
 * What a received probe carried: every member entry by its entryKey (all copies of a server
 * carried twice), each server's state range.
 */
interface Carried {
  members: Set<string>;
  state: Map<string, { from: number; to: number }>;
}

function carriedBy(message: ProbeMessage, received: MemberEntry[]): Carried {
  const members = new Set(received.map(entryKey));
  const state = new Map<string, { from: number; to: number }>();
  if (Array.isArray(message.state)) for (const d of message.state) if (d && d.floor === undefined) state.set(d.server, { from: d.from, to: d.to });
  return { members, state };
}
