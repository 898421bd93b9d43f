import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { Subscription } from 'rxjs';
import { ClusterService } from '../cluster.service.js';
import { CLUSTER_METRICS } from '../clustershazbot.constants.js';
import type { ClusterMetrics } from './cluster-metrics.js';

/**
 * Feeds the metrics from ClusterService, the module's public face: transitions from `changes$`
 * as they happen; members, health score, queue depth, view checksum and discovery seeds from
 * `view()` and `status()` at each scrape (nothing is computed between scrapes).
 */
@Injectable()
export class ClusterMetricsCollector implements OnModuleInit, OnModuleDestroy {
  private subscription?: Subscription;
  private removeSource?: () => void;

  constructor(
    @Inject(CLUSTER_METRICS) private readonly metrics: ClusterMetrics,
    private readonly cluster: ClusterService,
  ) {}

  onModuleInit(): void {
    if (!this.metrics.enabled) return;
    this.subscription = this.cluster.changes$.subscribe((change) => this.metrics.transition(change.type));
    const cluster = this.cluster;
    this.removeSource = this.metrics.addSource({
      members() {
        const view = cluster.view();
        return { alive: view.online.length, suspect: view.suspect.length, offline: view.offline.length };
      },
      healthScore: () => cluster.status().stats.localHealth,
      broadcastQueueDepth: () => cluster.status().stats.broadcastQueueDepth,
      viewChecksum: () => cluster.viewChecksum(),
      discoverySeeds: () => cluster.status().discovery?.seeds.length,
    });
  }

  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
    this.removeSource?.();
  }
}
