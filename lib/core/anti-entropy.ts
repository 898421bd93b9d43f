import { pushEntry } from './dissemination.js';
import { errorText, type RateLimitedLog } from './engine-log.js';
import type { EngineSettings } from './engine-settings.js';
import { leafOf } from './hash.js';
import { rankOf, toWire, type MemberEntry, type MembershipChange } from './membership-view.js';
import type { Membership } from './membership.js';
import { digestEntrySize, MessageBudget } from './message-budget.js';
import type { PeerBook } from './peer-book.js';
import { choosePeer, shuffle } from './peer-selection.js';
import { jsonSize, type StateDelta } from './state-wire.js';
import type { StateReplication } from './state-replication.js';
import { classifyFailure, type GossipTransport } from './transport.js';
import type { ServerList, SyncMessage } from './types.js';
import { DIGEST_BUCKETS, isDigestEntry, LEAVES_PER_BUCKET, rangeContains, type DigestEntry } from './view-digest.js';

/** A differing bucket with at most this many servers is sent as entries; a bigger one as its 64 leaf hashes. */
const SMALL_BUCKET = 8;
/** What a sync message's own fields take before anything is added: braces, `message`, `hash`, the list names. */
const SYNC_ENVELOPE_BYTES = 160;
/** One bucket's leaf hashes on the wire: {"bucket":63,"hashes":"<344 base64 characters>"}, and a comma. */
const LEAF_HASHES_BYTES = 380;

type AntiEntropySettings = Pick<EngineSettings, 'selfUrl' | 'monitorPreference' | 'offlineProbeProbability' | 'messageBudgetBytes'>;

/** How one gossip round (or one sync) went. */
export interface RoundResult {
  peer: string | null;
  ok: boolean;
  error?: string;
  changes: MembershipChange[];
}

/** One server this side may send in a sync, and what the peer holds of it (absent: nothing). */
interface SyncCandidate {
  url: string;
  theirs?: DigestEntry;
}

/**
 * Anti-entropy: the periodic gossip round that repairs whatever piggybacking missed. Between
 * our servers it is a digest-and-delta sync in the manner of Cassandra's SYN/ACK/ACK2 over a
 * two-level hash tree (see SyncMessage and ViewDigest): equal views cost one small request;
 * otherwise only the differing buckets' digests travel, then what each side lacks, most stale
 * first within the message budget (chitchat's delta). A peer that has no sync endpoint gets
 * the package page's full-list push-pull instead.
 */
export class AntiEntropy {
  readonly stats = {
    /** Gossip rounds this server started. */
    rounds: 0,
    exchangesOk: 0,
    exchangesFailed: 0,
    /** Gossip and sync messages this server answered. */
    gossipReceived: 0,
    /** Syncs this server started that found both views equal (one small request and answer). */
    syncsEqual: 0,
    /** Syncs that needed digests and deltas. */
    syncsRepaired: 0,
  };

  constructor(
    private readonly settings: AntiEntropySettings,
    private readonly membership: Membership,
    private readonly replication: StateReplication,
    private readonly peers: PeerBook,
    private readonly deps: { transport: GossipTransport; random: () => number; now: () => number; log?: RateLimitedLog },
  ) {}

  /** Picks this gossip round's partner: see `choosePeer`. */
  choosePeer(): string | null {
    return choosePeer([...this.membership.values()], this.settings, this.peers.seeds, this.deps.random);
  }

  /** One round with one partner. Never throws: failures are counted and returned. */
  async round(): Promise<RoundResult> {
    const peer = this.choosePeer();
    if (!peer) return { peer: null, ok: false, error: 'no peer known', changes: [] };
    this.stats.rounds++;
    return this.syncWith(peer);
  }

