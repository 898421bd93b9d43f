import { Controller, Get, Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { ClusterHealthIndicator, ClusterService, ClustershazbotModule } from 'clustershazbot';
import { MetricsController } from './metrics.controller.js';
import { StateReporter } from './state-reporter.js';
import { CoordinationController } from './coordination.controller.js';
import { SingletonJob } from './singleton-job.js';

@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly clusterHealth: ClusterHealthIndicator,
    private readonly cluster: ClusterService,
  ) {}

  /** Liveness: Terminus health with the live cluster under `cluster` (degraded while a problem needs an operator). */
  @Get('health')
  @HealthCheck()
  check() {
    return this.health.check([() => this.clusterHealth.isHealthy('cluster')]);
  }

  /** Readiness: 503 while this server is drained (offline by control), alone, or gave its address up. */
  @Get('health/ready')
  @HealthCheck()
  ready() {
    return this.health.check([() => this.clusterHealth.isReady('cluster')]);
  }

  /** The page's extension object plus counters, for the demo's progress lines. */
  @Get('cluster')
  status() {
    return { ...this.cluster.healthExtension(), self: this.cluster.self(), stats: this.cluster.status().stats, state: this.cluster.state() };
  }
}

/**
 * Everything comes from the SHAZBOT_* variables: `ClustershazbotModule.forRoot()` with no
 * options. The host's own ScheduleModule runs the singleton job (when DEMO_SINGLETON_LOG is set).
 */
@Module({
  imports: [ClustershazbotModule.forRoot(), TerminusModule, ScheduleModule.forRoot()],
  controllers: [HealthController, MetricsController, CoordinationController],
  providers: [StateReporter, ...(process.env.DEMO_SINGLETON_LOG ? [SingletonJob] : [])],
})
export class AppModule {}
