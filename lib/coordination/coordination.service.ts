import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { Subject, type Observable } from 'rxjs';
import { CLUSTER_CONFIG, CLUSTER_ENGINE } from '../clustershazbot.constants.js';
import { messages } from '../clustershazbot.messages.js';
import type { ClusterConfig } from '../clustershazbot.options.js';
import type { ClusterEngine } from '../core/cluster-engine.js';
import { errorText } from '../core/engine-log.js';
import { KeyOwnership, type OwnershipChange } from '../core/key-ownership.js';
import { assertQuorumOption, type QuorumOption, type QuorumReport } from '../core/quorum.js';
import { SingletonCoordinator, type SingletonState, type SingletonTransition } from '../core/singleton-coordinator.js';
import { describeError } from '../describe-error.js';
import { GossipService } from '../gossip.service.js';
import { CLUSTER_SINGLETON_METADATA, type ClusterSingletonMetadata } from './cluster-singleton.decorator.js';
import type { RunSingletonOptions, SingletonEvent, SingletonOutcome } from './coordination.types.js';
import { addHost, bindInstance, removeHost, type SingletonHost } from './singleton-hosts.js';
import { withSingletonRun } from './singleton-run.context.js';
import type { SingletonRun } from '../core/singleton-coordinator.js';

/**
 * Key of this server's own key/value state where it publishes its singletons,
 * `{ registered: string[], held: string[] }` (at most 64 names each), so that operators (the
 * dashboard) see every owner from one server's view. Written only by a server that has
 * singletons, when one is registered and on every hand-over.
 */
export const SINGLETONS_STATE_KEY = 'clustershazbot:singletons';

/**
 * A server that knows no other server at all runs singletons only after this many probe
 * intervals (gossip intervals with failure detection off) alone: a cluster of one, or a server
 * restarted with a master list that names only itself, which its cluster has not found yet.
 */
const ALONE_GRACE_INTERVALS = 20;

/** What `status()` reports about coordination. */
export interface CoordinationStatus {
  /** The eligible set's fingerprint (see ClusterService.viewId). */
  viewId: string;
  /** How many members are eligible to own keys (online and suspect). */
  eligible: number;
  /** The majority quorum as this server counts it. */
  quorum: QuorumReport;
  /** The singletons this server runs now. */
  owned: string[];
  /** Every singleton this server knows of (decorated methods and runSingleton names), with its owner. */
  singletons: SingletonState[];
}

/**
 * The Nest side of coordination: key ownership and the cluster singleton (framework-free in
 * lib/core) on this module's engine; finds `@ClusterSingleton()` methods among the
 * application's providers and controllers, runs jobs with their fencing key, logs hand-overs,
 * publishes the singletons it holds, and hands them over before this server leaves.
 */
@Injectable()
export class CoordinationService implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy, SingletonHost {
  private readonly logger = new Logger('Clustershazbot');
  readonly ownership: KeyOwnership;
  readonly coordinator: SingletonCoordinator;
  private readonly ownershipSubject = new Subject<OwnershipChange>();
  private readonly eventSubject = new Subject<SingletonEvent>();
  private closed = false;
  /** Since when this server has known no other server (see the `joined` rule in the constructor). */
  private aloneSince: number | undefined;

  /** Changes of the eligible member set, as they happen (no debounce). */
  readonly ownership$: Observable<OwnershipChange> = this.ownershipSubject.asObservable();
  /** Runs, skips and hand-overs of this server's singletons. */
  readonly events$: Observable<SingletonEvent> = this.eventSubject.asObservable();

  constructor(
    @Inject(CLUSTER_ENGINE) private readonly engine: ClusterEngine,
    @Inject(CLUSTER_CONFIG) private readonly config: ClusterConfig,
    // injected so that this service is destroyed first: it hands its singletons over before the leave
    private readonly gossip: GossipService,
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
  ) {
    const log = { warn: (m: string) => this.logger.warn(m), debug: (m: string) => this.logger.debug(m) };
    this.ownership = new KeyOwnership(engine, log);
    const interval = engine.settings.probeIntervalMs > 0 ? engine.settings.probeIntervalMs : config.gossipIntervalMs;
    const aloneGraceMs = ALONE_GRACE_INTERVALS * interval;
    this.coordinator = new SingletonCoordinator(engine, this.ownership, {
      // two probe intervals: a membership change reaches every server in about one (docs/failure-detection.md, step 8)
      handOverDelayMs: 2 * interval,
      now: Date.now,
      joined: () => {
        const state = engine.joinState();
        if (state !== 'alone' || !gossip.masterListStatus().loaded) {
          this.aloneSince = undefined;
          return state === 'joined';
        }
        // a cluster of one, or a restarted server whose master list names only itself while the
        // cluster it belongs to runs on: those find it again through their reconnect probes
        // (10 % of their probe ticks), so it waits before it trusts being alone
        this.aloneSince ??= Date.now();
        return Date.now() - this.aloneSince >= aloneGraceMs;
      },
      log,
    });
    this.ownership.onChange((change) => this.ownershipSubject.next(change));
    this.coordinator.onTransition((transition) => this.onTransition(transition));
    addHost(this);
  }

