import type { AddressConflict } from './address-conflict.js';
import { AntiEntropy, type RoundResult } from './anti-entropy.js';
import { Awareness } from './awareness.js';
import { normalizeBaseUrl } from './base-url.js';
import { Dissemination } from './dissemination.js';
import { notifyAll, RateLimitedLog } from './engine-log.js';
import type { EngineLifecycleEvent, JoinState } from './engine-lifecycle.js';
import { DEFAULT_ENGINE_SETTINGS, DEFAULT_STATE_LIMITS, stateBytesBound, type EngineSettings, type StateLimits } from './engine-settings.js';
import { FailureDetector, type ProbeOutcome, type ProbeResult } from './failure-detector.js';
import { entriesOf, stateOf, type MemberEntry, type MembershipChange } from './membership-view.js';
import { Membership } from './membership.js';
import { PeerBook } from './peer-book.js';
import { shuffle } from './peer-selection.js';
import { OwnAddress, type AddressCheck, type SelfCheckResult } from './own-address.js';
import type { JsonValue, StateChange } from './replicated-state.js';
import { StateReplication } from './state-replication.js';
import type { EngineDeps, EngineStats } from './engine-types.js';
import type { ProbeAck, ProbeMessage, ServerList, SyncMessage } from './types.js';

export type { AddressCheck, SelfCheckResult } from './own-address.js';
export type { EngineDeps, EngineStats } from './engine-types.js';

/**
 * The framework-free gossip engine of one server: it wires the protocol's units (Membership,
 * Awareness, FailureDetector, Dissemination, AntiEntropy, StateReplication, PeerBook), runs
 * their ticks, answers the three messages (gossip, probe, sync), and leaves. It owns no timers
 * and does no I/O of its own: clock, randomness and transport are injected, so the same code
 * runs in production and in the simulator.
 */
export class ClusterEngine {
  readonly settings: EngineSettings;
  private readonly membership: Membership;
  private readonly awareness: Awareness;
  private readonly peers: PeerBook;
  private readonly dissemination: Dissemination;
  private readonly replication: StateReplication;
  private readonly detector: FailureDetector;
  private readonly antiEntropy: AntiEntropy;
  private readonly log: RateLimitedLog;
  private readonly ownAddress: OwnAddress;
  private readonly lifecycleListeners = new Set<(event: EngineLifecycleEvent) => void>();
  private pushesSent = 0;
  /** Whether this process has announced its state after its first sync (see StateReplication.announceOwn). */
  private announced = false;

  constructor(
    settings: Partial<EngineSettings> & Pick<EngineSettings, 'selfUrl'>,
    private readonly deps: EngineDeps,
  ) {
    const merged = { ...DEFAULT_ENGINE_SETTINGS, ...settings, selfUrl: normalizeBaseUrl(settings.selfUrl) };
    // a server's whole state must fit in one message (a reset is never cut)
    const stateLimits: StateLimits = { ...DEFAULT_STATE_LIMITS, ...merged.stateLimits };
    stateLimits.maxBytesPerServer = Math.min(stateLimits.maxBytesPerServer ?? Infinity, stateBytesBound(merged.messageBudgetBytes));
    const s = (this.settings = { ...merged, stateLimits });
    const { now, random } = deps;
    const log = (this.log = new RateLimitedLog(deps.log, now));
    this.awareness = new Awareness(s.awarenessMax, s.probeIntervalMs * 2);
    this.peers = new PeerBook(s.selfUrl, { now, log, acceptPeer: deps.acceptPeer });
    this.membership = new Membership(s, { now, log, peers: this.peers, awareness: this.awareness, shareEntry: deps.shareEntry });
    this.dissemination = new Dissemination(s, this.membership, this.peers, { timeLeft: (delta) => this.replication.withTimeLeft(delta) });
    this.replication = new StateReplication(s.selfUrl, s.stateLimits, this.membership, this.dissemination, { now, log });
    this.antiEntropy = new AntiEntropy(s, this.membership, this.replication, this.peers, { transport: deps.transport, random, now, log });
    this.detector = new FailureDetector(s, this.membership, this.awareness, this.peers, {
      now,
      random,
      send: (peer, target, timeoutMs) => this.sendProbe(peer, target, timeoutMs),
      gossipCheck: async (peer, timeoutMs) => (await this.antiEntropy.exchangeWith(peer, timeoutMs)).ok,
    });
    this.ownAddress = new OwnAddress(s, this.membership, log, { now, transport: deps.transport, syncOnce: () => this.antiEntropy.round() });
    // a server of another cluster leaves the view and takes its state with it
    this.peers.onForeign((url) => this.membership.remove(url, 'belongs to another cluster'));
    // a restarted server is a new process: its predecessor's acks and format say nothing about it
    this.membership.onNewProcess((url) => this.peers.forgetProcess(url));
    this.membership.onApplied((entry) => this.peers.noteProcess(entry.baseUrl, entry.generation, now()));
    // a new generation (a start, the address taken back) is a new process to its peers: it announces its state again
    this.membership.onGeneration(() => {
      this.announced = false;
    });
  }

