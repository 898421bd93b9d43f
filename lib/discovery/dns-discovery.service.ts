import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { ADDRESS_GUARD, CLUSTER_CONFIG, CLUSTER_ENGINE, CLUSTER_METRICS } from '../clustershazbot.constants.js';
import { messages } from '../clustershazbot.messages.js';
import type { ClusterConfig } from '../clustershazbot.options.js';
import type { ClusterEngine } from '../core/cluster-engine.js';
import { describeError } from '../describe-error.js';
import type { ClusterMetrics } from '../metrics/cluster-metrics.js';
import type { AddressGuard } from '../security/address-guard.js';
import { describeDnsTarget, type DnsDiscoveryTarget } from './dns-discovery-target.js';
import { DnsResolutionError, DnsSeedResolver, type ResolvedSeeds } from './dns-seed.resolver.js';

/** What `ClusterService.status().discovery` reports while the master list is a `dns://` or `dns+srv://` URL. */
export interface DiscoveryStatus {
  /** The URL resolved, e.g. `dns://seeds.default.svc:3000`. */
  source: string;
  /** The DNS servers asked (`address:port`). */
  servers: string[];
  /** False while the last resolution failed (the health indicator then reports `degraded`). */
  healthy: boolean;
  /** Seeds from the last good resolution, sorted. Kept while later resolutions fail. */
  seeds: string[];
  /** When the last good resolution finished (ms since epoch). */
  resolvedAt?: number;
  /** Smallest TTL of the last good resolution's records, in seconds. */
  ttlSeconds?: number;
  /** Failures in a row since the last good resolution. */
  consecutiveFailures: number;
  lastError?: string;
}

const TIMER = 'clustershazbot:dns-refresh';
/** Never re-resolve more often than this, whatever a record's TTL says (TTL 0 means "do not cache", not "ask in a loop"). */
const MIN_REFRESH_MS = 1000;
/** First retry after a failure; doubles up to the refresh interval. */
const FIRST_RETRY_MS = 1000;
/** Delays are stretched by up to this share, so a fleet started together does not ask together. */
const JITTER = 0.2;
/** A failure is logged at once, then at most this often while it goes on (peers never see the cost). */
const FAILURE_LOG_EVERY_MS = 60_000;
/** Seeds missing from the view contacted after each resolution (enough to merge two clusters; bounded for large fleets). */
const CONTACT_FANOUT = 3;

/**
 * Seeds from DNS, re-resolved for the life of the process: every `dnsRefreshSeconds` (30) or
 * the records' TTL, whichever is shorter, jittered; after a failure, retried with backoff while
 * the last good seeds stay in use. After each good resolution every seed is added to the
 * engine's seeds and up to three that are missing from the view (or offline in it) are synced
 * with at once, so two clusters that started apart merge and a fleet whose addresses all changed
 * finds its new members without a restart. Anchors: Akka Cluster Bootstrap's DNS discovery
 * (re-resolved, jittered), ringpop's 30 s rediscovery, Kubernetes headless Services
 * (`publishNotReadyAddresses`, so starting pods are found).
 *
 * Inert when the master list is not a DNS URL. Its one timer lives in the module's
 * SchedulerRegistry and is cleared on shutdown.
 */
