import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { Observable, Subject } from 'rxjs';
import { CLUSTER_CONFIG, CLUSTER_ENGINE, FAILED_AUTH_LIMITER } from './clustershazbot.constants.js';
import type { ClusterConfig } from './clustershazbot.options.js';
import { quoteForLog } from './core/log-text.js';
import type { FailedAuthLimiter } from './security/failed-auth-limiter.js';
import type { ClusterEngine, EngineStats } from './core/cluster-engine.js';
import type { MemberEntry, MembershipChange } from './core/membership-view.js';
import { normalizeBaseUrl } from './core/base-url.js';
import type { JsonValue, StateChange } from './core/replicated-state.js';
import type { ControlMessage, GossipMessage, ProbeAck, ProbeMessage, ServerList, SyncMessage } from './core/types.js';
import { GossipService, type LifecycleState, type MasterListStatus } from './gossip.service.js';
import { DnsDiscoveryService, type DiscoveryStatus } from './discovery/dns-discovery.service.js';
import { ClusterDiagnostics, type ClusterProblem, type ClusterProblemEvent, type Readiness } from './diagnostics/cluster-diagnostics.js';
import { messages } from './clustershazbot.messages.js';
import { CoordinationService, type CoordinationStatus } from './coordination/coordination.service.js';
import type { RunSingletonOptions, SingletonEvent, SingletonOutcome } from './coordination/coordination.types.js';
import type { OwnershipChange } from './core/key-ownership.js';
import type { SingletonRun } from './core/singleton-coordinator.js';

/**
 * The current view: the page's `online` and `offline` lists, plus `suspect`: servers that stopped
 * answering probes and are not yet declared offline. They are still members (SWIM), so they are
 * listed rather than hidden while the suspicion runs.
 */
export type ClusterView = Required<ServerList>;

/** How many servers are online, offline and suspect: what health shows with `healthDetails: 'counts'`. */
export interface ClusterCounts {
  online: number;
  offline: number;
  suspect: number;
}

/**
 * The page's health extension object: with `healthDetails: 'full'` the lists, with 'counts'
 * (the default) how many servers each list holds.
 */
export type ClusterHealthExtension =
  | { status: 'ok'; cluster: ClusterView | ClusterCounts }
  | { status: 'error'; error: string };

/**
 * Grapevine's event names (plus `peer_suspect`, `peer_left` and `peer_removed`):
 * `new_peer` a server appeared; `peer_suspect` it stopped answering probes; `peer_failed` it
 * was declared offline by the failure detector; `peer_left` it went offline by itself
 * (shutdown, control); `peer_alive` it is alive again (came back or refuted a suspicion);
 * `peer_removed` its entry expired.
 */
export type PeerEvent = 'new_peer' | 'peer_suspect' | 'peer_failed' | 'peer_left' | 'peer_alive' | 'peer_removed';

/** The grapevine event name of a membership change (`peer_failed` for an offline declared by a detector, `peer_left` for one by the server itself…). */
export function peerEventOf(change: MembershipChange): PeerEvent {
  switch (change.type) {
    case 'joined':
      return 'new_peer';
    case 'suspect':
      return 'peer_suspect';
    case 'offline':
      return change.server.by ? 'peer_failed' : 'peer_left';
    case 'online':
      return 'peer_alive';
    case 'removed':
      return 'peer_removed';
  }
}

/** Which servers `state()` covers: `live` (default) this one and those online or suspect; `all` offline ones too. */
export interface StateSelection {
  include?: 'live' | 'all';
}

/**
 * What `ClusterService.status()` reports: the module's lifecycle, the master list (or DNS
 * discovery), the problems to fix, readiness, the singletons this server runs, and the engine's
 * counters (cumulative since start).
 */
export interface ClusterStatus {
  state: LifecycleState;
  failure?: string;
  masterList: MasterListStatus;
  /** DNS discovery, when the master list is a `dns://` or `dns+srv://` URL. */
  discovery?: DiscoveryStatus;
  /** What an operator should fix now (see ClusterProblem): empty when all is well. */
  problems: ClusterProblem[];
  /** Whether a load balancer should send this server traffic, and why not. */
  readiness: Readiness;
  stats: EngineStats & { authRefused: number };
  /** Key ownership and singletons: the eligible set's fingerprint, the quorum, and the singletons this server runs (`owned`). */
  coordination: CoordinationStatus;
}

