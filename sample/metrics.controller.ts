import { Controller, Get, Header, NotFoundException } from '@nestjs/common';

/**
 * `GET /metrics` for Prometheus: the module registers its metrics in prom-client's global
 * registry when SHAZBOT_METRICS=true (or the `metrics` option is set), and the host exposes it.
 */
@Controller()
export class MetricsController {
  @Get('metrics')
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  async metrics(): Promise<string> {
    if (!/^(true|1|yes|on)$/i.test(process.env.SHAZBOT_METRICS ?? '')) throw new NotFoundException('metrics are off: set SHAZBOT_METRICS=true');
    const { register } = await import('prom-client');
    return register.metrics();
  }
}