@Injectable()
export class DnsDiscoveryService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Clustershazbot');
  private readonly target?: DnsDiscoveryTarget;
  private readonly resolver?: DnsSeedResolver;
  private last?: ResolvedSeeds & { at: number };
  private failures = 0;
  private lastError?: string;
  private lastFailureLogAt = -Infinity;
  private failuresSinceLog = 0;
  private inflight?: Promise<boolean>;
  private running = false;
  private stopped = false;
  private readonly refusedLogged = new Set<string>();

  constructor(
    @Inject(CLUSTER_CONFIG) private readonly config: ClusterConfig,
    @Inject(CLUSTER_ENGINE) private readonly engine: ClusterEngine,
    @Inject(ADDRESS_GUARD) private readonly guard: AddressGuard,
    @Inject(CLUSTER_METRICS) private readonly metrics: ClusterMetrics,
    private readonly scheduler: SchedulerRegistry,
  ) {
    this.target = config.discovery;
    if (this.target) this.resolver = new DnsSeedResolver({ servers: config.dnsServers, timeoutMs: config.requestTimeoutMs });
  }

  /** Whether the master list is a DNS URL. */
  get enabled(): boolean {
    return this.target !== undefined;
  }

  /** Undefined when discovery is not DNS. */
  status(): DiscoveryStatus | undefined {
    if (!this.target || !this.resolver) return undefined;
    return {
      source: describeDnsTarget(this.target),
      servers: this.resolver.servers(),
      healthy: this.last !== undefined && this.failures === 0,
      seeds: [...(this.last?.seeds ?? [])],
      resolvedAt: this.last?.at,
      ttlSeconds: this.last?.ttlSeconds,
      consecutiveFailures: this.failures,
      lastError: this.lastError,
    };
  }

  /**
   * The seeds for the master-list store: the last good resolution's, else a resolution now.
   * @throws Error with the DNS failure (the caller retries with its own backoff).
   */
  async seeds(): Promise<string[]> {
    if (!this.last) await this.refresh();
    if (!this.last) throw new Error(this.lastError ?? 'DNS discovery has not resolved yet');
    return [...this.last.seeds];
  }

  /** Re-resolution starts once every module is initialised (the first resolution ran with the master-list load). */
  onApplicationBootstrap(): void {
    if (!this.target || this.stopped) return;
    this.running = true;
    if (!this.inflight) this.scheduleNext();
  }

  onModuleDestroy(): void {
    this.stopped = true;
    this.running = false;
    if (this.scheduler.doesExist('timeout', TIMER)) this.scheduler.deleteTimeout(TIMER);
    this.resolver?.cancel();
  }

  /** One resolution (joined with one under way). Never throws: true when it succeeded. */
  refresh(): Promise<boolean> {
    if (!this.target || !this.resolver || this.stopped) return Promise.resolve(false);
    this.inflight ??= this.resolveOnce().finally(() => {
      this.inflight = undefined;
      if (this.running) this.scheduleNext();
    });
    return this.inflight;
  }

  private async resolveOnce(): Promise<boolean> {
    const target = this.target!;
    let result: ResolvedSeeds;
    try {
      result = await this.resolver!.resolve(target);
    } catch (error) {
      if (this.stopped) return false;
      this.onFailure(error instanceof DnsResolutionError ? error.message : describeError(error));
      return false;
    }
    if (this.stopped) return false;
    const previous = this.last;
    this.last = { ...result, at: Date.now() };
    this.metrics.dnsResolution('ok');
    if (this.failures > 0) this.logger.log(messages.dnsRecovered(describeDnsTarget(target), this.failures, result.seeds.length));
    else if (!previous || previous.seeds.join() !== result.seeds.join()) {
      const before = new Set(previous?.seeds ?? []);
      const added = result.seeds.filter((s) => !before.has(s)).length;
      this.logger.log(messages.dnsSeeds(describeDnsTarget(target), result.seeds.length, added, before.size - (result.seeds.length - added)));
    }
    if (result.skipped.length && (!previous || previous.skipped.join() !== result.skipped.join())) {
      this.logger.warn(messages.dnsBadRecords(describeDnsTarget(target), result.skipped.slice(0, 5).join('; ')));
    }
    this.failures = 0;
    this.failuresSinceLog = 0;
    this.lastError = undefined;
    this.useSeeds(result.seeds);
    return true;
  }

  /** Adds the seeds to the engine and syncs with a few that the view lacks or holds offline. */
  private useSeeds(resolved: string[]): void {
    const accepted = resolved.filter((url) => {
      if (this.guard.acceptsUrl(url)) return true;
      if (!this.refusedLogged.has(url) && this.refusedLogged.size < 100) {
        this.refusedLogged.add(url);
        this.logger.warn(messages.dnsSeedRefused(describeDnsTarget(this.target!), url));
      }
      return false;
    });
    this.engine.addSeeds(accepted);
    if (!this.engine.isRunning) return;
    const view = this.engine.snapshot(false);
    const live = new Set([...view.online, ...(view.suspect ?? [])].map((e) => e.baseUrl));
    const missing = accepted.filter((url) => url !== this.config.baseUrl && !live.has(url));
    for (let i = missing.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [missing[i], missing[j]] = [missing[j], missing[i]];
    }
    for (const url of missing.slice(0, CONTACT_FANOUT)) {
      this.logger.debug(`DNS discovery: syncing with ${url}, which the view lacks`);
      void this.engine.syncWith(url).catch(() => undefined);
    }
  }

  private onFailure(reason: string): void {
    this.failures++;
    this.failuresSinceLog++;
    this.lastError = reason;
    this.metrics.dnsResolution('error');
    const now = Date.now();
    if (now - this.lastFailureLogAt >= FAILURE_LOG_EVERY_MS) {
      this.lastFailureLogAt = now;
      const kept = this.last?.seeds.length ?? 0;
      this.logger.warn(messages.dnsFailed(describeDnsTarget(this.target!), reason, this.resolver!.servers().join(', ') || 'system resolver', this.failuresSinceLog, kept, this.delayMs() / 1000));
      this.failuresSinceLog = 0;
    }
  }

  /** After a good resolution: min(refresh, TTL), at least 1 s; after failures: 1 s doubling up to the refresh interval. Plus jitter. */
  private delayMs(): number {
    const { dnsRefreshMs } = this.config;
    const base =
      this.failures > 0
        ? Math.min(dnsRefreshMs, FIRST_RETRY_MS * 2 ** Math.min(this.failures - 1, 20))
        : Math.min(dnsRefreshMs, Math.max(MIN_REFRESH_MS, (this.last?.ttlSeconds ?? Infinity) * 1000));
    return base * (1 + JITTER * Math.random());
  }

  private scheduleNext(): void {
    if (this.stopped) return;
    if (this.scheduler.doesExist('timeout', TIMER)) this.scheduler.deleteTimeout(TIMER);
    const handle = setTimeout(() => {
      if (this.scheduler.doesExist('timeout', TIMER)) this.scheduler.deleteTimeout(TIMER);
      void this.refresh();
    }, this.delayMs());
    this.scheduler.addTimeout(TIMER, handle);
  }
}
