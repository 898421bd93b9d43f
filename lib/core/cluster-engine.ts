import { normalizeBaseUrl } from './base-url.js';
import { BroadcastQueue } from './broadcast-queue.js';
import { HybridClock } from './hybrid-clock.js';
import {
  compareEntries,
  describeChange,
  entriesOf,
  MembershipView,
  rankOf,
  stateOf,
  toWire,
  type MemberEntry,
  type MembershipChange,
} from './membership-view.js';
import { leafOf } from './hash.js';
import { choosePeer } from './peer-selection.js';
import { DEFAULT_STATE_LIMITS, jsonSize, ReplicatedState, type JsonValue, type StateChange, type StateDelta, type StateLimits } from './replicated-state.js';
import { FlapDamper, suspicionTimeoutMs, type Suspicion } from './suspicion.js';
import type { GossipMessage, GossipServer, ProbeAck, ProbeMessage, ServerList, SyncMessage } from './types.js';
import { DIGEST_BUCKETS, isDigestEntry, LEAVES_PER_BUCKET, rangeContains, type DigestEntry } from './view-digest.js';

/** A differing bucket with at most this many servers is sent as entries; a bigger one as its 64 leaf hashes. */
const SMALL_BUCKET = 8;
/** How long a server that answered 403 (another cluster) is ignored before it is tried again. */
const FOREIGN_IGNORE_MS = 10 * 60_000;

/** The network as the engine sees it. Each call must reject by itself once its timeout has passed. */
export interface GossipTransport {
  /** Full push-pull exchange: send our view, resolve with the peer's. */
  exchange(peerBaseUrl: string, message: GossipMessage): Promise<ServerList>;
  /**
   * Liveness probe (direct, or indirect when `message.target` is set). A connection the peer's
   * host refused (nothing listens on the port) must reject with an error whose `code` is
   * `ECONNREFUSED`: the detector takes it as strong evidence of a dead process.
   */
  probe(peerBaseUrl: string, message: ProbeMessage, timeoutMs: number): Promise<ProbeAck>;
  /**
   * One leg of a digest-and-delta sync. A peer without the sync endpoint (it speaks only the
   * page's full lists) must make this reject with an error whose `status` is 404.
   */
  sync(peerBaseUrl: string, message: SyncMessage): Promise<SyncMessage>;
}

/** The HTTP status a transport attached to a failed call, if any. */
export function statusOf(error: unknown): number | undefined {
  const status = typeof error === 'object' && error !== null ? (error as { status?: unknown }).status : undefined;
  return typeof status === 'number' ? status : undefined;
}

/** True when a transport call failed because the peer's host refused the connection (nothing listens on the port). */
export function refusedConnection(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'ECONNREFUSED';
}

/** How one probe attempt ended. */
type ProbeResult = 'ack' | 'refused' | 'silent';

/** Where the engine reports what an operator may want to know. */
export interface EngineLog {
  warn(message: string): void;
  debug(message: string): void;
}

/** Failure-detector tunables (SWIM with Lifeguard); see `DETECTOR_PROFILES`. */
export interface DetectorSettings {
  /** Probe one member every this often. 0 disables failure detection. */
  probeIntervalMs: number;
  /** A direct probe not acknowledged within this is followed by indirect probes. */
  probeTimeoutMs: number;
  /** How many other members are asked to probe an unresponsive one. */
  indirectChecks: number;
  /** Minimum suspicion timeout = suspicionMult · max(1, log10 N) probe intervals. */
  suspicionMult: number;
  /** Suspicion starts at this multiple of the minimum, shrinking with confirmations. */
  suspicionMaxMult: number;
  /** Each change rides on this many · ceil(log10(N + 1)) probes, acks and pushes. */
  retransmitMult: number;
  /**
   * While changes wait to be sent, push them to `pushFanout` random members this often
   * (memberlist's GossipInterval and GossipNodes). Idle when nothing waits. 0 disables pushes:
   * changes then ride on probes and acks only.
   */
  pushIntervalMs: number;
  pushFanout: number;
  /** At most this many changes per probe or ack, or half the queue when it is deeper (within the byte budget). */
  maxPiggyback: number;
  /** Local health multiplier cap (Lifeguard): probe timeouts scale by (score + 1). */
  awarenessMax: number;
  /** Flap damping: half-life of the per-server transition penalty. */
  flapHalfLifeMs: number;
  /** Flap damping: penalty above which suspicion timeouts lengthen. */
  flapThreshold: number;
  /**
   * An established member whose port refused both our direct probes and every indirect
   * helper's is declared offline at once instead of after a suspicion (nothing listens there:
   * the process is gone). Not while its flap penalty is above the threshold, nor while our own
   * health is degraded.
   */
  fastFailOnRefusal: boolean;
}

/** The protocol's tunables; the Nest shell fills them from options and environment. */
export interface EngineSettings extends DetectorSettings {
  /** This server's normalised base URL. */
  selfUrl: string;
  monitor: boolean;
  /** Stamps further ahead of the wall clock than this are refused. */
  maxClockSkewMs: number;
  /** Entries whose stamp is older than this are removed, and refused when gossiped back. */
  retentionMs: number;
  /** A live server re-stamps its own entry this often, so its entry never ages out. */
  renewEveryMs: number;
  /** Share of rounds that go to a monitor when monitors and other servers are both known. */
  monitorPreference: number;
  /** Share of gossip rounds and probes that go to an offline server or seed (reconnect, partition healing). */
  offlineProbeProbability: number;
  /**
   * Byte budget of one message (sync legs, and what probes and acks piggyback). What does not
   * fit waits for later rounds, most stale first.
   */
  messageBudgetBytes: number;
  /** Bounds on key/value state. */
  stateLimits: StateLimits;
}

/** Profiles as in memberlist's DefaultLANConfig / DefaultWANConfig / DefaultLocalConfig. */
export const DETECTOR_PROFILES = {
  lan: { probeIntervalMs: 1000, probeTimeoutMs: 500, indirectChecks: 3, suspicionMult: 4, suspicionMaxMult: 6, retransmitMult: 4, pushIntervalMs: 200, pushFanout: 3 },
  wan: { probeIntervalMs: 5000, probeTimeoutMs: 3000, indirectChecks: 3, suspicionMult: 6, suspicionMaxMult: 6, retransmitMult: 4, pushIntervalMs: 500, pushFanout: 4 },
  local: { probeIntervalMs: 1000, probeTimeoutMs: 200, indirectChecks: 3, suspicionMult: 3, suspicionMaxMult: 6, retransmitMult: 2, pushIntervalMs: 100, pushFanout: 3 },
} as const satisfies Record<string, Partial<DetectorSettings>>;

export type DetectorProfile = keyof typeof DETECTOR_PROFILES;

export const DEFAULT_ENGINE_SETTINGS = {
  monitor: false,
  maxClockSkewMs: 10 * 60_000,
  retentionMs: 24 * 3_600_000,
  renewEveryMs: 6 * 3_600_000,
  monitorPreference: 0.5,
  offlineProbeProbability: 0.1,
  messageBudgetBytes: 16_384,
  stateLimits: DEFAULT_STATE_LIMITS,
  ...DETECTOR_PROFILES.lan,
  maxPiggyback: 64,
  awarenessMax: 8,
  flapHalfLifeMs: 60_000,
  flapThreshold: 3,
  fastFailOnRefusal: true,
} satisfies Omit<EngineSettings, 'selfUrl'>;