  /**
   * Anti-entropy with one peer by digests and deltas (see SyncMessage): equal views cost one
   * small request; otherwise only the differing buckets' digests travel, then what each side
   * lacks. A peer without the endpoint gets the page's full-list exchange from then on.
   */
  async syncWith(peer: string): Promise<RoundResult> {
    if (this.peers.isPageFormat(peer)) return this.exchangeWith(peer);
    const changes: MembershipChange[] = [];
    const transport = this.deps.transport;
    try {
      const digest = this.membership.digest;
      const first = await transport.sync(peer, { message: 'sync', hash: digest.root(), buckets: digest.bucketHashes() });
      changes.push(...this.absorb(first, peer));
      if (!Array.isArray(first.digest) && !Array.isArray(first.leaves)) {
        this.stats.exchangesOk++;
        this.stats.syncsEqual++;
        this.peers.noteEndpointsFound(peer);
        return { peer, ok: true, changes };
      }
      // their entries in small differing buckets: compare; their leaf hashes of big ones: send ours for the differing leaves
      const compared = this.compareDigest(Array.isArray(first.digest) ? first.digest : [], first.complete);
      const leaves = (Array.isArray(first.leaves) ? first.leaves : []).flatMap((l) => (validLeafHashes(l) ? digest.differingLeaves(l.bucket, l.hashes) : []));
      // one budget for the whole message: what the peer lacks first, then what we lack, then our digest
      const budget = this.budget();
      const second: SyncMessage = { message: 'sync', ...this.deltasFor(compared.candidates, budget) };
      const want = fitting(compared.want, budget);
      if (want.length) second.want = want;
      if (leaves.length) Object.assign(second, this.digestOf(leaves.map((leaf) => DIGEST_BUCKETS + leaf), budget));
      if (second.members || second.state || second.want || second.digest) {
        const reply = await transport.sync(peer, second);
        changes.push(...this.absorb(reply, peer));
        const wanted = Array.isArray(reply.want) ? reply.want.filter(isDigestEntry) : [];
        const third = this.deltasFor(wanted.map((theirs) => ({ url: theirs[0], theirs })), this.budget());
        if (third.members || third.state) changes.push(...this.absorb(await transport.sync(peer, { message: 'sync', ...third }), peer));
      }
      this.stats.exchangesOk++;
      this.stats.syncsRepaired++;
      this.peers.noteEndpointsFound(peer);
      return { peer, ok: true, changes };
    } catch (error) {
      const kind = classifyFailure(error);
      if (kind === 'not-found') {
        this.peers.markPageFormat(peer);
        this.deps.log?.debug(`${peer} has no sync endpoint: exchanging full lists with it`);
        return this.exchangeWith(peer);
      }
      if (kind === 'foreign') this.peers.markForeign(peer);
      if (kind === 'unauthorized') this.peers.noteUnauthorized(peer, this.deps.now());
      this.stats.exchangesFailed++;
      const text = errorText(error);
      this.deps.log?.debug(`sync with ${peer} failed: ${text}`);
      return { peer, ok: false, error: text, changes };
    }
  }

  /** Answers one leg of a sync (see SyncMessage). */
  handleSync(message: SyncMessage): SyncMessage {
    this.stats.gossipReceived++;
    this.absorb(message, 'sync');
    const reply: SyncMessage = { message: 'sync' };
    if (typeof message.hash === 'string') {
      // leg 1: equal roots end it; else small differing buckets go as entries, big ones as leaf hashes
      const digest = this.membership.digest;
      reply.hash = digest.root();
      if (reply.hash === message.hash) return reply;
      const differing = digest.differingBuckets(typeof message.buckets === 'string' ? message.buckets : '');
      const small = differing.filter((b) => this.membership.bucketSize(b) <= SMALL_BUCKET);
      const big = differing.filter((b) => this.membership.bucketSize(b) > SMALL_BUCKET);
      const budget = this.budget();
      Object.assign(reply, this.digestOf(small, budget));
      // big buckets' leaf hashes while they fit; the others are compared in a later round
      shuffle(big, this.deps.random);
      const leaves = big.filter(() => budget.take(LEAF_HASHES_BYTES)).map((bucket) => ({ bucket, hashes: digest.leafHashes(bucket) }));
      if (leaves.length) reply.leaves = leaves;
      return reply;
    }
    // leg 2 or 3: what they want, and what their digest shows they lack
    const wanted = (Array.isArray(message.want) ? message.want : []).filter(isDigestEntry).map((theirs) => ({ url: theirs[0], theirs }));
    const compared = Array.isArray(message.digest) ? this.compareDigest(message.digest, message.complete) : { candidates: [], want: [] };
    const budget = this.budget();
    Object.assign(reply, this.deltasFor([...wanted, ...compared.candidates], budget));
    const want = fitting(compared.want, budget);
    if (want.length) reply.want = want;
    return reply;
  }

