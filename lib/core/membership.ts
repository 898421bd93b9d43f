import { normalizeBaseUrl } from './base-url.js';
import type { Awareness } from './awareness.js';
import { notifyAll, type RateLimitedLog } from './engine-log.js';
import { escapeForLog } from './log-text.js';
import { MAX_SERVERS, type EngineSettings } from './engine-settings.js';
import { HybridClock } from './hybrid-clock.js';
import { compareEntries, describeChange, entriesOf, MembershipView, stateOf, type MemberEntry, type MembershipChange } from './membership-view.js';
import type { PeerBook } from './peer-book.js';
import { FlapDamper, type Suspicion } from './suspicion.js';
import type { ServerList } from './types.js';
import type { ViewDigest } from './view-digest.js';

type MembershipSettings = Pick<EngineSettings, 'selfUrl' | 'monitor' | 'maxClockSkewMs' | 'retentionMs' | 'renewEveryMs' | 'flapHalfLifeMs' | 'flapThreshold'>;

/**
 * One server's membership: the view and the policy around its join (self-authority, clock
 * bounds, retention), this server's own entry, the hybrid clock, running suspicions with their
 * confirmations, flap damping, and change listeners. SWIM's membership state with memberlist's
 * refutation (state.go: `aliveNode`, `suspectNode`, `deadNode`, `refute`), with the hybrid
 * clock's stamps as incarnation numbers. It knows nothing of probes or sync: the failure
 * detector declares through `declare`, the other units subscribe to what it applies.
 */
export class Membership {
  readonly clock: HybridClock;
  private readonly view: MembershipView;
  private readonly suspicionsByUrl = new Map<string, Suspicion>();
  private readonly flaps: FlapDamper;
  private readonly listeners = new Set<(change: MembershipChange) => void>();
  private readonly appliedListeners = new Set<(entry: MemberEntry) => void>();
  private readonly removedListeners = new Set<(url: string) => void>();
  private readonly confirmationListeners = new Set<(entry: MemberEntry) => void>();
  private readonly newProcessListeners = new Set<(url: string) => void>();
  private readonly rivalListeners = new Set<(entry: MemberEntry) => void>();
  private readonly generationListeners = new Set<(generation: number) => void>();
  private running = false;
  /** This process's generation: the stamp at which it started (or took its address back). */
  private generation = 0;
  /** Another process claims our URL and we gave it up: no refutations, no stamps of our own. */
  private yielded = false;
  /** What `setOnline` asked for while yielded, applied when the address is taken back. */
  private wantOnline = true;
  /** While yielded: this server's last entry, kept out of the view (see yieldAddress). */
  private yieldedSelf?: MemberEntry;
  private lastSweepAt = -Infinity;
  readonly stats = {
    /** Incoming entries refused: malformed, stamped too far ahead, or older than the retention period. */
    entriesRefused: 0,
    /** Times this server re-asserted its own entry over a newer rumour about itself (refutations). */
    selfReassertions: 0,
  };

  constructor(
    private readonly settings: MembershipSettings,
    private readonly deps: {
      now: () => number;
      log: RateLimitedLog;
      peers: PeerBook;
      awareness: Awareness;
      /** See MembershipView: lets a simulator share entry objects among all its views. */
      shareEntry?: (entry: MemberEntry) => MemberEntry;
    },
  ) {
    this.view = new MembershipView(deps.shareEntry);
    this.clock = new HybridClock(deps.now, settings.maxClockSkewMs);
    this.flaps = new FlapDamper(settings.flapHalfLifeMs, settings.flapThreshold);
  }

