import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { Observable, Subject } from 'rxjs';
import { CLUSTER_CONFIG, CLUSTER_ENGINE } from '../clustershazbot.constants.js';
import type { ClusterConfig } from '../clustershazbot.options.js';
import type { ClusterEngine } from '../core/cluster-engine.js';
import { endpointUrl } from '../core/base-url.js';
import { escapeForLog } from '../core/log-text.js';
import { DnsDiscoveryService } from '../discovery/dns-discovery.service.js';
import { GossipService } from '../gossip.service.js';

/**
 * What an operator must fix, named after the setting that fixes it:
 * - `base-url`: SHAZBOT_BASE_URL does not reach this very process (another port, another
 *   host, a proxy that goes elsewhere), or this server does not answer its own probe endpoint
 *   there, or answers probe but not sync (an Express app that did not mount every endpoint);
 * - `route-prefix`: peers answer 404 on every endpoint of ours: another route prefix, or no
 *   clustershazbot server at their URL;
 * - `alone`: no server has answered since start (never joined), though the master list named
 *   some; its setting names the cause: SHAZBOT_SECRET when they refuse our signature (401),
 *   SHAZBOT_CLUSTER when they belong to another cluster (403), else SHAZBOT_MASTER_LIST. A
 *   server that was part of a cluster and sees its peers leave or die is not alone;
 * - `address-conflict`: another process claims this server's URL;
 * - `master-list`: the master list could not be loaded (unavailable) or is not a server list (invalid);
 * - `discovery`: DNS discovery's last resolution failed.
 */
export type ClusterProblemCode = 'base-url' | 'route-prefix' | 'alone' | 'address-conflict' | 'master-list' | 'discovery';

/** One thing an operator should fix now (see `ClusterProblemCode`), as `status().problems` lists it. */
export interface ClusterProblem {
  code: ClusterProblemCode;
  /** What is wrong and what to set, in one line (no secret, remote text escaped). */
  message: string;
  /** The variable (or option) to look at. */
  setting: string;
  /** When it was first seen (ms since epoch). */
  since: number;
}

/** A problem raised or cleared (see ClusterService.problems$). */
export interface ClusterProblemEvent {
  type: 'raised' | 'cleared';
  problem: ClusterProblem;
}

/** Whether a load balancer should send this server traffic (Kubernetes readiness), and why not. */
export interface Readiness {
  ready: boolean;
  /** Why not ready: offline by control (drained), alone since start while peers were expected, or gave its address up. */
  reasons: string[];
}

/** Up to three URLs for a message, then an ellipsis. */
const listed = (urls: string[]) => `${urls.slice(0, 3).join(', ')}${urls.length > 3 ? ', …' : ''}`;

const TIMER = 'clustershazbot:diagnostics';
const EVALUATE_EVERY_MS = 1000;
/** Peers that answered 404 within this window count for `route-prefix`. */
const NOT_FOUND_WINDOW_MS = 5 * 60_000;
/** Two self-checks in a row that missed (5 s apart): a server that listens late is not a problem yet. */
const BASE_URL_FAILURES = 2;
/** `alone` is raised once a running server has found nobody for this long. */
const ALONE_AFTER_MS = 10_000;
/**
 * Problems whose source logs each failure itself, naming what to fix and when it tries again
 * (GossipService: every master-list attempt, and the load that ends it; DnsDiscoveryService: the
 * first failure, then one line per back-off step, and the recovery): a second line here for the
 * same failure would only repeat it. They are still listed, emitted and reported by health.
 */
const LOGGED_AT_SOURCE: ReadonlySet<ClusterProblemCode> = new Set(['master-list', 'discovery']);
/**
 * What a cleared problem's line says changed: the warning it clears was already logged, so the
 * line names what is fixed, not the old message again.
 */
