/**
 * The host app of `npm run bench:overhead`: a plain Nest app with one JSON route of its own
 * (`GET /products`), with `ClustershazbotModule.forRoot()` (configured from the SHAZBOT_*
 * variables, as the sample is) or, with `OVERHEAD_MODULE=off`, without it. Everything else is
 * the same, so the difference between the two is what the module costs the host.
 *
 * `OVERHEAD_PLATFORM=fastify` runs it on Fastify instead of Express. With the module,
 * `GET /bench/module-stats` answers the engine's counters, read by the benchmark before and
 * after a measured window (never while the host route is measured).
 */
import 'reflect-metadata';
import { Controller, Get, Module, type DynamicModule, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { ClusterService, ClustershazbotModule } from 'clustershazbot';
import { listenAddress } from '../sample/listen-address.js';

const withModule = process.env.OVERHEAD_MODULE !== 'off';

/** What a small catalogue service answers: ten products, about 1 KB of JSON. */
const PRODUCTS = Array.from({ length: 10 }, (_, i) => ({
  id: 1000 + i,
  name: `Product ${i}`,
  price: { amount: 1999 + i * 100, currency: 'EUR' },
  tags: ['catalogue', i % 2 ? 'odd' : 'even'],
  inStock: i % 3 !== 0,
}));

/** The host's own route: the one autocannon measures. */
@Controller()
class ProductsController {
  @Get('products')
  products() {
    return PRODUCTS;
  }
}

/** The module's counters, for the benchmark's messages-per-second figures. */
@Controller('bench')
class ModuleStatsController {
  constructor(private readonly cluster: ClusterService) {}

  @Get('module-stats')
  stats() {
    return this.cluster.status().stats;
  }
}

const imports: DynamicModule[] = withModule ? [ClustershazbotModule.forRoot()] : [];
const controllers: Type<unknown>[] = withModule ? [ProductsController, ModuleStatsController] : [ProductsController];

@Module({ imports, controllers })
class HostModule {}

const options = { logger: ['warn', 'error'] as ('warn' | 'error')[] };
const app = process.env.OVERHEAD_PLATFORM === 'fastify' ? await NestFactory.create(HostModule, new FastifyAdapter(), options) : await NestFactory.create(HostModule, options);
app.enableShutdownHooks();
const { host, port } = listenAddress();
await app.listen(port, host);
console.log(`host listening on ${host}:${port}, module ${withModule ? 'on' : 'off'}`);
