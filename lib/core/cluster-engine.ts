import { normalizeBaseUrl } from './base-url.js';
import { HybridClock } from './hybrid-clock.js';
import { entriesOf, MembershipView, compareEntries, type MemberEntry, type MembershipChange } from './membership-view.js';
import { choosePeer } from './peer-selection.js';
import type { GossipMessage, GossipServer, ServerList } from './types.js';

/** Sends one push-pull exchange to a peer and resolves with the peer's view. Must time out by itself. */
export interface GossipTransport {
  exchange(peerBaseUrl: string, message: GossipMessage): Promise<ServerList>;
}

/** Where the engine reports what an operator may want to know. */
export interface EngineLog {
  warn(message: string): void;
  debug(message: string): void;
}

/** The protocol's tunables; the Nest shell fills them from options and environment. */
export interface EngineSettings {
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
  /** Share of rounds that go to an offline or seed server, so a returning server is found again. */
  offlineProbeProbability: number;
}

export const DEFAULT_ENGINE_SETTINGS = {
  monitor: false,
  maxClockSkewMs: 5 * 60_000,
  retentionMs: 24 * 3_600_000,
  renewEveryMs: 6 * 3_600_000,
  monitorPreference: 0.5,
  offlineProbeProbability: 0.1,
} satisfies Omit<EngineSettings, 'selfUrl'>;

export interface EngineStats {
  /** Gossip rounds this server started. */
  rounds: number;
  exchangesOk: number;
  exchangesFailed: number;
  /** Gossip messages this server answered. */
  gossipReceived: number;
  /** Incoming entries refused: malformed, stamped too far ahead, or older than the retention period. */
  entriesRefused: number;
  /** Times this server re-asserted its own entry over a newer rumour about itself. */
  selfReassertions: number;
}

export interface RoundResult {
  peer: string | null;
  ok: boolean;
  error?: string;
  changes: MembershipChange[];
}

type ChangeListener = (change: MembershipChange) => void;

function errorText(error: unknown): string {
  return typeof error === 'object' && error !== null && typeof (error as Error).message === 'string' ? (error as Error).message : String(error);
}

/**
 * The framework-free gossip engine: one server's view, the merge policy around the join
 * (self-authority, clock bounds, retention) and one round of push-pull gossip. It owns no
 * timers and does no I/O of its own; clock, randomness and transport are injected, so the
 * same code runs in production and in a simulator.
 */
export class ClusterEngine {
  readonly view = new MembershipView();
  readonly clock: HybridClock;
  readonly settings: EngineSettings;
  private readonly seeds = new Set<string>();
  private readonly listeners = new Set<ChangeListener>();
  private running = false;
  private readonly counters: EngineStats = {
    rounds: 0,
    exchangesOk: 0,
    exchangesFailed: 0,
    gossipReceived: 0,
    entriesRefused: 0,
    selfReassertions: 0,
  };

  constructor(
    settings: Partial<EngineSettings> & Pick<EngineSettings, 'selfUrl'>,
    private readonly deps: { now: () => number; random: () => number; transport: GossipTransport; log?: EngineLog },
  ) {
    this.settings = { ...DEFAULT_ENGINE_SETTINGS, ...settings, selfUrl: normalizeBaseUrl(settings.selfUrl) };
    this.clock = new HybridClock(deps.now, this.settings.maxClockSkewMs);
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Puts this server in its own view, online, with a fresh stamp. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.restampSelf(true);
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
    if (this.self().online === online && this.self().lastUpdate > 0) return false;
    this.restampSelf(online);
    return true;
  }

  snapshot(): ServerList {
    return this.view.toServerList();
  }

  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  stats(): EngineStats {
    return { ...this.counters };
  }

