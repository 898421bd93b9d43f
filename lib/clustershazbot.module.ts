import { HttpModule, HttpService } from '@nestjs/axios';
import { Inject, Logger, Module, type DynamicModule, type MiddlewareConsumer, type NestModule, type Type } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { DiscoveryModule } from '@nestjs/core';
import { SchedulerRegistry } from '@nestjs/schedule';
import { TerminusModule } from '@nestjs/terminus';
import { ClusterService } from './cluster.service.js';
import { resolveClusterConfig } from './clustershazbot.config.js';
import { ADDRESS_GUARD, FAILED_AUTH_LIMITER, CLUSTER_CONFIG, CLUSTER_CONTROLLER, CLUSTER_ENGINE, CLUSTER_METRICS, GOSSIP_TRANSPORT, MASTER_LIST_STORE, REQUEST_VERIFIER, ROUTE_PREFIX } from './clustershazbot.constants.js';
import { AddressGuard } from './security/address-guard.js';
import { authRefusalText } from './security/auth-refusal.js';
import { FailedAuthLimiter } from './security/failed-auth-limiter.js';
import { RequestVerifier } from './security/request-signature.js';
import { ASYNC_OPTIONS_TYPE, CLUSTERSHAZBOT_MODULE_OPTIONS, ClustershazbotConfigurableModule, OPTIONS_TYPE } from './clustershazbot.module-definition.js';
import type { ClusterConfig, ClustershazbotOptions } from './clustershazbot.options.js';
import { ClusterEngine } from './core/cluster-engine.js';
import { RateLimitedLog } from './core/engine-log.js';
import type { GossipTransport } from './core/transport.js';
import { ClusterDiagnostics } from './diagnostics/cluster-diagnostics.js';
import { GossipService } from './gossip.service.js';
import { CoordinationService } from './coordination/coordination.service.js';
import { ControlSecretGuard } from './guards/control-secret.guard.js';
import { SharedSecretGuard } from './guards/shared-secret.guard.js';
import { SignedReplyInterceptor } from './guards/signed-reply.interceptor.js';
import { ClusterHealthIndicator } from './health/cluster.health.js';
import { HttpGossipTransport } from './http-gossip.transport.js';
import { UrlMasterListStore } from './master-list/url-master-list.store.js';
import { DnsDiscoveryService } from './discovery/dns-discovery.service.js';
import { DnsMasterListStore } from './discovery/dns-master-list.store.js';
import { ClusterMetrics } from './metrics/cluster-metrics.js';
import { ClusterMetricsCollector } from './metrics/metrics-collector.service.js';
import { ClusterMetricsMiddleware } from './metrics/metrics.middleware.js';

const engineLogger = new Logger('Clustershazbot');

/**
 * The module's engine from its resolved configuration. `now` is the engine's clock (ms):
 * Date.now, or in a test a clock it can move forward (through `overrideProvider(CLUSTER_ENGINE)`).
 */
export function createClusterEngine(config: ClusterConfig, transport: GossipTransport, guard: AddressGuard, now: () => number = Date.now): ClusterEngine {
  return new ClusterEngine(
    {
      selfUrl: config.baseUrl,
      monitor: config.monitor,
      maxClockSkewMs: config.maxClockSkewMs,
      retentionMs: config.retentionMs,
      renewEveryMs: config.retentionMs / 4,
      monitorPreference: config.monitorPreference,
      offlineProbeProbability: config.offlineProbeProbability,
      messageBudgetBytes: config.messageBudgetBytes,
      stateLimits: config.stateLimits,
      ...config.detector,
    },
    {
      now,
      random: Math.random,
      transport,
      log: { warn: (m) => engineLogger.warn(m), debug: (m) => engineLogger.debug(m) },
      acceptPeer: (url) => guard.acceptsUrl(url),
    },
  );
}

/**
 * `ClustershazbotModule.forRoot(options?)` / `forRootAsync({ imports, inject, useFactory | useClass })`.
 * Options not given are read from the `SHAZBOT_*` variables through ConfigService.
 *
 * Timers go in a SchedulerRegistry of the module's own, so the host need not import
 * ScheduleModule, and a host that does (`ScheduleModule.forRoot()`) never runs ours twice.
 */