export interface EngineStats {
  /** Gossip rounds this server started. */
  rounds: number;
  exchangesOk: number;
  exchangesFailed: number;
  /** Gossip messages this server answered. */
  gossipReceived: number;
  /** Probes this server sent (direct), and how many went unanswered. */
  probesSent: number;
  probesFailed: number;
  /** Members this server declared suspect, and offline (its own suspicion expired). */
  suspicionsRaised: number;
  declaredOffline: number;
  /** Pushes of waiting changes sent (see pushTick). */
  pushesSent: number;
  /** Of `declaredOffline`: members declared at once because every probe of them was refused. */
  refusalsConfirmed: number;
  /** Accusations skipped because this server's own timers ran late (local health). */
  accusationsWithheld: number;
  /** Incoming entries refused: malformed, stamped too far ahead, or older than the retention period. */
  entriesRefused: number;
  /** Times this server re-asserted its own entry over a newer rumour about itself (refutations). */
  selfReassertions: number;
  /** Lifeguard local health score: 0 is healthy. */
  localHealth: number;
  /** Syncs this server started that found both views equal (one small request and answer). */
  syncsEqual: number;
  /** Syncs that needed digests and deltas. */
  syncsRepaired: number;
  /** Times this server started a new generation of its key/value state (a peer held stale state about it). */
  stateRefutations: number;
  /** Membership changes waiting to be piggybacked (a queue that keeps growing means more churn than gossip can carry). */
  broadcastQueueDepth: number;
}

export interface RoundResult {
  peer: string | null;
  ok: boolean;
  error?: string;
  changes: MembershipChange[];
}

export type ProbeOutcome =
  | { kind: 'idle' }
  | { kind: 'alive'; target: string; via: 'direct' | 'indirect' | 'retry' }
  | { kind: 'suspected'; target: string }
  /** Every probe of the target, ours and the helpers', was refused: declared offline at once. */
  | { kind: 'refused'; target: string }
  | { kind: 'withheld'; target: string }
  | { kind: 'reconnected' | 'unreachable'; target: string };

type ChangeListener = (change: MembershipChange) => void;
type StateListener = (change: StateChange) => void;

/** One server this side may send in a sync, and what the peer holds of it (absent: nothing). */
interface SyncCandidate {
  url: string;
  theirs?: DigestEntry;
}

function errorText(error: unknown): string {
  return typeof error === 'object' && error !== null && typeof (error as Error).message === 'string' ? (error as Error).message : String(error);
}

/**
 * The framework-free gossip engine: one server's view, the merge policy around the join
 * (self-authority, clock bounds, retention), push-pull gossip rounds, and SWIM-style failure
 * detection with Lifeguard's refinements. It owns no timers and does no I/O of its own:
 * clock, randomness and transport are injected, so the same code runs in production and in
 * the simulator.
 */
export class ClusterEngine {
  readonly view: MembershipView;
  readonly clock: HybridClock;
  readonly settings: EngineSettings;
  private readonly seeds = new Set<string>();
  private readonly listeners = new Set<ChangeListener>();
  private readonly stateListeners = new Set<StateListener>();
  private readonly broadcasts = new BroadcastQueue<MemberEntry>();
  private readonly stateBroadcasts = new BroadcastQueue<StateDelta>();
  /** Peers that answered 404 to a sync: they speak only the page's full lists. */
  private readonly legacyPeers = new Set<string>();
  /**
   * Members that have acknowledged one of our direct probes (see `establishedMember`): a server
   * that joined but does not listen yet (a Nest app gossips from init, before listen) refuses
   * too, and must get a suspicion's time to start answering.
   */
  private readonly answeredUs = new Set<string>();
  /** Servers that answered 403 (signed for another cluster): ignored until the time given. */
  private readonly foreignPeers = new Map<string, number>();
  /** Every server's key/value state as this server holds it. */
  readonly state: ReplicatedState;
  private readonly suspicions = new Map<string, Suspicion>();
  private readonly flaps: FlapDamper;
  /** This round-robin cycle's probe targets (shuffled) and the next one's index; also the pool indirect helpers are drawn from. */
  private probeOrder: string[] = [];
  private probeIndex = 0;
  private lastTickAt?: number;
  private lastTickEndedAt?: number;
  /** No accusations before this time (we were just starved or paused). */
  private quietUntil = 0;
  private lastSweepAt = -Infinity;
  private lastStateWarningAt = -Infinity;
  private running = false;
  private readonly counters: Omit<EngineStats, 'broadcastQueueDepth'> = {
    rounds: 0,
    exchangesOk: 0,
    exchangesFailed: 0,
    gossipReceived: 0,
    probesSent: 0,
    probesFailed: 0,
    suspicionsRaised: 0,
    declaredOffline: 0,
    pushesSent: 0,
    refusalsConfirmed: 0,
    accusationsWithheld: 0,
    entriesRefused: 0,
    selfReassertions: 0,
    localHealth: 0,
    syncsEqual: 0,
    syncsRepaired: 0,
    stateRefutations: 0,
  };

  constructor(
    settings: Partial<EngineSettings> & Pick<EngineSettings, 'selfUrl'>,
    private readonly deps: {
      now: () => number;
      random: () => number;
      transport: GossipTransport;
      log?: EngineLog;
      /** Address policy: a peer URL for which this is false never enters the view and is never contacted. */
      acceptPeer?: (baseUrl: string) => boolean;
      /** See MembershipView: lets a simulator share entry objects among all its views. */
      shareEntry?: (entry: MemberEntry) => MemberEntry;
    },
  ) {
    this.view = new MembershipView(deps.shareEntry);
    this.settings = { ...DEFAULT_ENGINE_SETTINGS, ...settings, selfUrl: normalizeBaseUrl(settings.selfUrl) };
    this.clock = new HybridClock(deps.now, this.settings.maxClockSkewMs);
    this.flaps = new FlapDamper(this.settings.flapHalfLifeMs, this.settings.flapThreshold);
    this.state = new ReplicatedState(this.settings.selfUrl, this.settings.stateLimits, {
      now: deps.now,
      tick: () => this.clock.tick(),
      acceptable: (version) => this.clock.isAcceptable(version),
      digest: this.view.digest,
    });
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Puts this server in its own view, online, with a fresh stamp. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.restampSelf(true, 'started');
    this.state.startGeneration(this.self().lastUpdate);
  }

  stop(): void {
    this.running = false;
  }

  self(): MemberEntry {
    const entry = this.view.get(this.settings.selfUrl);
    return entry ? { ...entry } : { baseUrl: this.settings.selfUrl, monitor: this.settings.monitor, lastUpdate: 0, online: false };
  }