  /** Base URLs to try when no online peer is known (from the master list). */
  addSeeds(baseUrls: Iterable<string>): void {
    for (const raw of baseUrls) {
      try {
        const url = normalizeBaseUrl(raw);
        if (url !== this.settings.selfUrl) this.seeds.add(url);
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
    return this.snapshot();
  }

  /**
   * Merges a remote view. Entries that are malformed, stamped beyond the skew bound or older
   * than the retention period are refused; rumours about this server never overwrite it: a
   * newer one makes it re-assert its own state with a later stamp.
   */
  merge(list: ServerList, source: string): MembershipChange[] {
    const changes: MembershipChange[] = [];
    const oldest = this.deps.now() - this.settings.retentionMs;
    let reassert = false;
    for (const raw of entriesOf(list)) {
      const entry = this.sanitize(raw);
      if (!entry) {
        this.counters.entriesRefused++;
        continue;
      }
      if (!this.clock.isAcceptable(entry.lastUpdate)) {
        this.counters.entriesRefused++;
        this.deps.log?.warn(`refused ${entry.baseUrl} from ${source}: stamped ${entry.lastUpdate - this.deps.now()} ms in the future (bound ${this.settings.maxClockSkewMs} ms)`);
        continue;
      }
      if (entry.lastUpdate < oldest) {
        this.counters.entriesRefused++;
        continue;
      }
      this.clock.observe(entry.lastUpdate);
      if (entry.baseUrl === this.settings.selfUrl) {
        if (compareEntries(entry, this.self()) > 0) reassert = true;
        continue;
      }
      const change = this.view.merge(entry);
      if (change) changes.push(change);
    }
    if (reassert && this.running) {
      this.counters.selfReassertions++;
      this.restampSelf(this.self().online);
    }
    this.emit(changes);
    return changes;
  }

  /** Picks this round's partner: see `choosePeer`. */
  choosePeer(): string | null {
    return choosePeer([...this.view.values()], this.settings, this.seeds, this.deps.random);
  }

  /** One push-pull exchange with one peer. Never throws: failures are counted and returned. */
  async gossipRound(): Promise<RoundResult> {
    this.maintain();
    const peer = this.choosePeer();
    if (!peer) return { peer: null, ok: false, error: 'no peer known', changes: [] };
    this.counters.rounds++;
    return this.exchangeWith(peer);
  }

  /** Sends our view to one peer and merges the answer. */
  async exchangeWith(peer: string): Promise<RoundResult> {
    try {
      const reply = await this.deps.transport.exchange(peer, { message: 'gossip', ...this.snapshot() });
      this.counters.exchangesOk++;
      return { peer, ok: true, changes: this.merge(reply, peer) };
    } catch (error) {
      this.counters.exchangesFailed++;
      const text = errorText(error);
      const known = this.view.get(peer);
      const line = `gossip with ${peer} failed: ${text}`;
      // an online peer failing is news; an offline one or a seed failing is expected
      if (known?.online) this.deps.log?.warn(line);
      else this.deps.log?.debug(line);
      return { peer, ok: false, error: text, changes: [] };
    }
  }

  /** Drops entries past retention and renews this server's own stamp when due. */
  maintain(): MembershipChange[] {
    const now = this.deps.now();
    const changes: MembershipChange[] = [];
    for (const entry of [...this.view.values()]) {
      if (entry.baseUrl === this.settings.selfUrl) continue;
      if (entry.lastUpdate < now - this.settings.retentionMs) {
        const change = this.view.remove(entry.baseUrl);
        if (change) changes.push(change);
      }
    }
    if (this.running && now - this.self().lastUpdate >= this.settings.renewEveryMs) this.restampSelf(this.self().online);
    this.emit(changes);
    return changes;
  }

  /**
   * Leaves: marks this server offline and pushes that to up to `fanout` online peers at once.
   * Resolves when every push has settled; the caller bounds the time.
   */
  async leave(fanout: number): Promise<string[]> {
    this.setOnline(false);
    const peers = [...this.view.values()].filter((e) => e.online && e.baseUrl !== this.settings.selfUrl).map((e) => e.baseUrl);
    for (let i = peers.length - 1; i > 0; i--) {
      const j = Math.floor(this.deps.random() * (i + 1));
      [peers[i], peers[j]] = [peers[j], peers[i]];
    }
    const told = peers.slice(0, fanout);
    await Promise.allSettled(told.map((peer) => this.exchangeWith(peer)));
    this.stop();
    return told;
  }

  private restampSelf(online: boolean): void {
    const before = this.view.get(this.settings.selfUrl);
    this.view.set({ baseUrl: this.settings.selfUrl, monitor: this.settings.monitor, online, lastUpdate: this.clock.tick() });
    if (before && before.online !== online) this.emit([{ type: online ? 'online' : 'offline', server: this.self() }]);
  }

  private sanitize(raw: MemberEntry): MemberEntry | null {
    if (!raw || typeof raw.monitor !== 'boolean' || !Number.isSafeInteger(raw.lastUpdate)) return null;
    try {
      return { baseUrl: normalizeBaseUrl(raw.baseUrl), monitor: raw.monitor, lastUpdate: raw.lastUpdate, online: raw.online };
    } catch {
      return null;
    }
  }

  private emit(changes: MembershipChange[]): void {
    for (const change of changes) {
      for (const listener of this.listeners) {
        try {
          listener(change);
        } catch (error) {
          this.deps.log?.warn(`membership listener threw: ${errorText(error)}`);
        }
      }
    }
  }
}

export type { GossipServer };