/** What a host app injects: the live view, this server, online/offline control and change events. */
@Injectable()
export class ClusterService implements OnModuleDestroy {
  private readonly logger = new Logger('Clustershazbot');
  private readonly changeSubject = new Subject<MembershipChange>();
  private readonly stateSubject = new Subject<StateChange>();
  private readonly unsubscribe: () => void;
  private readonly unsubscribeState: () => void;

  /** Membership transitions as they are learned (joined, suspect, offline, online, removed), each with its reason. */
  readonly changes$: Observable<MembershipChange> = this.changeSubject.asObservable();

  /**
   * Misconfiguration as it is found and fixed: `{ type: 'raised' | 'cleared', problem }` (base URL
   * that does not reach this server, route-prefix mismatch, alone, address conflict, master list,
   * DNS). Each is also logged once at warn, listed in `status().problems`, and degrades health.
   */
  get problems$(): Observable<ClusterProblemEvent> {
    return this.diagnostics.problems$;
  }

  /** Key/value changes, this server's and its peers': `update` (value undefined when deleted) and `expire`. */
  readonly stateChanges$: Observable<StateChange> = this.stateSubject.asObservable();

  /**
   * Every change of the set of members that can own keys (online and suspect ones), as it
   * happens, with no debounce: `{ viewId, added, removed }` (base URLs). Keys move only to or
   * from the members added or removed (rendezvous hashing).
   */
  readonly ownership$: Observable<OwnershipChange>;

  /**
   * This server's singleton events: `run` (with the fencing key), `skipped` (with the reason:
   * `not-owner`, `no-quorum`, `not-joined`, `hand-over`), `acquired` and `released` (this
   * server started or stopped running a singleton; also logged, once per change).
   */
  readonly singletonEvents$: Observable<SingletonEvent>;

  constructor(
    @Inject(CLUSTER_ENGINE) private readonly engine: ClusterEngine,
    private readonly gossip: GossipService,
    @Inject(FAILED_AUTH_LIMITER) private readonly authLimiter: FailedAuthLimiter,
    private readonly discovery: DnsDiscoveryService,
    @Inject(CLUSTER_CONFIG) private readonly config: Pick<ClusterConfig, 'healthDetails'>,
    private readonly diagnostics: ClusterDiagnostics,
    private readonly coordination: CoordinationService,
  ) {
    this.ownership$ = coordination.ownership$;
    this.singletonEvents$ = coordination.events$;
    this.unsubscribe = engine.onChange((change) => this.changeSubject.next(change));
    this.unsubscribeState = engine.onStateChange((change) => this.stateSubject.next(change));
  }

  /**
   * Grapevine-style listeners. Membership: `on('peer_failed', (server, reason) => ...)`.
   * State: `on('update', (server, key, value) => ...)` (value undefined: deleted) and
   * `on('expire', (server, key) => ...)`. Returns an unsubscribe function.
   */
  on(event: PeerEvent, listener: (server: MemberEntry, reason: string) => void): () => void;
  on(event: 'update', listener: (server: string, key: string, value: JsonValue | undefined) => void): () => void;
  on(event: 'expire', listener: (server: string, key: string) => void): () => void;
  on(event: PeerEvent | 'update' | 'expire', listener: (...args: never[]) => void): () => void {
    const call = listener as (...args: unknown[]) => void;
    const subscription =
      event === 'update' || event === 'expire'
        ? this.stateChanges$.subscribe((change) => {
            if (change.type === event) call(change.server, change.key, change.type === 'update' ? change.value : undefined);
          })
        : this.changes$.subscribe((change) => {
            if (peerEventOf(change) === event) call(change.server, change.reason);
          });
    return () => subscription.unsubscribe();
  }

  onModuleDestroy(): void {
    this.unsubscribe();
    this.unsubscribeState();
    this.changeSubject.complete();
    this.stateSubject.complete();
  }