  /** Takes this server offline or back online. Returns false when it already was. */
  setOnline(online: boolean): boolean {
    const self = this.self();
    if (self.online === online && !self.suspect && self.lastUpdate > 0) return false;
    this.restampSelf(online, online ? 'came back' : 'left');
    return true;
  }

  /** The view in wire form; `sorted` for stable output (lists, tests), unsorted for messages. */
  snapshot(sorted = true): ServerList {
    return this.view.toServerList(sorted);
  }

  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Key/value changes (this server's and its peers'), as they are made or learned. */
  onStateChange(listener: StateListener): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  /** Sets a key of this server's state; it spreads with the next probes. Throws StateValueError on bad input. */
  setLocalState(key: string, value: JsonValue, expiresAt?: number): void {
    const { delta, change } = this.state.setLocal(key, value, expiresAt);
    this.queueState(delta);
    this.emitState([change]);
  }

  /** Deletes a key of this server's state. False when it was not set. */
  deleteLocalState(key: string): boolean {
    const done = this.state.deleteLocal(key);
    if (!done) return false;
    this.queueState(done.delta);
    this.emitState([done.change]);
    return true;
  }

  stats(): EngineStats {
    return { ...this.counters, broadcastQueueDepth: this.broadcasts.size };
  }

  /** Base URLs to try when no online peer is known (from the master list). */
  addSeeds(baseUrls: Iterable<string>): void {
    for (const raw of baseUrls) {
      try {
        const url = normalizeBaseUrl(raw);
        if (url !== this.settings.selfUrl && !this.isForeign(url) && (this.deps.acceptPeer?.(url) ?? true)) this.seeds.add(url);
        else if (url !== this.settings.selfUrl) this.counters.entriesRefused++;
      } catch {
        this.counters.entriesRefused++;
      }
    }
  }

  /** Merges a master-list document: its entries by the usual rules, and every server in it as a seed. */
  mergeMasterList(list: ServerList): MembershipChange[] {
    this.addSeeds(entriesOf(list).map((e) => e.baseUrl));
    return this.merge(list, 'master list');
  }

  /** Answers a gossip message: merge it, then return our view (push-pull). */
  handleGossip(message: ServerList): ServerList {
    this.counters.gossipReceived++;
    this.merge(message, 'gossip');
    return this.snapshot(false);
  }

  /**
   * Merges a remote view. Entries that are malformed, stamped beyond the skew bound or older
   * than the retention period are refused; rumours about this server never overwrite it: a
   * newer one makes it re-assert its own state with a later stamp (SWIM's refutation, with
   * the hybrid clock's stamps as incarnation numbers).
   */
  merge(list: ServerList, source: string): MembershipChange[] {
    const changes: MembershipChange[] = [];
    const now = this.deps.now();
    const oldest = now - this.settings.retentionMs;
    let rumourAboutSelf = false;
    for (const raw of entriesOf(list)) {
      const entry = this.sanitize(raw);
      if (!entry) {
        this.counters.entriesRefused++;
        continue;
      }
      if (!this.clock.isAcceptable(entry.lastUpdate)) {
        this.counters.entriesRefused++;
        this.deps.log?.warn(`refused ${entry.baseUrl} from ${source}: stamped ${entry.lastUpdate - now} ms in the future (bound ${this.settings.maxClockSkewMs} ms)`);
        continue;
      }
      if (entry.lastUpdate < oldest) {
        this.counters.entriesRefused++;
        continue;
      }
      this.clock.observe(entry.lastUpdate);
      if (entry.baseUrl === this.settings.selfUrl) {
        if (compareEntries(entry, this.self()) > 0) rumourAboutSelf = true;
        continue;
      }
      const change = this.apply(entry, now);
      if (change) changes.push(change);
    }
    if (rumourAboutSelf && this.running) {
      this.counters.selfReassertions++;
      this.counters.localHealth = Math.min(this.settings.awarenessMax - 1, this.counters.localHealth + 1);
      this.restampSelf(this.self().online, 'refuted a rumour');
    }
    this.emit(changes);
    return changes;
  }

  /** Picks this gossip round's partner: see `choosePeer`. */
  choosePeer(): string | null {
    return choosePeer([...this.view.values()], this.settings, this.seeds, this.deps.random);
  }

  /** One push-pull exchange with one peer. Never throws: failures are counted and returned. */
  async gossipRound(): Promise<RoundResult> {
    this.maintain();
    const peer = this.choosePeer();
    if (!peer) return { peer: null, ok: false, error: 'no peer known', changes: [] };
    this.counters.rounds++;
    return this.syncWith(peer);
  }

  /**
   * Anti-entropy with one peer by digests and deltas (see SyncMessage): equal views cost one
   * small request; otherwise only the differing buckets' digests travel, then what each side
   * lacks. A peer without the endpoint gets the page's full-list exchange from then on.
   */
  async syncWith(peer: string): Promise<RoundResult> {
    if (this.legacyPeers.has(peer)) return this.exchangeWith(peer);
    const changes: MembershipChange[] = [];
    try {
      const digest = this.view.digest;
      const first = await this.deps.transport.sync(peer, { message: 'sync', hash: digest.root(), buckets: digest.bucketHashes() });
      changes.push(...this.absorb(first, peer));
      if (!Array.isArray(first.digest) && !Array.isArray(first.leaves)) {
        this.counters.exchangesOk++;
        this.counters.syncsEqual++;
        return { peer, ok: true, changes };
      }
      // their entries in small differing buckets: compare; their leaf hashes of big ones: send ours for the differing leaves
      const compared = this.compareDigest(Array.isArray(first.digest) ? first.digest : [], first.complete);
      const leaves = (Array.isArray(first.leaves) ? first.leaves : []).flatMap((l) => (validLeafHashes(l) ? digest.differingLeaves(l.bucket, l.hashes) : []));
      const second: SyncMessage = { message: 'sync', ...this.deltasFor(compared.candidates) };
      if (compared.want.length) second.want = compared.want;
      if (leaves.length) Object.assign(second, this.digestOf(leaves.map((leaf) => DIGEST_BUCKETS + leaf)));
      if (second.members || second.state || second.want || second.digest) {
        const reply = await this.deps.transport.sync(peer, second);
        changes.push(...this.absorb(reply, peer));
        const wanted = Array.isArray(reply.want) ? reply.want.filter(isDigestEntry) : [];
        const third = this.deltasFor(wanted.map((theirs) => ({ url: theirs[0], theirs })));
        if (third.members || third.state) changes.push(...this.absorb(await this.deps.transport.sync(peer, { message: 'sync', ...third }), peer));
      }
      this.counters.exchangesOk++;
      this.counters.syncsRepaired++;
      return { peer, ok: true, changes };
    } catch (error) {
      if (statusOf(error) === 404) {
        this.legacyPeers.add(peer);
        this.deps.log?.debug(`${peer} has no sync endpoint: exchanging full lists with it`);
        return this.exchangeWith(peer);
      }
      if (statusOf(error) === 403) this.markForeign(peer);
      this.counters.exchangesFailed++;
      const text = errorText(error);
      this.deps.log?.debug(`sync with ${peer} failed: ${text}`);
      return { peer, ok: false, error: text, changes };
    }
  }