  get isRunning(): boolean {
    return this.membership.isRunning;
  }

  /** Puts this server in its own view, online, with a fresh stamp. */
  start(): void {
    if (this.membership.isRunning) return;
    this.ownAddress.started(this.deps.now());
    this.membership.start();
    this.notifyLifecycle('started');
  }

  stop(): void {
    const wasRunning = this.membership.isRunning;
    this.membership.stop();
    if (wasRunning) this.notifyLifecycle('stopped');
  }

  /**
   * Called after `start`, `stop` and `preload`, and when this process joins (its first sync
   * with a peer succeeded): the view or the join state changes then without membership events
   * (this server's own entry appears at start; a preloaded view arrives as already known).
   * Features that keep something derived from the view (key ownership) rebuild it.
   * Returns an unsubscribe function.
   */
  onLifecycle(listener: (event: EngineLifecycleEvent) => void): () => void {
    this.lifecycleListeners.add(listener);
    return () => this.lifecycleListeners.delete(listener);
  }

  /**
   * Whether this process has joined the cluster (see JoinState). Until it has synced with a
   * peer its view may hold only itself, so anything decided from the view (who owns a key, a
   * quorum) is a guess: coordination waits for `joined` (or `alone`).
   */
  joinState(): JoinState {
    if (this.announced) return 'joined';
    if (this.membership.size > 1) return 'joining';
    for (const seed of this.peers.seeds) if (seed !== this.settings.selfUrl) return 'joining';
    return 'alone';
  }

  private notifyLifecycle(event: EngineLifecycleEvent): void {
    notifyAll(this.lifecycleListeners, [event], 'lifecycle', this.log);
  }

  /** Running and holding its address (not yielded in an address conflict): the ticks do their work. */
  private get active(): boolean {
    return this.membership.isRunning && !this.membership.hasYielded;
  }

  /** This process's generation: the stamp it started with (0 before start). */
  get generation(): number {
    return this.membership.processGeneration;
  }

  // ---- reading the view and state ------------------------------------------------------

  /** This server's own entry (a copy). */
  self(): MemberEntry {
    return this.membership.self();
  }

  /** A server's entry as this server holds it (a copy), or undefined. */
  member(baseUrl: string): MemberEntry | undefined {
    const entry = this.membership.get(baseUrl);
    return entry && { ...entry };
  }

  /** How many servers the view holds (this one included, every state). */
  get viewSize(): number {
    return this.membership.size;
  }

  /** The view's hash: 16 hex digits, equal on servers whose views (and key/value watermarks) agree. */
  viewHash(): string {
    return this.membership.digest.root();
  }

  /** The view in wire form; `sorted` for stable output (lists, tests), unsorted for messages. */
  snapshot(sorted = true): ServerList {
    return this.membership.snapshot(sorted);
  }

  /** A live key/value value of a server (this one included), or undefined. */
  peerValue(server: string, key: string): JsonValue | undefined {
    return this.replication.get(server, key);
  }

  /** One server's live keys. */
  stateOf(server: string): Record<string, JsonValue> {
    return this.replication.entriesOf(server);
  }