  /**
   * Sets a key of this server's state, for every peer to read. `value` is any JSON within
   * `maxStateValueBytes`; `expiresAt` (a Date or ms since epoch, on this server's clock, at
   * most 2^31 − 1 ms ahead: about 24.8 days) removes it everywhere at that time. Throws
   * StateValueError with the reason on bad input.
   */
  setLocalState(key: string, value: JsonValue, expiresAt?: Date | number): void {
    this.engine.setLocalState(key, value, expiresAt instanceof Date ? expiresAt.getTime() : expiresAt);
  }

  /** Deletes a key of this server's state everywhere. False when it was not set. */
  deleteLocalState(key: string): boolean {
    return this.engine.deleteLocalState(key);
  }

  /** A key of a server's state (this one included), or undefined. */
  peerValue(server: string, key: string): JsonValue | undefined {
    let url: string;
    try {
      url = normalizeBaseUrl(server);
    } catch {
      return undefined;
    }
    return this.engine.peerValue(url, key);
  }

  /** This server's own keys. */
  localState(): Record<string, JsonValue> {
    return this.engine.stateOf(this.engine.settings.selfUrl);
  }

  /**
   * Every live server's keys, by base URL: this server and the members online or suspect
   * (servers without keys are left out). `{ include: 'all' }` adds servers that are offline: a
   * server's keys stay until its entry is removed (`offlineRetentionSeconds`, 24 h after its
   * last word) or a new process starts at its URL, and an app that sums a key over `all`
   * counts a restarted or moved server twice. The objects have no prototype.
   */
  state(options: StateSelection = {}): Record<string, Record<string, JsonValue>> {
    const all = this.engine.stateSnapshot();
    if (options.include === 'all') return all;
    const self = this.engine.settings.selfUrl;
    const live: Record<string, Record<string, JsonValue>> = Object.create(null);
    for (const [server, keys] of Object.entries(all)) if (server === self || this.engine.member(server)?.online) live[server] = keys;
    return live;
  }

  /** The current view in the page's wire form, with the suspected servers in `suspect`. */
  view(): ClusterView {
    const list = this.engine.snapshot();
    return { online: list.online, offline: list.offline ?? [], suspect: list.suspect ?? [] };
  }

  /**
   * A fingerprint of this server's view: equal on servers whose views agree (members, their
   * stamps and states, and key/value versions), so several values across a fleet reveal a split
   * or a sync under way (ringpop's membership checksum). A 52-bit integer, exact as a Prometheus
   * sample; derived from the engine's view digest root (the hash two servers compare in a sync).
   */
  viewChecksum(): number {
    return Number.parseInt(this.engine.viewHash().slice(0, 13), 16);
  }

  /**
   * This server's own entry: `{ baseUrl, monitor, online, lastUpdate, generation? }`.
   * `lastUpdate` is the ms stamp of its last change; `generation` is the stamp this process
   * started at (a restart gets a new one; absent before start). `suspect` and `by` are never set
   * on our own entry: a rumour about this server is refuted with a higher stamp, not stored
   * (SWIM's refutation, Das et al. 2002, section 4.2).
   */
  self(): MemberEntry {
    return this.engine.self();
  }

  /** Takes this server offline (it stays a member and keeps gossiping) or back online. */
  setOnline(online: boolean): void {
    if (this.engine.setOnline(online)) this.logger.log(`this server is now ${online ? 'online' : 'offline'}`);
  }

  status(): ClusterStatus {
    return {
      state: this.gossip.state,
      failure: this.gossip.failureReason,
      masterList: this.gossip.masterListStatus(),
      ...(this.discovery.enabled ? { discovery: this.discovery.status() } : {}),
      problems: this.diagnostics.problems(),
      readiness: this.diagnostics.readiness(),
      stats: { ...this.engine.stats(), authRefused: this.authLimiter.refusedTotal },
      coordination: this.coordination.status(),
    };
  }

  // ---- coordination: key ownership and singletons (docs/coordination.md) -------------------

