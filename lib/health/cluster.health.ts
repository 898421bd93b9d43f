import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { ClusterService } from '../cluster.service.js';

/**
 * Terminus indicator: `up` with how many servers are online, offline and suspect (with
 * `healthDetails: 'full'`: this server's base URL and the lists); `degraded` (still 200) while
 * the master list could not be loaded, or, for a DNS master list, while its last resolution
 * failed; `down` (503) when the engine is not running.
 */
@Injectable()
export class ClusterHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    private readonly cluster: ClusterService,
  ) {}

  isHealthy<const Key extends string = 'cluster'>(key: Key = 'cluster' as Key): HealthIndicatorResult<Key> {
    const indicator = this.health.check(key);
    const { state, failure, masterList, discovery } = this.cluster.status();
    if (state !== 'running') return indicator.down({ message: failure ?? `clustershazbot is ${state === 'idle' ? 'not started' : state}` });
    const view = this.cluster.healthView();
    const details: Record<string, unknown> = typeof view.online === 'number' ? { ...view } : { self: this.cluster.self().baseUrl, ...view };
    if (discovery) {
      // DNS is re-resolved all along: its last answer, not the first load, tells whether seeds are current
      if (!discovery.healthy) return indicator.degraded({ ...details, message: `DNS discovery ${discovery.source} failing: ${discovery.lastError ?? 'not resolved yet'}` });
    } else if (!masterList.loaded) {
      return indicator.degraded({ ...details, message: `master list unavailable: ${masterList.lastError ?? 'not loaded yet'}` });
    }
    return indicator.up(details);
  }
}