  /** Answers the page's gossip message: merge it, then return our view (push-pull). */
  handleGossip(message: ServerList): ServerList {
    this.stats.gossipReceived++;
    this.membership.merge(message, 'gossip');
    return this.membership.snapshot(false);
  }

  /** The page's exchange: sends our whole view to one peer and merges the answer. */
  async exchangeWith(peer: string, timeoutMs?: number): Promise<RoundResult> {
    try {
      const reply = await this.deps.transport.exchange(peer, { message: 'gossip', ...this.membership.snapshot(false) }, timeoutMs);
      this.stats.exchangesOk++;
      return { peer, ok: true, changes: this.membership.merge(reply, peer) };
    } catch (error) {
      const kind = classifyFailure(error);
      if (kind === 'foreign') this.peers.markForeign(peer);
      if (kind === 'unauthorized') this.peers.noteUnauthorized(peer, this.deps.now());
      if (kind === 'not-found') {
        // not even the page's gossip: nothing of ours under our route prefix at that URL
        this.peers.noteNotFound(peer, this.deps.now());
        this.deps.log?.warnEvery('not-found', () => `${peer} answered 404 to probe, sync and gossip: it runs with another route prefix than this server (option routePrefix, the same on every server), or no clustershazbot server listens at that URL`);
      }
      this.stats.exchangesFailed++;
      const text = errorText(error);
      // failures are the detector's business (it probes and suspects); the round just moves on
      this.deps.log?.debug(`gossip with ${peer} failed: ${text}`);
      return { peer, ok: false, error: text, changes: [] };
    }
  }

  /** Merges the members and state a sync message carries. */
  private absorb(message: SyncMessage, source: string): MembershipChange[] {
    const changes = message.members ? this.membership.merge(message.members, source) : [];
    if (Array.isArray(message.state)) this.replication.merge(message.state, source);
    return changes;
  }

  /** A fresh budget for one sync message, its envelope already counted. */
  private budget(): MessageBudget {
    return new MessageBudget(this.settings.messageBudgetBytes, SYNC_ENVELOPE_BYTES);
  }

  /** This side's digest entries for the given ranges, whole ranges in random order while they fit the budget. */
  private digestOf(ranges: number[], budget: MessageBudget): { digest: DigestEntry[]; complete: number[] } {
    const byRange = new Map<number, DigestEntry[]>(ranges.map((r) => [r, []]));
    if (ranges.length) {
      for (const entry of this.membership.values()) {
        const leaf = leafOf(entry.baseUrl);
        for (const r of ranges) if (rangeContains(r, leaf)) byRange.get(r)!.push(this.digestEntryOf(entry));
      }
    }
    const order = [...ranges];
    shuffle(order, this.deps.random);
    const digest: DigestEntry[] = [];
    const complete: number[] = [];
    for (const r of order) {
      const list = byRange.get(r)!;
      if (!budget.take(list.reduce((n, d) => n + digestEntrySize(d), rangeSize(r)))) continue;
      digest.push(...list);
      complete.push(r);
    }
    if (complete.length === 0 && order.length) {
      // not even one range fits: a random part of one (digests as random subsets, as chitchat)
      const list = byRange.get(order[0])!;
      shuffle(list, this.deps.random);
      for (const d of list) {
        if (!budget.take(digestEntrySize(d))) break;
        digest.push(d);
      }
    }
    return { digest, complete };
  }

  private digestEntryOf(entry: MemberEntry): DigestEntry {
    return [entry.baseUrl, entry.lastUpdate, rankOf(entry), this.replication.knownVersion(entry.baseUrl)];
  }

