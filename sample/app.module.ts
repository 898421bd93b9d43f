import { Controller, Get, Module } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { ClusterHealthIndicator, ClusterService, ClustershazbotModule } from 'clustershazbot';
import { MetricsController } from './metrics.controller.js';
import { StateReporter } from './state-reporter.js';

@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly clusterHealth: ClusterHealthIndicator,
    private readonly cluster: ClusterService,
  ) {}

  /** Terminus health with the live cluster under `cluster`. */
  @Get('health')
  @HealthCheck()
  check() {
    return this.health.check([() => this.clusterHealth.isHealthy('cluster')]);
  }

  /** The page's extension object plus counters, for the demo's progress lines. */
  @Get('cluster')
  status() {
    return { ...this.cluster.healthExtension(), self: this.cluster.self(), stats: this.cluster.status().stats, state: this.cluster.state() };
  }
}

/** Everything comes from the SHAZBOT_* variables: `ClustershazbotModule.forRoot()` with no options. */
@Module({
  imports: [ClustershazbotModule.forRoot(), TerminusModule],
  controllers: [HealthController, MetricsController],
  providers: [StateReporter],
})
export class AppModule {}