  /** Answers one leg of a sync (see SyncMessage). */
  handleSync(message: SyncMessage): SyncMessage {
    this.counters.gossipReceived++;
    this.absorb(message, 'sync');
    const reply: SyncMessage = { message: 'sync' };
    if (typeof message.hash === 'string') {
      // leg 1: equal roots end it; else small differing buckets go as entries, big ones as leaf hashes
      reply.hash = this.view.digest.root();
      if (reply.hash === message.hash) return reply;
      const differing = this.view.digest.differingBuckets(typeof message.buckets === 'string' ? message.buckets : '');
      const small = differing.filter((b) => this.view.bucketSize(b) <= SMALL_BUCKET);
      const big = differing.filter((b) => this.view.bucketSize(b) > SMALL_BUCKET);
      Object.assign(reply, this.digestOf(small));
      if (big.length) reply.leaves = big.map((bucket) => ({ bucket, hashes: this.view.digest.leafHashes(bucket) }));
      return reply;
    }
    // leg 2 or 3: what they want, and what their digest shows they lack
    const wanted = (Array.isArray(message.want) ? message.want : []).filter(isDigestEntry).map((theirs) => ({ url: theirs[0], theirs }));
    const compared = Array.isArray(message.digest) ? this.compareDigest(message.digest, message.complete) : { candidates: [], want: [] };
    Object.assign(reply, this.deltasFor([...wanted, ...compared.candidates]));
    if (compared.want.length) reply.want = compared.want;
    return reply;
  }

  /** Merges the members and state a sync message carries. */
  private absorb(message: SyncMessage, source: string): MembershipChange[] {
    const changes = message.members ? this.merge(message.members, source) : [];
    if (Array.isArray(message.state)) this.mergeState(message.state, source);
    return changes;
  }

  /** This side's digest entries for the given ranges, whole ranges in random order while they fit the budget. */
  private digestOf(ranges: number[]): { digest: DigestEntry[]; complete: number[] } {
    const byRange = new Map<number, DigestEntry[]>(ranges.map((r) => [r, []]));
    if (ranges.length) {
      for (const entry of this.view.values()) {
        const leaf = leafOf(entry.baseUrl);
        for (const r of ranges) if (rangeContains(r, leaf)) byRange.get(r)!.push(this.digestEntryOf(entry));
      }
    }
    const order = [...ranges];
    this.shuffle(order);
    const digest: DigestEntry[] = [];
    const complete: number[] = [];
    let bytes = 64;
    for (const r of order) {
      const list = byRange.get(r)!;
      const size = list.reduce((n, d) => n + digestEntrySize(d), 4);
      if (bytes + size > this.settings.messageBudgetBytes) continue;
      digest.push(...list);
      complete.push(r);
      bytes += size;
    }
    if (complete.length === 0 && order.length) {
      // not even one range fits: a random part of one (digests as random subsets, as chitchat)
      const list = byRange.get(order[0])!;
      this.shuffle(list);
      for (const d of list) {
        if (bytes + digestEntrySize(d) > this.settings.messageBudgetBytes) break;
        digest.push(d);
        bytes += digestEntrySize(d);
      }
    }
    return { digest, complete };
  }