  /** Compares a peer's digest with this view: what the peer lacks (candidates) and what this side lacks (want). */
  private compareDigest(digest: unknown[], complete: unknown): { candidates: SyncCandidate[]; want: DigestEntry[] } {
    const candidates: SyncCandidate[] = [];
    const want: DigestEntry[] = [];
    const listed = new Set<string>();
    for (const theirs of digest) {
      if (!isDigestEntry(theirs)) continue;
      const url = theirs[0];
      listed.add(url);
      const mine = this.membership.get(url);
      if (!mine) {
        want.push([url, 0, 0, 0]);
        continue;
      }
      const order = compareStamps(mine.lastUpdate, rankOf(mine), theirs);
      const myKnown = this.replication.knownVersion(url);
      if (order > 0 || myKnown > theirs[3]) candidates.push({ url, theirs });
      if (order < 0 || theirs[3] > myKnown) want.push(this.digestEntryOf(mine));
    }
    // ranges given whole: one set lookup per member, whatever the number of ranges (a request
    // listing every range cost a walk of the view per range before)
    const whole = new Set(Array.isArray(complete) ? complete.filter((r): r is number => Number.isInteger(r) && r >= 0 && r < DIGEST_BUCKETS * (LEAVES_PER_BUCKET + 1)) : []);
    if (whole.size) {
      for (const entry of this.membership.values()) {
        if (listed.has(entry.baseUrl)) continue;
        const leaf = leafOf(entry.baseUrl);
        if (whole.has(leaf >>> 6) || whole.has(DIGEST_BUCKETS + leaf)) candidates.push({ url: entry.baseUrl });
      }
    }
    // in random order: what does not fit in this message is asked for in a later round
    shuffle(want, this.deps.random);
    return { candidates, want };
  }

  /**
   * Members and state the peer lacks, most stale first (ties at random), until the budget is
   * spent; at least one item always goes, so nothing starves.
   */
  private deltasFor(candidates: SyncCandidate[], budget: MessageBudget): Pick<SyncMessage, 'members' | 'state'> {
    const scored = candidates
      .map((c) => {
        const mine = this.membership.get(c.url);
        if (!mine) return null;
        const memberGap = !c.theirs ? mine.lastUpdate + 1 : compareStamps(mine.lastUpdate, rankOf(mine), c.theirs) > 0 ? mine.lastUpdate - c.theirs[1] + 1 : 0;
        const stateGap = this.replication.knownVersion(c.url) - (c.theirs?.[3] ?? 0);
        return { c, mine, memberGap, stateGap, staleness: Math.max(memberGap, stateGap), tie: this.deps.random() };
      })
      .filter((x): x is NonNullable<typeof x> => x !== null && (x.memberGap > 0 || x.stateGap > 0))
      .sort((a, b) => b.staleness - a.staleness || a.tie - b.tie);
    const members: ServerList = { online: [], offline: [] };
    const deltas: StateDelta[] = [];
    let count = 0;
    for (const { c, mine, memberGap, stateGap } of scored) {
      if (memberGap > 0) {
        const wire = toWire(mine);
        const size = jsonSize(wire) + 1;
        if (count > 0 && !budget.fits(size)) break;
        pushEntry(members, mine, wire);
        budget.add(size);
        count++;
      }
      if (stateGap > 0) {
        const delta = this.replication.deltaFor(c.url, c.theirs?.[3] ?? 0, Math.max(256, budget.limit - budget.used));
        if (delta) {
          const size = jsonSize(delta) + 1;
          if (count > 0 && !budget.fits(size)) break;
          deltas.push(delta);
          budget.add(size);
          count++;
        }
      }
    }
    const out: Pick<SyncMessage, 'members' | 'state'> = {};
    if (members.online.length || members.offline!.length || members.suspect?.length) out.members = members;
    if (deltas.length) out.state = deltas;
    return out;
  }
}

/** Bytes of a range number in `complete`, with its comma: 64 + leaf reaches four digits (5 bytes) from range 1000 on. */
function rangeSize(r: number): number {
  return String(r).length + 1;
}

/** The digest entries that fit in what is left of `budget`, in order. */
function fitting(entries: DigestEntry[], budget: MessageBudget): DigestEntry[] {
  return entries.filter((d) => budget.take(digestEntrySize(d)));
}

/** Compares our (stamp, rank) for a server with a digest entry's: the same order as `compareEntries`. */
function compareStamps(lastUpdate: number, rank: number, theirs: DigestEntry): number {
  if (lastUpdate !== theirs[1]) return lastUpdate < theirs[1] ? -1 : 1;
  return rank === theirs[2] ? 0 : rank < theirs[2] ? -1 : 1;
}

function validLeafHashes(l: unknown): l is { bucket: number; hashes: string } {
  const x = l as { bucket?: unknown; hashes?: unknown };
  return typeof x === 'object' && x !== null && Number.isInteger(x.bucket) && (x.bucket as number) >= 0 && (x.bucket as number) < DIGEST_BUCKETS && typeof x.hashes === 'string';
}