const RESOLVED_BECAUSE: Record<ClusterProblemCode, string> = {
  'base-url': 'this server answers at its base URL',
  'route-prefix': 'no peer answered 404 on every endpoint in the last 5 min',
  alone: 'a peer answers now',
  'address-conflict': 'no other process claims this server\'s URL now',
  'master-list': 'the master list loaded',
  discovery: 'DNS discovery resolves again',
};

/**
 * Misconfiguration made loud: evaluated every second by GossipService's maintenance tick, each
 * problem is logged once when it appears (at warn, naming the setting) and once when it clears
 * (the master list's and DNS discovery's by their own services, see LOGGED_AT_SOURCE),
 * listed in `status().problems`, reported by the health indicator (degraded) and, for those that
 * should take the server out of a load balancer, by readiness. Anchors: memberlist's checks of
 * its advertise address, Consul's retry_join logs, Kubernetes' liveness/readiness split.
 */
@Injectable()
export class ClusterDiagnostics implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('Clustershazbot');
  private readonly current = new Map<ClusterProblemCode, ClusterProblem>();
  private readonly events = new Subject<ClusterProblemEvent>();
  private runningSince?: number;
  /**
   * Whether this server has reached a peer since it started: `alone` reports a server that
   * never joined (a wrong master list, seeds that do not run); once part of a cluster, peers
   * that leave or die are scaling down or failures the detector handles, not misconfiguration.
   */
  private joined = false;
  /** Seeds that answered 403 (another cluster), 401 (they refuse our signature), and the seeds named, as last seen before joining. */
  private foreignSeeds: string[] = [];
  private refusingSeeds: string[] = [];
  private namedSeeds: string[] = [];
  private stopWatchingJoin?: () => void;

  /** Problems as they are raised and cleared. */
  readonly problems$: Observable<ClusterProblemEvent> = this.events.asObservable();

  constructor(
    @Inject(CLUSTER_ENGINE) private readonly engine: ClusterEngine,
    @Inject(CLUSTER_CONFIG) private readonly config: ClusterConfig,
    private readonly gossip: GossipService,
    private readonly discovery: DnsDiscoveryService,
    private readonly scheduler: SchedulerRegistry,
  ) {}

  onModuleInit(): void {
    // a peer seen between two evaluations counts too: the engine's first successful sync
    this.stopWatchingJoin = this.engine.onLifecycle((event) => {
      if (event === 'joined') this.joined = true;
    });
    const timer = setInterval(() => this.evaluate(), EVALUATE_EVERY_MS);
    timer.unref();
    this.scheduler.addInterval(TIMER, timer);
  }

  onModuleDestroy(): void {
    this.stopWatchingJoin?.();
    if (this.scheduler.doesExist('interval', TIMER)) this.scheduler.deleteInterval(TIMER);
    this.events.complete();
  }

  /** The problems now (evaluated afresh), oldest first. */
  problems(): ClusterProblem[] {
    this.evaluate();
    return [...this.current.values()].map((p) => ({ ...p }));
  }

  /** Re-evaluates every problem; logs and emits what changed. */
  evaluate(now = Date.now()): void {
    if (this.gossip.state !== 'running') return;
    this.runningSince ??= now;
    const found = new Map<ClusterProblemCode, Omit<ClusterProblem, 'since'>>();
    for (const problem of [this.baseUrl(), this.routePrefix(), this.alone(now), this.conflict(), this.masterList(), this.dns()]) if (problem) found.set(problem.code, problem);
    for (const [code, problem] of this.current) {
      if (found.has(code)) continue;
      this.current.delete(code);
      if (!LOGGED_AT_SOURCE.has(code)) this.logger.log(`resolved: ${code} (${RESOLVED_BECAUSE[code]})`);
      this.events.next({ type: 'cleared', problem });
    }
    for (const [code, problem] of found) {
      const known = this.current.get(code);
      if (known) {
        // the same problem with another cause (seeds that were down now refuse us): say the new one
        if (known.setting !== problem.setting && !LOGGED_AT_SOURCE.has(code)) this.logger.warn(problem.message);
        known.setting = problem.setting;
        known.message = problem.message;
        continue;
      }
      const raised = { ...problem, since: now };
      this.current.set(code, raised);
      if (!LOGGED_AT_SOURCE.has(code)) this.logger.warn(raised.message);
      this.events.next({ type: 'raised', problem: { ...raised } });
    }
  }

  /** Readiness: not while offline by control, alone since start while peers were expected, or after giving the address up. */
  readiness(): Readiness {
    this.evaluate();
    const reasons: string[] = [];
    if (this.gossip.state !== 'running') reasons.push(`clustershazbot is ${this.gossip.state}`);
    else if (!this.engine.self().online) reasons.push('offline by control (drained): send `control --online` (npx clustershazbot undrain) to take traffic again');
    if (this.current.has('alone')) reasons.push(this.current.get('alone')!.message);
    if (this.engine.conflict()?.role === 'yielded') reasons.push(this.current.get('address-conflict')?.message ?? 'gave its address up to another process');
    return { ready: reasons.length === 0, reasons };
  }

  private baseUrl(): Omit<ClusterProblem, 'since'> | undefined {
    const check = this.engine.addressCheck();
    const url = this.config.baseUrl;
    if (check?.result.result === 'self' && check.syncEndpoint === 'not-found') {
      // probe reaches us but sync answers 404: peers take us for a page-format server
      const sync = endpointUrl(url, this.config.routePrefix, 'sync');
      return { code: 'base-url', setting: 'SHAZBOT_BASE_URL', message: `this server does not answer its own sync endpoint ${sync} (404) though it answers probe: peers take it for a page-format server and sync with it by full lists. An Express app must mount every endpoint: app.use(clustershazbotRouter()) (see docs/express.md)` };
    }
    if (!check || check.failuresInARow < BASE_URL_FAILURES) return undefined;
    const { result } = check;
    if (result.result === 'not-found') {
      const probe = endpointUrl(url, this.config.routePrefix, 'probe');
      return { code: 'base-url', setting: 'SHAZBOT_BASE_URL', message: `this server does not answer its own probe endpoint ${probe} (404): an Express app must mount every endpoint (app.use(clustershazbotRouter())), or SHAZBOT_BASE_URL (option baseUrl) or routePrefix points elsewhere; failure detection and sync fall back to the page's slower exchange` };
    }
    if (result.result === 'other') return undefined; // an address conflict: reported as such
    if (result.result === 'unreachable') {
      return { code: 'base-url', setting: 'SHAZBOT_BASE_URL', message: `SHAZBOT_BASE_URL (option baseUrl) ${url} does not reach this server (${escapeForLog(result.reason)}): peers cannot reach it there either. Set it to the URL peers reach this server at (its own port and host)` };
    }
    return undefined;
  }

  private routePrefix(): Omit<ClusterProblem, 'since'> | undefined {
    const missing = this.engine.peersNotFound(NOT_FOUND_WINDOW_MS);
    if (missing.length === 0) return undefined;
    return {
      code: 'route-prefix',
      setting: 'routePrefix',
      message: `${missing.length} peer(s) answer 404 on every clustershazbot endpoint (e.g. ${missing[0]}): they run with another route prefix than this server's '${this.config.routePrefix}', or are not clustershazbot servers. Use the same routePrefix on every server`,
    };
  }

  /** Alone: found nobody since start, though the master list named servers (never once joined, see `joined`). */
  private alone(now: number): Omit<ClusterProblem, 'since'> | undefined {
    // joined means a sync with a peer succeeded; entries in the view prove nothing (a master
    // list written by announce() puts its online entries there before anyone answered)
    if (this.engine.joinState() === 'joined') this.joined = true;
    if (this.joined) return undefined;
    // what the seeds answered, kept until this server joins: a 403 seed leaves the seeds for a
    // while and a 401 one soon answers 429 (its failed-auth limit), but the cause stays the same
    const foreign = this.engine.peersOfAnotherCluster();
    if (foreign.length > 0) this.foreignSeeds = foreign;
    const refusing = this.engine.peersRefusingSignature(NOT_FOUND_WINDOW_MS);
    if (refusing.length > 0) this.refusingSeeds = refusing;
    const seeds = this.engine.seeds();
    if (seeds.length > 0) this.namedSeeds = seeds;
    if (now - (this.runningSince ?? now) < ALONE_AFTER_MS) return undefined;
    const others = this.engine.snapshot(false);
    const peers = [...others.online, ...(others.suspect ?? [])].filter((e) => e.baseUrl !== this.config.baseUrl);
    if (peers.length > 0) return undefined;
    if (this.foreignSeeds.length > 0) {
      return { code: 'alone', setting: 'SHAZBOT_CLUSTER', message: `alone: the servers the master list named belong to another cluster: ${listed(this.foreignSeeds)} answered 403 to this server's cluster '${this.config.cluster}'. SHAZBOT_CLUSTER (option cluster) differs from theirs: set the same on every server of one cluster` };
    }
    if (this.refusingSeeds.length > 0) {
      return { code: 'alone', setting: 'SHAZBOT_SECRET', message: `alone: the seeds refuse this server's signature (401): ${listed(this.refusingSeeds)}. SHAZBOT_SECRET (option secret) differs from theirs, or this server's clock is off by more than the signature window (SHAZBOT_SIGNATURE_WINDOW); still trying them` };
    }
    if (this.namedSeeds.length === 0) return undefined;
    return { code: 'alone', setting: 'SHAZBOT_MASTER_LIST', message: `alone: none of the ${this.namedSeeds.length} server(s) the master list named answers (${listed(this.namedSeeds)}); still trying them. Check SHAZBOT_MASTER_LIST and that those servers run` };
  }

  private conflict(): Omit<ClusterProblem, 'since'> | undefined {
    const conflict = this.engine.conflict();
    if (!conflict) return undefined;
    const how = conflict.role === 'yielded' ? 'this process gave the URL up and does not gossip until the URL reaches it' : conflict.role === 'kept' ? 'this process keeps the URL; the other one gave it up' : 'deciding which process keeps it';
    return { code: 'address-conflict', setting: 'SHAZBOT_BASE_URL', message: `address conflict: another process (generation ${conflict.rivalGeneration}) also claims ${conflict.url}; ${how}. Give every server its own SHAZBOT_BASE_URL (option baseUrl)` };
  }

  private masterList(): Omit<ClusterProblem, 'since'> | undefined {
    if (this.discovery.enabled) return undefined;
    const status = this.gossip.masterListStatus();
    if (status.loaded) return undefined;
    // a custom store is configured in code, not by the variable
    const setting = this.config.masterListStore ? 'masterListStore' : 'SHAZBOT_MASTER_LIST';
    const bad = status.invalidEntries;
    if (bad?.length) {
      // read, but not a server list: "unavailable" would send the operator to the network
      const more = bad.length > 1 ? ` (and ${bad.length - 1} more)` : '';
      return { code: 'master-list', setting, message: `master list invalid: ${escapeForLog(bad[0])}${more}; fix it (an entry needs at least "baseUrl")` };
    }
    return { code: 'master-list', setting, message: `master list unavailable: ${escapeForLog(status.lastError ?? 'not loaded yet')}` };
  }

  private dns(): Omit<ClusterProblem, 'since'> | undefined {
    if (!this.discovery.enabled) return undefined;
    const status = this.discovery.status();
    if (!status || status.healthy) return undefined;
    return { code: 'discovery', setting: 'SHAZBOT_MASTER_LIST', message: `DNS discovery ${status.source} failing: ${escapeForLog(status.lastError ?? 'not resolved yet')}` };
  }
}