  /** Finds the decorated methods of every provider and controller, binds their instances to this module and registers their names. */
  onModuleInit(): void {
    for (const wrapper of [...this.discovery.getProviders(), ...this.discovery.getControllers()]) {
      const instance: unknown = wrapper.instance;
      if (!instance || typeof instance !== 'object' || !Object.getPrototypeOf(instance)) continue;
      for (const key of this.scanner.getAllMethodNames(Object.getPrototypeOf(instance))) {
        const method: unknown = (instance as Record<string, unknown>)[key];
        if (typeof method !== 'function') continue;
        const metadata = Reflect.getMetadata(CLUSTER_SINGLETON_METADATA, method) as ClusterSingletonMetadata | undefined;
        if (!metadata) continue;
        bindInstance(instance, this);
        this.coordinator.register(metadata.name, metadata.quorum);
      }
    }
    this.publish();
  }

  /** The master list has been read by now: a cluster of one counts as joined from here (no event says so). */
  onApplicationBootstrap(): void {
    this.coordinator.refresh();
  }

  /**
   * Before the leave (this service is destroyed before GossipService): when this server holds
   * singletons, it goes offline and tells their successors itself, at once, so that they take
   * over at their next fire instead of when gossip reaches them.
   */
  async onModuleDestroy(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      const held = this.coordinator.owned();
      const successors = this.coordinator.successors();
      if (held.length && successors.length && this.gossip.state === 'running') {
        this.engine.setOnline(false);
        const budget = Math.min(1000, Math.max(100, this.config.shutdownTimeoutMs / 2));
        let timer: NodeJS.Timeout | undefined;
        const results = await Promise.race([
          Promise.all(successors.map((peer) => this.engine.exchangeWith(peer).then((r) => r.ok, () => false))),
          new Promise<boolean[]>((resolve) => (timer = setTimeout(() => resolve([]), budget))),
        ]);
        clearTimeout(timer);
        this.logger.log(messages.singletonHandedOver(held, successors, results.filter(Boolean).length));
      }
    } catch (error) {
      this.logger.warn(`singleton hand-over on shutdown failed: ${describeError(error)}`);
    } finally {
      removeHost(this);
      this.coordinator.close();
      this.ownership.close();
      this.ownershipSubject.complete();
      this.eventSubject.complete();
    }
  }

  /**
   * Runs `fn` when this server runs singleton `name` for this fire (see SingletonCoordinator);
   * `fn` gets the fencing key, which `currentSingletonRun()` also returns inside the run.
   * Rejects with what `fn` throws. Throws a TypeError for an empty name or an invalid quorum.
   */
  async run<T>(name: string, fn: (run: SingletonRun) => T | Promise<T>, options: RunSingletonOptions = {}): Promise<SingletonOutcome<Awaited<T>>> {
    if (typeof name !== 'string' || name.length === 0) throw new TypeError(messages.singletonBadName(name));
    if (typeof fn !== 'function') throw new TypeError('runSingleton(name, fn): fn must be a function');
    const quorum: QuorumOption = options.quorum ?? 'majority';
    assertQuorumOption(quorum, `runSingleton("${name}")`);
    const fireTime = options.fireTime ?? Date.now();
    if (!Number.isFinite(fireTime)) throw new TypeError(`runSingleton("${name}"): fireTime must be a time in ms, got ${String(fireTime)}`);
    const known = this.coordinator.has(name);
    const decision = this.coordinator.decide(name, fireTime, quorum);
    if (!known) this.publish();
    if (!decision.run) {
      const { reason, detail, owner, viewId } = decision;
      this.emit({ type: 'skipped', name, fireTime, reason, detail, ...(owner ? { owner } : {}), viewId });
      this.logger.debug(`singleton ${name} @ ${new Date(fireTime).toISOString()} skipped: ${reason} (${detail})`);
      return { ran: false, reason, detail, ...(owner ? { owner } : {}) };
    }
    const run = decision.fencing;
    this.emit({ type: 'run', name, fireTime, run });
    const value = await withSingletonRun(run, () => fn(run));
    return { ran: true, value, run };
  }

  /** Called by a decorated method's wrapper. */
  async runDecorated(name: string, quorum: QuorumOption, fireTime: number, fn: () => unknown): Promise<unknown> {
    const outcome = await this.run(name, () => fn(), { quorum, fireTime });
    return outcome.ran ? outcome.value : undefined;
  }

  status(): CoordinationStatus {
    return {
      viewId: this.ownership.viewId(),
      eligible: this.ownership.members().length,
      quorum: this.coordinator.quorum('majority'),
      owned: this.coordinator.owned(),
      singletons: this.coordinator.states(),
    };
  }

  private onTransition(transition: SingletonTransition): void {
    this.emit(transition);
    const line = transition.type === 'acquired' ? messages.singletonAcquired(transition.name, transition.reason) : messages.singletonReleased(transition.name, transition.reason);
    this.logger.log(line);
    // transitions come from inside a membership listener: write the state once it has returned
    queueMicrotask(() => this.publish());
  }

  /** Publishes this server's singletons in its key/value state, for operators; never throws. */
  private publish(): void {
    if (this.closed || !this.engine.isRunning) return;
    const registered = this.coordinator.states().map((s) => s.name);
    if (!registered.length) return;
    try {
      this.engine.setLocalState(SINGLETONS_STATE_KEY, { registered: registered.slice(0, 64), held: this.coordinator.held().slice(0, 64) });
    } catch (error) {
      this.logger.debug(`could not publish the singletons held: ${errorText(error)}`);
    }
  }

  private emit(event: SingletonEvent): void {
    if (!this.closed) this.eventSubject.next(event);
  }
}
