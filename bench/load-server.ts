/** The server side of `npm run bench:load`: the module plus a bare endpoint, on Express or Fastify. */
import 'reflect-metadata';
import { Body, Controller, HttpCode, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { ClusterService, ClustershazbotModule } from 'clustershazbot';

const platform = process.argv[2] === 'fastify' ? 'fastify' : 'express';
const port = Number(process.argv[3]);
/** `raw`: the app keeps each body's bytes (Nest's rawBody), which the guard then hashes as received. */
const rawBody = process.argv[4] === 'raw';

let bareReply: unknown = {};

@Controller()
class BareController {
  /** Same work a plain Nest endpoint does: parse the body, answer a body as large as gossip's reply. */
  @Post('bare')
  @HttpCode(200)
  bare(@Body() _body: unknown) {
    return bareReply;
  }
}

@Module({
  imports: [
    ClustershazbotModule.forRoot({
      secret: 'bench-secret',
      controlSecret: 'bench-control',
      baseUrl: `http://127.0.0.1:${port}/`,
      masterListStore: { load: async () => ({ online: [] }) }, // an empty list, and no temp file left behind
      gossipIntervalSeconds: 3600,
      failureDetection: 'off',
      useEnvironment: false,
    }),
  ],
  controllers: [BareController],
})
class LoadModule {}

const app = platform === 'fastify' ? await NestFactory.create(LoadModule, new FastifyAdapter(), { logger: false, rawBody }) : await NestFactory.create(LoadModule, { logger: false, rawBody });
const cluster = app.get(ClusterService);
// the view the benchmark's gossip messages produce: ten peers plus this server
const now = Date.now();
cluster.receiveGossip({ message: 'gossip', online: Array.from({ length: 10 }, (_, i) => ({ baseUrl: `http://127.0.0.1:${20000 + i}/`, monitor: false, lastUpdate: now })) });
bareReply = cluster.view();
await app.listen(port, '127.0.0.1');
process.stdout.write('ready\n');