  /** The view's two-level hash (see ViewDigest), kept current on every change. */
  get digest(): ViewDigest {
    return this.view.digest;
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Puts this server in its own view, online, with a fresh stamp: the start of a new generation. */
  start(): void {
    this.running = true;
    this.yielded = false;
    this.yieldedSelf = undefined;
    this.wantOnline = true;
    this.generation = this.clock.tick();
    this.writeSelf(true, this.generation, 'started');
    this.notifyGeneration();
  }

  /** This process's generation (the stamp it started with); 0 before start. */
  get processGeneration(): number {
    return this.generation;
  }

  /** Whether this process gave its address up to another process that claims it (see ClusterEngine). */
  get hasYielded(): boolean {
    return this.yielded;
  }

  /**
   * Stops claiming our URL: no refutations, renewals or restamps until `reclaimAddress`. Our own
   * last entry leaves the view (`self()` still returns it): it may be newer than the other
   * process's last word, and a sync would spread it; without it, every sync brings what the
   * cluster says of the URL (the other process's word, alive or declared offline).
   */
  yieldAddress(): void {
    if (this.yielded) return;
    this.yielded = true;
    this.yieldedSelf = this.view.remove(this.settings.selfUrl) ?? undefined;
  }

  /** Claims our URL again as a new generation, above every stamp seen. */
  reclaimAddress(): void {
    if (!this.yielded) return;
    this.yielded = false;
    this.generation = this.clock.tick();
    this.writeSelf(this.wantOnline, this.generation, 'took its address back');
    this.yieldedSelf = undefined;
    this.notifyGeneration();
  }

  /**
   * This process's generation changed (start, or the address taken back): whatever is tied to
   * the generation (key/value versions, the announcement after the first sync) starts over.
   */
  onGeneration(listener: (generation: number) => void): void {
    this.generationListeners.add(listener);
  }

  private notifyGeneration(): void {
    for (const listener of this.generationListeners) listener(this.generation);
  }

  stop(): void {
    this.running = false;
  }

  self(): MemberEntry {
    const entry = this.view.get(this.settings.selfUrl) ?? this.yieldedSelf;
    return entry ? { ...entry } : { baseUrl: this.settings.selfUrl, monitor: this.settings.monitor, lastUpdate: 0, online: false };
  }

  /** The stored entry of a server (never mutate it), or undefined. */
  get(url: string): MemberEntry | undefined {
    return this.view.get(url);
  }

  get size(): number {
    return this.view.size;
  }

  values(): IterableIterator<MemberEntry> {
    return this.view.values();
  }

  keys(): IterableIterator<string> {
    return this.view.keys();
  }

  /** How many servers of the view fall in a digest bucket. */
  bucketSize(bucket: number): number {
    return this.view.bucketSize(bucket);
  }

  /** Takes this server offline or back online. Returns false when it already was. */
  setOnline(online: boolean): boolean {
    if (this.yielded) {
      // the address belongs to another process for now: remember the wish, stamp nothing
      const changed = this.wantOnline !== online;
      this.wantOnline = online;
      return changed;
    }
    const self = this.self();
    if (self.online === online && !self.suspect && self.lastUpdate > 0) return false;
    this.restampSelf(online, online ? 'came back' : 'left');
    return true;
  }

  /** The view in wire form; `sorted` for stable output (lists, tests), unsorted for messages. */
  snapshot(sorted = true): ServerList {
    return this.view.toServerList(sorted);
  }

  /** Membership transitions as they are learned. Returns an unsubscribe function. */
  onChange(listener: (change: MembershipChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Every entry that enters the view (a newer version, this server's own restamps included), as it enters. */
  onApplied(listener: (entry: MemberEntry) => void): void {
    this.appliedListeners.add(listener);
  }

  /** Every server removed from the view (retention, another cluster), before the change is announced. */
  onRemoved(listener: (url: string) => void): void {
    this.removedListeners.add(listener);
  }

  /**
   * An independent confirmation of a running suspicion that did not replace the view's entry
   * (same incarnation, another declarer): it must still spread, so that every server counts
   * it (Lifeguard's confirmations; memberlist re-broadcasts suspect messages likewise).
   */
  onConfirmation(listener: (entry: MemberEntry) => void): void {
    this.confirmationListeners.add(listener);
  }

  /** A server restarted: its entry now comes from a new process (another generation). */
  onNewProcess(listener: (url: string) => void): void {
    this.newProcessListeners.add(listener);
  }

  /**
   * Another process (another generation) claims our own URL with a word newer than ours; while
   * yielded, any word of another generation about our URL (what the cluster says of the process
   * that holds it: alive, or declared offline). Called with the newest such entry of a merge.
   */
  onRival(listener: (entry: MemberEntry) => void): void {
    this.rivalListeners.add(listener);
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
    let rival: MemberEntry | undefined;
    for (const raw of entriesOf(list)) {
      const entry = this.sanitize(raw);
      if (!entry) {
        this.stats.entriesRefused++;
        continue;
      }
      if (!this.clock.isAcceptable(entry.lastUpdate)) {
        this.stats.entriesRefused++;
        this.deps.log.warnEvery('future-stamp', () => `refused ${entry.baseUrl} from ${escapeForLog(source)}: stamped ${entry.lastUpdate - now} ms in the future (bound ${this.settings.maxClockSkewMs} ms; is a clock wrong?)`);
        continue;
      }
      if (entry.lastUpdate < oldest) {
        this.stats.entriesRefused++;
        continue;
      }
      this.clock.observe(entry.lastUpdate);
      if (entry.baseUrl === this.settings.selfUrl) {
        const newer = compareEntries(entry, this.self()) > 0;
        if (newer) rumourAboutSelf = true;
        // a word about another process at our URL: a predecessor's (once) or a twin's (again and
        // again); while yielded, what the cluster says of the process we gave the URL to
        const other = entry.generation !== undefined && entry.generation !== this.generation;
        if (other && (newer || this.yielded) && (!rival || compareEntries(entry, rival) > 0)) rival = entry;
        continue;
      }
      const change = this.apply(entry, now);
      if (change) changes.push(change);
    }
    if (rival !== undefined && this.running) for (const listener of this.rivalListeners) listener(rival);
    if (rumourAboutSelf && this.running && !this.yielded) {
      this.stats.selfReassertions++;
      this.deps.awareness.raise();
      this.restampSelf(this.self().online, 'refuted a rumour');
    }
    this.emit(changes);
    return changes;
  }

  /**
   * This server's own verdict on a member (the failure detector's): `suspect` (still a member,
   * SWIM's suspicion) or `offline` (declared failed), with `by` = this server. The verdict
   * carries the stamp of the entry it is about, as memberlist's suspect and dead messages carry
   * the incarnation they accuse: it beats that entry by state, and any newer word from the
   * member itself (a refutation, a leave) beats it, whatever the declarer's clock says.
   */
  declare(entry: MemberEntry, verdict: 'suspect' | 'offline', now: number): MembershipChange | null {
    const declared: MemberEntry = { ...entry, online: verdict === 'suspect', suspect: verdict === 'suspect', by: this.settings.selfUrl };
    const change = this.apply(declared, now);
    this.emit(change ? [change] : []);
    return change;
  }

  /**
   * Installs entries as already known, without news: no change events, nothing queued for
   * gossip. For a converged start in simulations and for restoring a known view.
   */
  preload(entries: Iterable<MemberEntry>): void {
    for (const entry of entries) if (entry.baseUrl !== this.settings.selfUrl) this.view.set(entry);
  }

  /** Re-stamps this server's own entry when due, so a live server's entry never ages out. */
  renewIfDue(now: number): void {
    if (this.running && !this.yielded && now - this.self().lastUpdate >= this.settings.renewEveryMs) this.restampSelf(this.self().online, 'renewed');
  }

  /** Drops entries past retention (at most once a minute: the walk covers the whole view). */
  sweep(now: number): MembershipChange[] {
    const changes: MembershipChange[] = [];
    // the expiry sweep walks the whole view: once a minute is plenty for a 24 h retention
    if (now - this.lastSweepAt < Math.min(60_000, this.settings.retentionMs / 10)) return changes;
    this.lastSweepAt = now;
    for (const entry of [...this.view.values()]) {
      if (entry.baseUrl === this.settings.selfUrl) continue;
      if (entry.lastUpdate < now - this.settings.retentionMs && this.view.remove(entry.baseUrl)) {
        for (const listener of this.removedListeners) listener(entry.baseUrl);
        this.suspicionsByUrl.delete(entry.baseUrl);
        this.flaps.forget(entry.baseUrl);
        changes.push({ type: 'removed', server: entry, previous: stateOf(entry), reason: `no update for ${Math.round(this.settings.retentionMs / 3_600_000)} h` });
      }
    }
    this.emit(changes);
    return changes;
  }

  /** Removes a server from the view at once (it belongs to another cluster), announcing `reason`. */
  remove(url: string, reason: string): void {
    const removed = this.view.remove(url);
    for (const listener of this.removedListeners) listener(url);
    this.suspicionsByUrl.delete(url);
    if (removed) this.emit([{ type: 'removed', server: removed, previous: stateOf(removed), reason }]);
  }

  /** The running suspicion of a server, if any. */
  suspicion(url: string): Suspicion | undefined {
    return this.suspicionsByUrl.get(url);
  }

  /** Running suspicions; a suspicion whose entry is no longer suspect is dropped as it is met. */
  *suspicions(): IterableIterator<[string, Suspicion, MemberEntry]> {
    for (const [url, suspicion] of this.suspicionsByUrl) {
      const entry = this.view.get(url);
      if (!entry || stateOf(entry) !== 'suspect') {
        this.suspicionsByUrl.delete(url);
        continue;
      }
      yield [url, suspicion, entry];
    }
  }

  /** Our clock was wrong (paused, starved): every suspicion's timer restarts with ours. */
  restartSuspicions(now: number): void {
    for (const suspicion of this.suspicionsByUrl.values()) suspicion.startedAt = now;
  }

  /** Flap damping: the factor by which a server's suspicion timeout is stretched (1 when it is not flapping). */
  flapFactor(url: string, now: number): number {
    return this.flaps.factor(url, now);
  }

  /** Applies one entry through the join; tracks suspicions and flaps and tells `onApplied` listeners. */
  private apply(entry: MemberEntry, now: number): MembershipChange | null {
    const before = this.view.get(entry.baseUrl);
    if (!before && this.view.size >= MAX_SERVERS && !this.makeRoom(entry)) {
      this.stats.entriesRefused++;
      this.deps.log.warnEvery(
        'view-full',
        () => `refused ${entry.baseUrl}: the view holds ${MAX_SERVERS} servers, the most a view, a message and a master list carry, and none of them is offline${entry.online ? '' : ' and older than it'}`,
      );
      return null;
    }
    const merged = this.view.merge(entry);
    if (!merged) {
      if (before) this.confirm(before, entry);
      return null;
    }
    for (const listener of this.appliedListeners) listener(merged.entry);
    // a new process at this address: nothing learnt about the previous one applies to it
    const newProcess = before !== undefined && (before.generation ?? 0) !== (merged.entry.generation ?? 0);
    if (newProcess) {
      this.flaps.forget(entry.baseUrl);
      for (const listener of this.newProcessListeners) listener(entry.baseUrl);
    }
    const state = stateOf(merged.entry);
    if (state === 'suspect') {
      const suspicion = this.suspicionsByUrl.get(entry.baseUrl);
      const by = merged.entry.by ?? 'unknown';
      if (suspicion) suspicion.confirmers.add(by);
      else this.suspicionsByUrl.set(entry.baseUrl, { startedAt: now, confirmers: new Set([by]) });
    } else {
      this.suspicionsByUrl.delete(entry.baseUrl);
    }
    // every state change counts toward flap damping; suspicions too, since every server sees those
    if (merged.previous && merged.previous !== state && !newProcess) this.flaps.record(entry.baseUrl, now);
    if (merged.previous === state) return null; // a newer stamp, a new confirmation: no transition
    return describeChange(merged.entry, merged.previous);
  }

  /**
   * The view is full (MAX_SERVERS, the bound every list on the wire and every master list also
   * has, so that what we write can be read back): drops the oldest offline entries, a hundredth
   * of the view at a time so the walk is paid rarely. They would leave at the end of the
   * retention period anyway. An offline `incoming` entry takes only the place of older offline
   * ones: evicting a newer one for it would drop what is kept longest for what goes first (and
   * the evicted one, gossiped back, would evict the next). False when nothing may make room.
   */
  private makeRoom(incoming: MemberEntry): boolean {
    const offline = [...this.view.values()].filter((e) => !e.online && e.baseUrl !== this.settings.selfUrl && (incoming.online || e.lastUpdate < incoming.lastUpdate));
    if (offline.length === 0) return false;
    offline.sort((a, b) => a.lastUpdate - b.lastUpdate);
    const changes: MembershipChange[] = [];
    for (const entry of offline.slice(0, Math.max(1, Math.ceil(this.view.size / 100)))) {
      this.view.remove(entry.baseUrl);
      for (const listener of this.removedListeners) listener(entry.baseUrl);
      this.suspicionsByUrl.delete(entry.baseUrl);
      this.flaps.forget(entry.baseUrl);
      changes.push({ type: 'removed', server: entry, previous: stateOf(entry), reason: `the view is full (${MAX_SERVERS} servers): the oldest offline entries make room` });
    }
    this.emit(changes);
    return true;
  }

  /**
   * Records another server's suspicion of the same incarnation that lost to the view's entry
   * only on the declarer's name, and passes it on once.
   */
  private confirm(current: MemberEntry, incoming: MemberEntry): void {
    if (!incoming.suspect || !incoming.by || !current.suspect || incoming.lastUpdate !== current.lastUpdate) return;
    const suspicion = this.suspicionsByUrl.get(incoming.baseUrl);
    if (!suspicion || suspicion.confirmers.has(incoming.by)) return;
    suspicion.confirmers.add(incoming.by);
    for (const listener of this.confirmationListeners) listener(incoming);
  }

  private restampSelf(online: boolean, reason: string): void {
    this.writeSelf(online, this.clock.tick(), reason);
  }

  private writeSelf(online: boolean, stamp: number, reason: string): void {
    const before = this.view.get(this.settings.selfUrl) ?? this.yieldedSelf;
    const entry: MemberEntry = { baseUrl: this.settings.selfUrl, monitor: this.settings.monitor, online, lastUpdate: stamp };
    if (this.generation) entry.generation = this.generation;
    this.view.set(entry);
    for (const listener of this.appliedListeners) listener(entry);
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
      if (this.deps.peers.isForeign(entry.baseUrl, raw.generation)) return null;
      if (entry.baseUrl !== this.settings.selfUrl && !this.view.get(entry.baseUrl) && !this.deps.peers.accepts(entry.baseUrl)) {
        this.deps.log.debug(`refused ${entry.baseUrl}: not an address this server accepts`);
        return null;
      }
      if (raw.suspect) entry.suspect = true;
      if (typeof raw.by === 'string' && (raw.suspect || !raw.online)) entry.by = normal(raw.by);
      if (Number.isSafeInteger(raw.generation) && raw.generation! > 0) entry.generation = raw.generation;
      return entry;
    } catch {
      return null;
    }
  }

  private emit(changes: MembershipChange[]): void {
    notifyAll(this.listeners, changes, 'membership', this.deps.log);
  }
}
