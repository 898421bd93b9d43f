import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { ClusterService } from '../cluster.service.js';

/**
 * Terminus indicators, one for each kind of probe (Kubernetes' split of liveness and
 * readiness):
 * - `isHealthy` (liveness: would a restart help?): `down` (503) when the engine is not running;
 *   `degraded` (still 200) while a problem needs an operator (status().problems: a base URL
 *   that does not reach this server, a route-prefix mismatch, alone, an address conflict, the
 *   master list or DNS failing), with `message` naming it; `up` otherwise. Details: how many
 *   servers are online, offline and suspect (with `healthDetails: 'full'`: this server's base
 *   URL and the lists).
 * - `isReady` (readiness: should a load balancer send traffic here?): `down` (503) while this
 *   server is offline by control (drained), alone since start (never joined) while the master
 *   list named others, or gave its address up in an address conflict; `up` otherwise (peers
 *   that leave or die later do not make it unready). Use it for the readiness probe.
 */
@Injectable()
export class ClusterHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    private readonly cluster: ClusterService,
  ) {}

  isHealthy<const Key extends string = 'cluster'>(key: Key = 'cluster' as Key): HealthIndicatorResult<Key> {
    const indicator = this.health.check(key);
    const { state, failure, problems } = this.cluster.status();
    if (state !== 'running') return indicator.down({ message: failure ?? `clustershazbot is ${state === 'idle' ? 'not started' : state}` });
    const view = this.cluster.healthView();
    const details: Record<string, unknown> = typeof view.online === 'number' ? { ...view } : { self: this.cluster.self().baseUrl, ...view };
    if (problems.length) return indicator.degraded({ ...details, message: problems.map((p) => p.message).join('; '), problems: problems.map((p) => p.code) });
    return indicator.up(details);
  }

  isReady<const Key extends string = 'cluster'>(key: Key = 'cluster' as Key): HealthIndicatorResult<Key> {
    const indicator = this.health.check(key);
    const { readiness } = this.cluster.status();
    return readiness.ready ? indicator.up({ ready: true }) : indicator.down({ ready: false, message: readiness.reasons.join('; ') });
  }
}