  /** Every server's live keys, by base URL (servers without keys are left out). */
  stateSnapshot(): Record<string, Record<string, JsonValue>> {
    return this.replication.snapshot();
  }

  /** The watermark of a server's key/value state as held here (0 when none). */
  stateVersion(server: string): number {
    return this.replication.knownVersion(server);
  }

  stats(): EngineStats {
    return {
      ...this.antiEntropy.stats,
      ...this.detector.stats,
      pushesSent: this.pushesSent,
      entriesRefused: this.membership.stats.entriesRefused + this.peers.refused + this.replication.stats.entriesRefused,
      selfReassertions: this.membership.stats.selfReassertions,
      localHealth: this.awareness.score,
      stateRefutations: this.replication.stats.stateRefutations,
      broadcastQueueDepth: this.dissemination.depth,
    };
  }

  // ---- changing it -----------------------------------------------------------------------

  /** Takes this server offline or back online. Returns false when it already was. */
  setOnline(online: boolean): boolean {
    return this.membership.setOnline(online);
  }

  onChange(listener: (change: MembershipChange) => void): () => void {
    return this.membership.onChange(listener);
  }

  /** Key/value changes (this server's and its peers'), as they are made or learned. */
  onStateChange(listener: (change: StateChange) => void): () => void {
    return this.replication.onChange(listener);
  }

  /** Sets a key of this server's state; it spreads with the next probes. Throws StateValueError on bad input. */
  setLocalState(key: string, value: JsonValue, expiresAt?: number): void {
    this.replication.setLocal(key, value, expiresAt);
  }

  /** Deletes a key of this server's state. False when it was not set. */
  deleteLocalState(key: string): boolean {
    return this.replication.deleteLocal(key);
  }

  /** Base URLs to try when no online peer is known (from the master list). */
  addSeeds(baseUrls: Iterable<string>): void {
    this.peers.addSeeds(baseUrls);
  }

  /** The seeds known (normalised base URLs from the master list or discovery). */
  seeds(): string[] {
    return [...this.peers.seeds];
  }

  /** Merges a master-list document: its entries by the usual rules, and every server in it as a seed. */
  mergeMasterList(list: ServerList): MembershipChange[] {
    this.addSeeds(entriesOf(list).map((e) => e.baseUrl));
    return this.merge(list, 'master list');
  }

  /** Merges a remote view by the membership rules (see Membership.merge). */
  merge(list: ServerList, source: string): MembershipChange[] {
    return this.membership.merge(list, source);
  }

  /** Applies key/value deltas from a peer (see StateReplication.merge). */
  mergeState(deltas: Parameters<StateReplication['merge']>[0], source: string): StateChange[] {
    return this.replication.merge(deltas, source);
  }

  /**
   * Installs entries as already known, without news (no events, nothing queued for gossip):
   * a converged start in simulations, or restoring a known view.
   */
  preload(entries: Iterable<MemberEntry>): void {
    this.membership.preload(entries);
    this.announced = true; // a known view: this process has joined
    this.notifyLifecycle('preloaded');
  }

  // ---- the three messages ----------------------------------------------------------------

  /** Answers a gossip message: merge it, then return our view (push-pull). */
  handleGossip(message: ServerList): ServerList {
    return this.antiEntropy.handleGossip(message);
  }

  /** Answers one leg of a sync (see SyncMessage). */
  handleSync(message: SyncMessage): SyncMessage {
    return this.antiEntropy.handleSync(message);
  }

  /** Answers a probe: merge its changes; for an indirect probe, probe the target for the sender. */
  async handleProbe(message: ProbeMessage): Promise<ProbeAck> {
    if (message.selfCheck && message.selfCheck !== this.generation && this.membership.isRunning) this.ownAddress.noteTwinCheck(message.selfCheck);
    this.membership.merge(message, 'probe');
    if (Array.isArray(message.state)) this.replication.merge(message.state, 'probe');
    if (!message.target) return { message: 'ack', ack: true, ...this.dissemination.piggyback(undefined, message) };
    let target: string | undefined;
    try {
      target = normalizeBaseUrl(message.target);
    } catch {
      target = undefined;
    }
    const result: ProbeResult = target !== undefined && target !== this.settings.selfUrl ? await this.detector.probeFor(target) : 'silent';
    // `refused` tells the sender that nothing listens at the target (see fastFailOnRefusal)
    return { message: 'ack', ack: result === 'ack', ...(result === 'refused' ? { refused: true } : {}), ...this.dissemination.piggyback(undefined, message) };
  }