  /**
   * The owner of `key`: the base URL of the member with the highest rendezvous score for it
   * among the online and suspect members of this server's view (a suspect keeps its keys until
   * it is declared offline). Undefined while no member is eligible (before start). Servers
   * whose views agree (equal `viewId()`) give the same answer. Allocates nothing.
   * @throws TypeError when `key` is not a string
   */
  owner(key: string): string | undefined {
    if (typeof key !== 'string') throw new TypeError(messages.singletonBadKey('owner(key): key', key));
    return this.coordination.ownership.owner(key);
  }

  /**
   * The preference list of `key`: up to `n` base URLs, the owner first, then the server that
   * would own it if the owner went, and so on (ringpop's `lookupN`). For replicas or fallbacks.
   * @throws TypeError when `key` is not a string or `n` is not a whole number ≥ 0
   */
  owners(key: string, n: number): string[] {
    if (typeof key !== 'string') throw new TypeError(messages.singletonBadKey('owners(key, n): key', key));
    if (!Number.isInteger(n) || n < 0) throw new TypeError(messages.singletonBadCount(n));
    return this.coordination.ownership.owners(key, n);
  }

  /** Whether this server owns `key` (see `owner`). @throws TypeError when `key` is not a string */
  isOwner(key: string): boolean {
    if (typeof key !== 'string') throw new TypeError(messages.singletonBadKey('isOwner(key): key', key));
    return this.coordination.ownership.isOwner(key);
  }

  /**
   * A short fingerprint (12 hex digits) of the set of members that can own keys: equal on
   * servers that agree on it, and so on who owns every key. Changes with `ownership$`.
   */
  viewId(): string {
    return this.coordination.ownership.viewId();
  }

  /**
   * Runs `fn` only on the server that owns singleton `name` (`owner('singleton:' + name)`),
   * while it has joined, sees its quorum (`options.quorum`, 'majority' by default) and is past
   * any hand-over delay; elsewhere `fn` does not run. The same rules as `@ClusterSingleton()`,
   * for code that is not a decorated method. `fn` receives the fencing key (also
   * `currentSingletonRun()` inside it); pass `options.fireTime`, equal on every server, so that
   * `runKey` names the fire wherever it runs.
   * Resolves with `{ ran: true, value, run }` or `{ ran: false, reason, detail, owner? }`;
   * rejects with what `fn` throws.
   * @throws TypeError for an empty name, a non-function `fn` or an invalid quorum or fireTime
   */
  runSingleton<T>(name: string, fn: (run: SingletonRun) => T | Promise<T>, options?: RunSingletonOptions): Promise<SingletonOutcome<Awaited<T>>> {
    return this.coordination.run(name, fn, options);
  }

  /** The page's extension object for health and monitoring endpoints: lists or counts, as `healthDetails` says. */
  healthExtension(): ClusterHealthExtension {
    const { state, failure } = this.status();
    if (state !== 'running') return { status: 'error', error: failure ?? `clustershazbot is ${state === 'idle' ? 'not started' : state}` };
    return { status: 'ok', cluster: this.healthView() };
  }

  /**
   * What health endpoints show of the membership (the Terminus indicator and healthExtension):
   * the lists with `healthDetails: 'full'`, else only how many servers each holds. Health
   * endpoints usually answer anyone who reaches them; the lists are the addresses of every
   * server, which `list` gives only to holders of the secret.
   */
  healthView(): ClusterView | ClusterCounts {
    const view = this.view();
    if (this.config.healthDetails === 'full') return view;
    return { online: view.online.length, offline: view.offline.length, suspect: view.suspect.length };
  }

  /** Answers a gossip message (already authenticated and validated). */
  receiveGossip(message: GossipMessage): ServerList {
    return this.engine.handleGossip(message);
  }

  /** Answers one leg of a digest-and-delta sync (already authenticated and validated). */
  receiveSync(message: SyncMessage): SyncMessage {
    return this.engine.handleSync(message);
  }

  /** Answers a liveness probe (already authenticated and validated). */
  receiveProbe(message: ProbeMessage): Promise<ProbeAck> {
    return this.engine.handleProbe(message);
  }

  /** Applies a control message (already authenticated and validated); `from` goes in the audit line, quoted. */
  control(message: ControlMessage, from: string): void {
    this.logger.log(`control from ${quoteForLog(from)}: set ${message.online ? 'online' : 'offline'}`);
    this.setOnline(message.online);
  }
}
