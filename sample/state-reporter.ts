import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { loadavg } from 'node:os';
import { ClusterService } from 'clustershazbot';

/**
 * What a real service shares through the cluster: when and as which process it started, and
 * its load every few seconds. `DEMO_LEASE_SECONDS` also sets a key that expires (a lease),
 * and `DEMO_KEY=name=value` a key of your own.
 */
@Injectable()
export class StateReporter implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('StateReporter');
  private timer?: NodeJS.Timeout;

  constructor(private readonly cluster: ClusterService) {}

  onApplicationBootstrap(): void {
    this.cluster.setLocalState('started', { pid: process.pid, at: new Date().toISOString() });
    const lease = Number(process.env.DEMO_LEASE_SECONDS);
    if (lease > 0) this.cluster.setLocalState('lease', { holder: process.pid }, Date.now() + lease * 1000);
    const custom = process.env.DEMO_KEY?.split('=');
    if (custom && custom.length === 2) this.cluster.setLocalState(custom[0], custom[1]);
    this.timer = setInterval(() => this.cluster.setLocalState('load', Math.round(loadavg()[0] * 100) / 100), 5000);
    this.timer.unref();
    // keys come from the network: quoted, so that no key can pass for a line of its own
    this.cluster.on('expire', (server, key) => this.logger.log(`${JSON.stringify(key)} of ${server} expired`));
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }
}