  // ---- ticks -------------------------------------------------------------------------------

  /** One push-pull round with one peer (anti-entropy). Never throws: failures are counted and returned. */
  async gossipRound(): Promise<RoundResult> {
    await this.ownAddress.checkConflict();
    if (!this.membership.isRunning) return { peer: null, ok: false, error: 'not running', changes: [] };
    this.maintain();
    if (this.membership.hasYielded) return { peer: null, ok: false, error: 'address yielded to another process', changes: [] };
    return this.afterSync(await this.antiEntropy.round());
  }

  /**
   * The first sync that succeeds gives a new process the view: it announces its state then,
   * and syncs at once with `pushFanout` other members, so that a restarted server's keys reach
   * a few members for certain instead of riding only on pushes it made while it knew one seed.
   */
  private afterSync(round: RoundResult): RoundResult {
    if (round.ok && !this.announced) {
      this.announced = true;
      this.notifyLifecycle('joined');
      this.replication.announceOwn();
      const others = this.detector.helpers(round.peer ?? this.settings.selfUrl, this.settings.pushFanout);
      for (const peer of others) void this.antiEntropy.syncWith(peer);
    }
    return round;
  }

  /** Anti-entropy with one given peer (see AntiEntropy.syncWith). */
  syncWith(peer: string): Promise<RoundResult> {
    return this.antiEntropy.syncWith(peer);
  }

  /** The page's full-list exchange with one given peer. */
  exchangeWith(peer: string): Promise<RoundResult> {
    return this.antiEntropy.exchangeWith(peer);
  }

  /**
   * Peers that answered 404 to probe, sync and the page's gossip within the last `withinMs`:
   * nothing of ours listens under our route prefix there (a route-prefix mismatch, or a URL
   * that is not a clustershazbot server).
   */
  peersNotFound(withinMs: number): string[] {
    return this.peers.notFoundSince(this.deps.now() - withinMs);
  }

  /**
   * Peers that answered 401 within the last `withinMs`: they refuse this server's signature
   * (another secret, or a clock off by more than the signature window). Unsigned answers: for
   * diagnostics only.
   */
  peersRefusingSignature(withinMs: number): string[] {
    return this.peers.unauthorizedSince(this.deps.now() - withinMs);
  }

  /** Servers ignored now as another cluster's: they answered 403 to our valid signature (another cluster name). */
  peersOfAnotherCluster(): string[] {
    return this.peers.foreignNow();
  }

  /**
   * One probe interval of the failure detector (see FailureDetector.probe); a reconnect probe
   * that was answered is followed by a sync, so both sides see each other's rumours and refute
   * them.
   */
  async probeTick(): Promise<ProbeOutcome> {
    try {
      if (!this.membership.isRunning || this.settings.probeIntervalMs <= 0) return { kind: 'idle' };
      // yielded: housekeeping only (keys expire, tombstones go); no probes, no accusations
      if (this.membership.hasYielded) return this.maintain(), { kind: 'idle' };
      const now = this.deps.now();
      this.detector.beginTick(now);
      this.maintain();
      const outcome = await this.detector.probe(now);
      if (outcome.kind === 'reconnected') this.afterSync(await this.antiEntropy.syncWith(outcome.target));
      return outcome;
    } finally {
      this.awareness.tickEnded(this.deps.now());
    }
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
    if (!this.active || this.settings.pushFanout <= 0) return 0;
    if (!this.dissemination.hasPending) return 0;
    const peers = this.detector.helpers(this.settings.selfUrl, this.settings.pushFanout);
    await Promise.all(
      peers.map(async (peer) => {
        try {
          await this.sendProbe(peer, undefined, this.settings.probeTimeoutMs);
        } catch {
          // a lost push is a change sent once fewer; its retransmissions continue
        }
      }),
    );
    this.pushesSent += peers.length;
    return peers.length;
  }