@Module({
  imports: [ConfigModule, TerminusModule, HttpModule.register({ maxRedirects: 0 }), DiscoveryModule],
  providers: [
    SchedulerRegistry,
    {
      provide: CLUSTER_CONFIG,
      inject: [CLUSTERSHAZBOT_MODULE_OPTIONS, ConfigService, ROUTE_PREFIX],
      useFactory: (options: ClustershazbotOptions, env: ConfigService, routePrefix: string): ClusterConfig =>
        resolveClusterConfig(options ?? {}, (name) => env.get<string>(name), routePrefix),
    },
    { provide: ADDRESS_GUARD, inject: [CLUSTER_CONFIG], useFactory: (config: ClusterConfig) => new AddressGuard(config.allowedPeers) },
    {
      provide: FAILED_AUTH_LIMITER,
      inject: [CLUSTER_CONFIG],
      useFactory: (config: ClusterConfig) => {
        const limiter = new FailedAuthLimiter(config.authFailureLimit);
        // a refused peer would log at every message: each endpoint and cause at most 3 lines a
        // minute (both from fixed sets, so the limiter's keys stay few)
        const log = new RateLimitedLog(new Logger('Clustershazbot'), Date.now);
        limiter.onFailure((refusal) => log.warnEvery(`auth-${refusal.endpoint}-${refusal.reason}`, () => authRefusalText(refusal)));
        return limiter;
      },
    },
    { provide: CLUSTER_METRICS, inject: [CLUSTER_CONFIG], useFactory: (config: ClusterConfig) => ClusterMetrics.create(config.metrics, { discovery: config.discovery !== undefined }) },
    { provide: GOSSIP_TRANSPORT, useClass: HttpGossipTransport },
    {
      provide: REQUEST_VERIFIER,
      inject: [CLUSTER_CONFIG],
      useFactory: (config: ClusterConfig) => new RequestVerifier({ cluster: config.cluster, baseUrl: config.baseUrl, windowMs: config.signatureWindowMs }),
    },
    {
      provide: MASTER_LIST_STORE,
      inject: [CLUSTER_CONFIG, HttpService, DnsDiscoveryService],
      useFactory: (config: ClusterConfig, http: HttpService, discovery: DnsDiscoveryService) =>
        config.masterListStore ??
        (discovery.enabled ? new DnsMasterListStore(discovery) : undefined) ??
        new UrlMasterListStore(http, {
          downloadUrl: config.masterListUrl,
          uploadUrl: config.masterListUpdateUrl,
          uploadAuth: config.masterListUpdateAuth,
          uploadMethod: config.masterListUpdateMethod,
          timeoutMs: config.requestTimeoutMs,
        }),
    },
    {
      provide: CLUSTER_ENGINE,
      inject: [CLUSTER_CONFIG, GOSSIP_TRANSPORT, ADDRESS_GUARD],
      useFactory: (config: ClusterConfig, transport: GossipTransport, guard: AddressGuard) => createClusterEngine(config, transport, guard),
    },
    DnsDiscoveryService,
    GossipService,
    ClusterDiagnostics,
    CoordinationService,
    ClusterService,
    ClusterMetricsCollector,
    ClusterMetricsMiddleware,
    ClusterHealthIndicator,
    SharedSecretGuard,
    ControlSecretGuard,
    SignedReplyInterceptor,
  ],
  exports: [ClusterService, ClusterHealthIndicator],
})
export class ClustershazbotModule extends ClustershazbotConfigurableModule implements NestModule {
  constructor(
    @Inject(CLUSTER_METRICS) private readonly metrics: ClusterMetrics,
    @Inject(CLUSTER_CONTROLLER) private readonly controller: Type<unknown>,
  ) {
    super();
  }

  /** Request metrics are counted by a middleware on the cluster controller, only when metrics are on. */
  configure(consumer: MiddlewareConsumer): void {
    if (this.metrics.enabled) consumer.apply(ClusterMetricsMiddleware).forRoutes(this.controller);
  }

  /** Options may be omitted entirely: everything then comes from the environment. */
  static override forRoot(options: typeof OPTIONS_TYPE = {}): DynamicModule {
    return super.forRoot(options);
  }

  static override forRootAsync(options: typeof ASYNC_OPTIONS_TYPE): DynamicModule {
    return super.forRootAsync(options);
  }
}