  private digestEntryOf(entry: MemberEntry): DigestEntry {
    return [entry.baseUrl, entry.lastUpdate, rankOf(entry), this.state.knownVersion(entry.baseUrl)];
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
      const mine = this.view.get(url);
      if (!mine) {
        want.push([url, 0, 0, 0]);
        continue;
      }
      const order = compareStamps(mine.lastUpdate, rankOf(mine), theirs);
      const myKnown = this.state.knownVersion(url);
      if (order > 0 || myKnown > theirs[3]) candidates.push({ url, theirs });
      if (order < 0 || theirs[3] > myKnown) want.push(this.digestEntryOf(mine));
    }
    const whole = Array.isArray(complete) ? complete.filter((r): r is number => Number.isInteger(r) && r >= 0 && r < DIGEST_BUCKETS * (LEAVES_PER_BUCKET + 1)) : [];
    if (whole.length) {
      for (const entry of this.view.values()) {
        if (listed.has(entry.baseUrl)) continue;
        const leaf = leafOf(entry.baseUrl);
        if (whole.some((r) => rangeContains(r, leaf))) candidates.push({ url: entry.baseUrl });
      }
    }
    // what is wanted must fit too: the rest is asked for in a later round
    this.shuffle(want);
    let bytes = 0;
    return { candidates, want: want.filter((d) => (bytes += digestEntrySize(d)) <= this.settings.messageBudgetBytes / 2) };
  }

  /**
   * Members and state the peer lacks, most stale first (ties at random), until the budget is
   * spent; at least one item always goes, so nothing starves.
   */
  private deltasFor(candidates: SyncCandidate[]): Pick<SyncMessage, 'members' | 'state'> {
    const scored = candidates
      .map((c) => {
        const mine = this.view.get(c.url);
        if (!mine) return null;
        const memberGap = !c.theirs ? mine.lastUpdate + 1 : compareStamps(mine.lastUpdate, rankOf(mine), c.theirs) > 0 ? mine.lastUpdate - c.theirs[1] + 1 : 0;
        const stateGap = this.state.knownVersion(c.url) - (c.theirs?.[3] ?? 0);
        return { c, mine, memberGap, stateGap, staleness: Math.max(memberGap, stateGap), tie: this.deps.random() };
      })
      .filter((x): x is NonNullable<typeof x> => x !== null && (x.memberGap > 0 || x.stateGap > 0))
      .sort((a, b) => b.staleness - a.staleness || a.tie - b.tie);
    const budget = this.settings.messageBudgetBytes;
    const members: ServerList = { online: [], offline: [] };
    const state: StateDelta[] = [];
    let bytes = 64;
    let count = 0;
    for (const { c, mine, memberGap, stateGap } of scored) {
      if (memberGap > 0) {
        const wire = toWire(mine);
        const size = jsonSize(wire) + 1;
        if (count > 0 && bytes + size > budget) break;
        pushEntry(members, mine, wire);
        bytes += size;
        count++;
      }
      if (stateGap > 0) {
        const delta = this.state.deltaFor(c.url, c.theirs?.[3] ?? 0, Math.max(256, budget - bytes));
        if (delta) {
          const size = jsonSize(delta) + 1;
          if (count > 0 && bytes + size > budget) break;
          state.push(delta);
          bytes += size;
          count++;
        }
      }
    }
    const out: Pick<SyncMessage, 'members' | 'state'> = {};
    if (members.online.length || members.offline!.length || members.suspect?.length) out.members = members;
    if (state.length) out.state = state;
    return out;
  }

  /**
   * Applies key/value deltas from a peer: only about servers in the view (members first),
   * never about this server (a claim newer than what it holds starts a new generation).
   */
  mergeState(deltas: StateDelta[], source: string): StateChange[] {
    const changes: StateChange[] = [];
    let refute = false;
    for (const delta of deltas) {
      if (!delta || typeof delta.server !== 'string') continue;
      if (delta.server !== this.settings.selfUrl && !this.view.get(delta.server)) continue;
      try {
        const result = this.state.apply(delta);
        if (result.aboutSelfUnknown) refute = true;
        if (result.news) this.queueState(delta);
        changes.push(...result.changes);
      } catch (error) {
        this.counters.entriesRefused++;
        // a peer with other limits would repeat this every round: one line a minute is enough
        const now = this.deps.now();
        if (now - this.lastStateWarningAt >= 60_000) {
          this.lastStateWarningAt = now;
          this.deps.log?.warn(`refused key/value state of ${delta.server} from ${source}: ${errorText(error)} (do all servers use the same state limits?)`);
        }
      }
    }
    if (refute && this.running) {
      this.counters.stateRefutations++;
      this.queueState(this.state.refuteOwn());
    }
    this.emitState(changes);
    return changes;
  }

  /** Queues a delta for piggybacking, merged with a queued one of the same server when they join up. */
  private queueState(delta: StateDelta): void {
    const queued = this.stateBroadcasts.peek(delta.server);
    if (queued && delta.floor === undefined && queued.floor === undefined && delta.from <= queued.to && delta.from >= queued.from) {
      const byKey = new Map(queued.entries.map((e) => [e.key, e]));
      for (const e of delta.entries) if ((byKey.get(e.key)?.version ?? -1) < e.version) byKey.set(e.key, e);
      const entries = [...byKey.values()].sort((a, b) => a.version - b.version);
      this.stateBroadcasts.enqueue(delta.server, { server: delta.server, from: queued.from, to: Math.max(queued.to, delta.to), entries });
      return;
    }
    this.stateBroadcasts.enqueue(delta.server, delta);
  }

  private emitState(changes: StateChange[]): void {
    this.notify(this.stateListeners, changes, 'state');
  }

  /** Sends our view to one peer and merges the answer. */
  async exchangeWith(peer: string): Promise<RoundResult> {
    try {
      const reply = await this.deps.transport.exchange(peer, { message: 'gossip', ...this.snapshot(false) });
      this.counters.exchangesOk++;
      return { peer, ok: true, changes: this.merge(reply, peer) };
    } catch (error) {
      if (statusOf(error) === 403) this.markForeign(peer);
      this.counters.exchangesFailed++;
      const text = errorText(error);
      const line = `gossip with ${peer} failed: ${text}`;
      // failures are the detector's business (it probes and suspects); the round just moves on
      this.deps.log?.debug(line);
      return { peer, ok: false, error: text, changes: [] };
    }
  }

  /** Drops entries past retention and renews this server's own stamp when due. */
  maintain(): MembershipChange[] {
    const now = this.deps.now();
    const changes: MembershipChange[] = [];
    if (this.running && now - this.self().lastUpdate >= this.settings.renewEveryMs) this.restampSelf(this.self().online, 'renewed');
    const expired = this.state.expire();
    for (const delta of expired.deltas) this.queueState(delta);
    if (this.answeredUs.size > this.view.size + 64) for (const url of this.answeredUs) if (!this.view.get(url)) this.answeredUs.delete(url);
    this.emitState(expired.changes);
    // the expiry sweep walks the whole view: once a minute is plenty for a 24 h retention
    if (now - this.lastSweepAt < Math.min(60_000, this.settings.retentionMs / 10)) return changes;
    this.lastSweepAt = now;
    for (const entry of [...this.view.values()]) {
      if (entry.baseUrl === this.settings.selfUrl) continue;
      if (entry.lastUpdate < now - this.settings.retentionMs && this.view.remove(entry.baseUrl)) {
        this.state.drop(entry.baseUrl);
        this.suspicions.delete(entry.baseUrl);
        this.flaps.forget(entry.baseUrl);
        changes.push({ type: 'removed', server: entry, previous: stateOf(entry), reason: `no update for ${Math.round(this.settings.retentionMs / 3_600_000)} h` });
      }
    }
    this.emit(changes);
    return changes;
  }

  // ---- failure detection -------------------------------------------------------------

  /**
   * One probe interval: expire suspicions, then probe one member (round-robin over a shuffled
   * list), falling back to indirect probes, and suspect it when nobody got an answer. With
   * probability `offlineProbeProbability` (always, while no online peer is known) an offline
   * server or seed is probed instead, and a full exchange follows when it answers (this is
   * how partitions heal and cold starts join). Accusations are
   * withheld while this server's own timers run late (local health).
   */
  async probeTick(): Promise<ProbeOutcome> {
    try {
      return await this.probeOnce();
    } finally {
      this.lastTickEndedAt = this.deps.now();
    }
  }

  private async probeOnce(): Promise<ProbeOutcome> {
    if (!this.running || this.settings.probeIntervalMs <= 0) return { kind: 'idle' };
    const now = this.deps.now();
    const { probeIntervalMs, probeTimeoutMs } = this.settings;
    // Ticks do not overlap: one is due an interval after the last one started, or when that one
    // ended if it ran longer (waiting on timeouts is not lateness). Later than that, our own
    // timer was late: we were paused or starved, so our sense of elapsed time is wrong.
    if (this.lastTickAt !== undefined) {
      const dueAt = Math.max(this.lastTickAt + probeIntervalMs, this.lastTickEndedAt ?? -Infinity);
      if (now - dueAt > probeIntervalMs * this.counters.localHealth + probeTimeoutMs) this.degradeLocalHealth(now);
    }
    this.lastTickAt = now;
    this.maintain();
    this.expireSuspicions(now);

    // alone (nothing online but us): try a seed or offline server every tick, so a cold start
    // joins as soon as the seed answers instead of at the next full exchange
    const reserve = !this.knowsOnlinePeer() || this.deps.random() < this.settings.offlineProbeProbability ? this.reserve() : [];
    if (reserve.length) {
      const target = reserve[Math.floor(this.deps.random() * reserve.length)];
      if ((await this.probeDirect(target)) !== 'ack') return { kind: 'unreachable', target };
      await this.syncWith(target); // anti-entropy: both sides see each other's rumours and refute them
      return { kind: 'reconnected', target };
    }
    const target = this.nextProbeTarget();
    if (!target) return { kind: 'idle' };
    const sentAt = this.deps.now();
    const direct = await this.probeDirect(target);
    if (direct === 'ack') {
      this.counters.localHealth = Math.max(0, this.counters.localHealth - 1);
      return { kind: 'alive', target, via: 'direct' };
    }
    // indirect probes, and in parallel a second direct probe with the same deadline (memberlist's
    // fallback ping): under independent loss this cuts false suspicions about fivefold, and every
    // suspicion avoided is two changes fewer for the whole cluster to carry
    const [indirect, retry] = await Promise.all([this.probeIndirect(target), this.probeDirect(target, false, this.indirectTimeoutMs())]);
    if (indirect.acked || retry === 'ack') {
      // the target is fine, so the lost ack may be our fault: Lifeguard raises our own score
      this.counters.localHealth = Math.min(this.settings.awarenessMax - 1, this.counters.localHealth + 1);
      return { kind: 'alive', target, via: indirect.acked ? 'indirect' : 'retry' };
    }
    const finishedAt = this.deps.now();
    const expected = probeTimeoutMs * (this.counters.localHealth + 1) + this.indirectTimeoutMs();
    if (finishedAt - sentAt > expected + probeIntervalMs || finishedAt < this.quietUntil || !this.running) {
      if (finishedAt - sentAt > expected + probeIntervalMs) this.degradeLocalHealth(finishedAt);
      this.counters.accusationsWithheld++;
      return { kind: 'withheld', target };
    }
    const entry = this.view.get(target);
    const state = entry && stateOf(entry);
    // Refused by us twice and by every helper (at least one): no process listens on that port,
    // which a slow or lossy path never causes (it times out), so a suspicion would only wait for
    // a refutation that cannot come. Only for an established member (the process we knew is
    // gone; a new one may not listen yet), not for a flapping one (its damping stands), nor
    // while our own health is degraded (our view of the network may be wrong).
    const refusedEverywhere = direct === 'refused' && retry === 'refused' && indirect.asked > 0 && indirect.refused === indirect.asked;
    if (
      refusedEverywhere &&
      this.settings.fastFailOnRefusal &&
      entry &&
      this.establishedMember(entry, finishedAt) &&
      (state === 'alive' || state === 'suspect') &&
      this.counters.localHealth === 0 &&
      this.flaps.factor(target, finishedAt) === 1
    ) {
      this.counters.declaredOffline++;
      this.counters.refusalsConfirmed++;
      const change = this.apply({ ...entry, online: false, suspect: false, by: this.settings.selfUrl, lastUpdate: this.clock.tick() }, finishedAt);
      this.emit(change ? [change] : []);
      return { kind: 'refused', target };
    }
    // a fresh suspicion, or our independent confirmation of someone else's (it shortens the timeout everywhere)
    if (entry && (state === 'alive' || (state === 'suspect' && !this.suspicions.get(target)?.confirmers.has(this.settings.selfUrl)))) {
      this.counters.suspicionsRaised++;
      const change = this.apply({ ...entry, online: true, suspect: true, by: this.settings.selfUrl, lastUpdate: this.clock.tick() }, finishedAt);
      this.emit(change ? [change] : []);
    }
    return { kind: 'suspected', target };
  }

  /**
   * Memberlist's gossip step: while membership or key/value changes wait in the piggyback
   * queues, send them to `pushFanout` random alive members (a probe without a target; the acks
   * bring back what those members have waiting). A change then spreads in a fraction of a probe
   * interval instead of riding only on the one probe each server sends per interval. Does
   * nothing when the queues are empty, so a quiet cluster pays nothing for it. Resolves with the
   * number of members pushed to; failures are the detector's business, not this step's.
   */
  async pushTick(): Promise<number> {
    if (!this.running || this.settings.pushFanout <= 0) return 0;
    if (this.broadcasts.size === 0 && this.stateBroadcasts.size === 0) return 0;
    const peers = this.indirectHelpers(this.settings.selfUrl, this.settings.pushFanout);
    await Promise.all(
      peers.map(async (peer) => {
        try {
          await this.sendProbe(peer, { message: 'probe', ...this.piggyback(peer) }, this.settings.probeTimeoutMs);
        } catch {
          // a lost push is a change sent once fewer; its retransmissions continue
        }
      }),
    );
    this.counters.pushesSent += peers.length;
    return peers.length;
  }

  /**
   * A member whose refusal means death: it answered one of our probes, or it last asserted
   * itself (start, refutation) longer ago than the minimum suspicion timeout, the time a new
   * server would have had to start listening anyway.
   */
  private establishedMember(entry: MemberEntry, now: number): boolean {
    if (this.answeredUs.has(entry.baseUrl)) return true;
    const { suspicionMult, suspicionMaxMult, probeIntervalMs } = this.settings;
    const minimum = suspicionTimeoutMs({ clusterSize: this.view.size, confirmations: 0, probeIntervalMs, suspicionMult, suspicionMaxMult, expectedConfirmations: 0 });
    return now - entry.lastUpdate > minimum;
  }

  /** Answers a probe: merge its changes; for an indirect probe, probe the target for the sender. */
  async handleProbe(message: ProbeMessage): Promise<ProbeAck> {
    this.merge(message, 'probe');
    if (Array.isArray(message.state)) this.mergeState(message.state, 'probe');
    if (!message.target) return { message: 'ack', ack: true, ...this.piggyback(undefined, message) };
    let target: string | undefined;
    try {
      target = normalizeBaseUrl(message.target);
    } catch {
      target = undefined;
    }
    const result: ProbeResult = target !== undefined && target !== this.settings.selfUrl ? await this.probeDirect(target, false) : 'silent';
    // `refused` tells the sender that nothing listens at the target (see fastFailOnRefusal)
    return { message: 'ack', ack: result === 'ack', ...(result === 'refused' ? { refused: true } : {}), ...this.piggyback(undefined, message) };
  }

  /** Sends a probe and merges what its ack carries (membership and key/value changes). */
  private async sendProbe(peer: string, message: ProbeMessage, timeoutMs: number): Promise<ProbeAck> {
    const ack = await this.deps.transport.probe(peer, message, timeoutMs);
    this.merge(ack, peer);
    if (Array.isArray(ack.state)) this.mergeState(ack.state, peer);
    return ack;
  }

  private async probeDirect(target: string, count = true, timeout = this.settings.probeTimeoutMs * (this.counters.localHealth + 1)): Promise<ProbeResult> {
    if (count) this.counters.probesSent++;
    try {
      const ack = await this.sendProbe(target, { message: 'probe', ...this.piggyback(target) }, timeout);
      if (ack.ack !== true) return 'silent';
      this.answeredUs.add(target);
      return 'ack';
    } catch (error) {
      // a page-format peer has no probe endpoint; its 404 proves it is alive
      if (statusOf(error) === 404) {
        this.legacyPeers.add(target);
        return 'ack';
      }
      if (statusOf(error) === 403) this.markForeign(target);
      if (count) this.counters.probesFailed++;
      return refusedConnection(error) ? 'refused' : 'silent';
    }
  }

  /**
   * Up to `count` distinct random alive peers other than `target`. Drawn from the probe cycle's
   * pool, so a probe costs O(count) rather than a walk of the whole view (at 10,000 servers that
   * walk was most of a probe's cost); falls back to the walk when sampling comes up short.
   */
  private indirectHelpers(target: string, count: number): string[] {
    const usable = (url: string) => {
      const e = this.view.get(url);
      return !!e && stateOf(e) === 'alive' && url !== target && url !== this.settings.selfUrl && !this.legacyPeers.has(url);
    };
    const pool = this.probeOrder;
    const chosen = new Set<string>();
    for (let tries = 0; chosen.size < count && tries < count * 8 && pool.length > count * 4; tries++) {
      const url = pool[Math.floor(this.deps.random() * pool.length)];
      if (usable(url)) chosen.add(url);
    }
    if (chosen.size === count) return [...chosen];
    const all = [...this.view.keys()].filter(usable);
    this.shuffle(all);
    return all.slice(0, count);
  }

  /** The deadline of the second attempt (indirect probes and the repeated direct one): it covers two hops. */
  private indirectTimeoutMs(): number {
    return this.settings.probeTimeoutMs * (this.counters.localHealth + 2);
  }

  /** Asks up to `indirectChecks` helpers to probe `target`: did any get an ack, and how many found its port refusing? */
  private async probeIndirect(target: string): Promise<{ acked: boolean; asked: number; refused: number }> {
    const chosen = this.indirectHelpers(target, this.settings.indirectChecks);
    if (chosen.length === 0) return { acked: false, asked: 0, refused: 0 };
    const timeout = this.indirectTimeoutMs();
    const answers = await Promise.all(
      chosen.map(async (helper): Promise<ProbeResult> => {
        try {
          const ack = await this.sendProbe(helper, { message: 'probe', target, ...this.piggyback(target) }, timeout);
          return ack.ack === true ? 'ack' : ack.refused === true ? 'refused' : 'silent';
        } catch {
          return 'silent';
        }
      }),
    );
    return { acked: answers.includes('ack'), asked: chosen.length, refused: answers.filter((a) => a === 'refused').length };
  }

  private expireSuspicions(now: number): void {
    if (now < this.quietUntil) return;
    const changes: MembershipChange[] = [];
    for (const [url, suspicion] of this.suspicions) {
      const entry = this.view.get(url);
      if (!entry || stateOf(entry) !== 'suspect') {
        this.suspicions.delete(url);
        continue;
      }
      const timeout =
        suspicionTimeoutMs({
          clusterSize: this.view.size,
          confirmations: suspicion.confirmers.size - 1,
          probeIntervalMs: this.settings.probeIntervalMs,
          suspicionMult: this.settings.suspicionMult,
          suspicionMaxMult: this.settings.suspicionMaxMult,
          // as memberlist: when too few others exist to confirm, don't wait for confirmations
          expectedConfirmations: this.view.size - 2 < this.settings.indirectChecks ? 0 : this.settings.indirectChecks,
        }) * this.flaps.factor(url, now);
      if (now - suspicion.startedAt < timeout) continue;
      this.counters.declaredOffline++;
      const change = this.apply({ ...entry, online: false, suspect: false, by: this.settings.selfUrl, lastUpdate: this.clock.tick() }, now);
      if (change) changes.push(change);
    }
    this.emit(changes);
  }

  /** Our sense of time was wrong (paused, starved): raise the local health score, accuse nobody for a while. */
  private degradeLocalHealth(now: number): void {
    this.counters.localHealth = Math.min(this.settings.awarenessMax - 1, this.counters.localHealth + 1);
    this.quietUntil = now + this.settings.probeIntervalMs * 2;
    for (const suspicion of this.suspicions.values()) suspicion.startedAt = now; // their clocks restart with ours
  }

  private nextProbeTarget(): string | undefined {
    for (let rebuilt = false; ; rebuilt = true) {
      while (this.probeIndex < this.probeOrder.length) {
        const url = this.probeOrder[this.probeIndex++];
        const entry = this.view.get(url);
        if (entry?.online && url !== this.settings.selfUrl) return url;
      }
      if (rebuilt) return undefined;
      this.probeOrder = [...this.view.values()].filter((e) => e.online && e.baseUrl !== this.settings.selfUrl).map((e) => e.baseUrl);
      this.shuffle(this.probeOrder);
      this.probeIndex = 0;
    }
  }

  private knowsOnlinePeer(): boolean {
    for (const e of this.view.values()) if (e.online && e.baseUrl !== this.settings.selfUrl) return true;
    return false;
  }

  /** Offline servers and seeds not in the view: where reconnect probes go. */
  private reserve(): string[] {
    const out: string[] = [];
    for (const e of this.view.values()) if (!e.online && e.baseUrl !== this.settings.selfUrl) out.push(e.baseUrl);
    for (const seed of this.seeds) if (!this.view.get(seed)) out.push(seed);
    return out;
  }

  /**
   * Our own entry plus recent changes for a probe or ack (membership, then key/value deltas
   * while the byte budget lasts); a suspect target also gets its suspicion, so it can refute.
   * Page-format peers get no state. An ack leaves out what the probe it `answers` carried (the
   * sender has it): otherwise every push came straight back in its ack and used up a
   * transmission that should have gone to someone who lacked it.
   */
  private piggyback(target?: string, answers?: ProbeMessage): ServerList & { state?: StateDelta[] } {
    // only read the probe when something waits to be sent (most acks in a quiet cluster)
    const carried = answers && (this.broadcasts.size || this.stateBroadcasts.size) ? carriedBy(answers) : undefined;
    const limit = Math.max(1, this.settings.retransmitMult * Math.ceil(Math.log10(this.view.size + 1)));
    const list: ServerList & { state?: StateDelta[] } = { online: [], offline: [] };
    let bytes = 96 + (target?.length ?? 0);
    const add = (e: MemberEntry) => {
      const wire = toWire(e);
      pushEntry(list, e, wire);
      bytes += entrySize(e);
    };
    add(this.self());
    const targetEntry = target ? this.view.get(target) : undefined;
    if (targetEntry && targetEntry.suspect) add(targetEntry);
    const budget = this.settings.messageBudgetBytes;
    let planned = bytes;
    // a deep queue (suspicion churn under loss in a big cluster) drains faster: up to half of it
    // per message, within the byte budget, as memberlist fills its packets; otherwise maxPiggyback
    const max = Math.max(this.settings.maxPiggyback, Math.ceil(this.broadcasts.size / 2));
    const taken = this.broadcasts.take(max, limit, (e) => {
      if (carried?.members.get(e.baseUrl) === `${e.lastUpdate}:${stateOf(e)}`) return false;
      const size = entrySize(e);
      if (planned + size > budget) return false;
      planned += size;
      return true;
    });
    for (const e of taken) add(e);
    if (this.stateBroadcasts.size && !(target && this.legacyPeers.has(target))) {
      const state = this.stateBroadcasts.take(Infinity, limit, (delta) => {
        const theirs = carried?.state.get(delta.server);
        if (theirs && delta.floor === undefined && theirs.from <= delta.from && theirs.to >= delta.to) return false;
        const size = jsonSize(delta) + 1;
        if (bytes + size > this.settings.messageBudgetBytes) return false;
        bytes += size;
        return true;
      });
      if (state.length) list.state = state;
    }
    return list;
  }

  // ---- shared ------------------------------------------------------------------------

  /** Applies one entry through the join; queues it for piggybacking and tracks suspicions and flaps. */
  private apply(entry: MemberEntry, now: number): MembershipChange | null {
    const merged = this.view.merge(entry);
    if (!merged) return null;
    this.broadcasts.enqueue(merged.entry.baseUrl, merged.entry);
    const state = stateOf(merged.entry);
    if (state === 'suspect') {
      const suspicion = this.suspicions.get(entry.baseUrl);
      const by = merged.entry.by ?? 'unknown';
      if (suspicion) suspicion.confirmers.add(by);
      else this.suspicions.set(entry.baseUrl, { startedAt: now, confirmers: new Set([by]) });
    } else {
      this.suspicions.delete(entry.baseUrl);
    }
    // every state change counts toward flap damping; suspicions too, since every server sees those
    if (merged.previous && merged.previous !== state) this.flaps.record(entry.baseUrl, now);
    if (merged.previous === state) return null; // a newer stamp, a new confirmation: no transition
    return describeChange(merged.entry, merged.previous);
  }

  private restampSelf(online: boolean, reason: string): void {
    const before = this.view.get(this.settings.selfUrl);
    const entry: MemberEntry = { baseUrl: this.settings.selfUrl, monitor: this.settings.monitor, online, lastUpdate: this.clock.tick() };
    this.view.set(entry);
    this.broadcasts.enqueue(entry.baseUrl, entry);
    if (before && before.online !== online) {
      this.emit([{ type: online ? 'online' : 'offline', server: { ...entry }, previous: stateOf(before), reason }]);
    }
  }

  private sanitize(raw: MemberEntry): MemberEntry | null {
    if (!raw || typeof raw.monitor !== 'boolean' || !Number.isSafeInteger(raw.lastUpdate)) return null;
    // a URL already keyed in the view is in normal form: skip re-parsing it (full views repeat them all)
    const normal = (url: string) => (typeof url === 'string' && this.view.get(url) ? url : normalizeBaseUrl(url));
    try {
      const entry: MemberEntry = { baseUrl: normal(raw.baseUrl), monitor: raw.monitor, lastUpdate: raw.lastUpdate, online: raw.online };
      if (this.isForeign(entry.baseUrl)) return null;
      if (entry.baseUrl !== this.settings.selfUrl && this.deps.acceptPeer && !this.view.get(entry.baseUrl) && !this.deps.acceptPeer(entry.baseUrl)) {
        this.deps.log?.debug(`refused ${entry.baseUrl}: not an address this server accepts`);
        return null;
      }
      if (raw.suspect) entry.suspect = true;
      if (typeof raw.by === 'string' && (raw.suspect || !raw.online)) entry.by = normal(raw.by);
      return entry;
    } catch {
      return null;
    }
  }

  /**
   * A server that answered 403 was reached with a valid signature for our cluster and said it
   * belongs to another (two clusters sharing a master list): drop it and ignore it for a while.
   */
  private markForeign(url: string): void {
    const known = this.isForeign(url);
    this.foreignPeers.set(url, this.deps.now() + FOREIGN_IGNORE_MS);
    if (this.foreignPeers.size > 10_000) this.foreignPeers.delete(this.foreignPeers.keys().next().value!);
    this.seeds.delete(url);
    const removed = this.view.remove(url);
    this.state.drop(url);
    this.suspicions.delete(url);
    if (!known) this.deps.log?.warn(`${url} answered 403: it belongs to another cluster (or refuses ours); ignoring it for ${FOREIGN_IGNORE_MS / 60_000} min`);
    if (removed) this.emit([{ type: 'removed', server: removed, previous: stateOf(removed), reason: 'belongs to another cluster' }]);
  }

  private isForeign(url: string): boolean {
    const until = this.foreignPeers.get(url);
    if (until === undefined) return false;
    if (until > this.deps.now()) return true;
    this.foreignPeers.delete(url);
    return false;
  }

  private shuffle<T>(items: T[]): void {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.deps.random() * (i + 1));
      [items[i], items[j]] = [items[j], items[i]];
    }
  }

  private emit(changes: MembershipChange[]): void {
    this.notify(this.listeners, changes, 'membership');
  }

  /** Calls every listener with every change; a listener that throws is logged, never propagated. */
  private notify<T>(listeners: Set<(change: T) => void>, changes: T[], kind: string): void {
    for (const change of changes) {
      for (const listener of listeners) {
        try {
          listener(change);
        } catch (error) {
          this.deps.log?.warn(`${kind} listener threw: ${errorText(error)}`);
        }
      }
    }
  }

  /**
   * Leaves: marks this server offline and pushes that to up to `fanout` online peers at once.
   * Resolves when every push has settled; the caller bounds the time.
   */
  async leave(fanout: number): Promise<string[]> {
    this.setOnline(false);
    const peers = [...this.view.values()].filter((e) => e.online && e.baseUrl !== this.settings.selfUrl).map((e) => e.baseUrl);
    this.shuffle(peers);
    const told = peers.slice(0, fanout);
    // a probe carries our own (now offline) entry: one small request each; full lists for page-format peers
    const timeout = Math.max(this.settings.probeTimeoutMs, 1000);
    await Promise.allSettled(
      told.map((peer) => (this.legacyPeers.has(peer) ? this.exchangeWith(peer) : this.deps.transport.probe(peer, { message: 'probe', ...this.piggyback(peer) }, timeout))),
    );
    this.stop();
    return told;
  }
}