  /**
   * Renews this server's stamp when due, expires keys, and drops entries past retention; also
   * while yielded in an address conflict (it renews nothing then, and its self-checks are the
   * conflict's rechecks).
   */
  maintain(): MembershipChange[] {
    const now = this.deps.now();
    if (this.active) this.ownAddress.checkIfDue(now);
    this.membership.renewIfDue(now);
    this.replication.expire();
    this.peers.pruneAnswered((url) => this.membership.get(url) !== undefined, this.membership.size);
    return this.membership.sweep(now);
  }

  /**
   * Leaves: marks this server offline and tells `fanout` members that are staying. A push
   * counts once it was acknowledged by a member whose own entry is still alive (a member that is
   * leaving at the same moment says so in its ack and does not count); until `fanout` have
   * counted, the next members are tried, alive ones before suspects, until `deadline` (ms on
   * this engine's clock). Resolves with the members told.
   */
  async leave(fanout: number, deadline = Infinity): Promise<string[]> {
    if (this.membership.hasYielded) {
      // the URL is another process's now: a leave of ours would be a word about it; tell nobody
      this.stop();
      return [];
    }
    this.setOnline(false);
    const others = [...this.membership.values()].filter((e) => e.online && e.baseUrl !== this.settings.selfUrl);
    const alive = others.filter((e) => stateOf(e) === 'alive').map((e) => e.baseUrl);
    const suspect = others.filter((e) => stateOf(e) === 'suspect').map((e) => e.baseUrl);
    shuffle(alive, this.deps.random);
    shuffle(suspect, this.deps.random);
    const candidates = [...alive, ...suspect];
    const told: string[] = [];
    // a probe carries our own (now offline) entry: one small request each; full lists for page-format peers
    const timeout = Math.max(this.settings.probeTimeoutMs, 1000);
    for (let round = 0; told.length < fanout && candidates.length > 0 && this.deps.now() < deadline; round++) {
      // after a first batch that did not reach enough members that stay, try several at once: the time is bounded
      const batch = candidates.splice(0, (fanout - told.length) * (round === 0 ? 1 : 3));
      const results = await Promise.allSettled(
        batch.map(async (peer) => {
          if (!this.peers.isPageFormat(peer)) return void (await this.sendProbe(peer, undefined, timeout));
          const round = await this.antiEntropy.exchangeWith(peer);
          if (!round.ok) throw new Error(round.error);
        }),
      );
      results.forEach((r, i) => {
        const entry = this.membership.get(batch[i]);
        if (r.status === 'fulfilled' && entry && stateOf(entry) !== 'offline') told.push(batch[i]);
      });
    }
    this.stop();
    return told;
  }

  // ---- this server's own address (see OwnAddress) --------------------------------------------

  /**
   * Probes this server's own base URL: does it reach this very process? The answer carries the
   * answering process's own entry, whose generation tells it apart. Used at start (a base URL
   * that does not reach us is a misconfiguration) and to resolve address conflicts.
   */
  selfCheck(timeoutMs?: number): Promise<SelfCheckResult> {
    return this.ownAddress.selfCheck(timeoutMs);
  }

  /** The address conflict this process is in, if any (see AddressConflict). */
  conflict(): AddressConflict | undefined {
    return this.ownAddress.conflict();
  }

  /** What the last probe of our own base URL found, and when (see selfCheck); undefined before the first. */
  addressCheck(): AddressCheck | undefined {
    return this.ownAddress.addressCheck();
  }

  /** Sends a probe (indirect when `target` is given) with its piggyback, and merges what its ack carries. */
  private async sendProbe(peer: string, target: string | undefined, timeoutMs: number): Promise<ProbeAck> {
    const message: ProbeMessage = target === undefined ? { message: 'probe', ...this.dissemination.piggyback(peer) } : { message: 'probe', target, ...this.dissemination.piggyback(target) };
    const ack = await this.deps.transport.probe(peer, message, timeoutMs);
    this.membership.merge(ack, peer);
    if (Array.isArray(ack.state)) this.replication.merge(ack.state, peer);
    return ack;
  }
}