/** What a received probe carried: each member's stamp and state, each server's state range. */
interface Carried {
  members: Map<string, string>;
  state: Map<string, { from: number; to: number }>;
}

function carriedBy(message: ProbeMessage): Carried {
  const members = new Map<string, string>();
  const note = (list: unknown, state: string) => {
    if (!Array.isArray(list)) return;
    for (const e of list as GossipServer[]) if (e && typeof e.baseUrl === 'string') members.set(e.baseUrl, `${e.lastUpdate}:${state}`);
  };
  note(message.online, 'alive');
  note(message.offline, 'offline');
  note(message.suspect, 'suspect');
  const state = new Map<string, { from: number; to: number }>();
  if (Array.isArray(message.state)) for (const d of message.state) if (d && d.floor === undefined) state.set(d.server, { from: d.from, to: d.to });
  return { members, state };
}

function pushEntry(list: ServerList, entry: MemberEntry, wire: GossipServer): void {
  const state = stateOf(entry);
  if (state === 'suspect') (list.suspect ??= []).push(wire);
  else (state === 'alive' ? list.online : (list.offline ??= [])).push(wire);
}

/** Compares our (stamp, rank) for a server with a digest entry's: the same order as `compareEntries`. */
function compareStamps(lastUpdate: number, rank: number, theirs: DigestEntry): number {
  if (lastUpdate !== theirs[1]) return lastUpdate < theirs[1] ? -1 : 1;
  return rank === theirs[2] ? 0 : rank < theirs[2] ? -1 : 1;
}


function digestEntrySize(d: DigestEntry): number {
  return d[0].length + 40;
}

function validLeafHashes(l: unknown): l is { bucket: number; hashes: string } {
  const x = l as { bucket?: unknown; hashes?: unknown };
  return typeof x === 'object' && x !== null && Number.isInteger(x.bucket) && (x.bucket as number) >= 0 && (x.bucket as number) < DIGEST_BUCKETS && typeof x.hashes === 'string';
}

/**
 * Bytes of an entry's wire form with its separating comma:
 * {"baseUrl":"…","monitor":false,"lastUpdate":…,"by":"…"}. Normal-form URLs are ASCII.
 */
function entrySize(e: MemberEntry): number {
  return e.baseUrl.length + String(e.lastUpdate).length + (e.monitor ? 44 : 45) + (e.by ? e.by.length + 8 : 0);
}
