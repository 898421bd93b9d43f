/**
 * The floor of `npm run bench:overhead`: the same host app as overhead-host.ts, without the
 * module, but sending one plain HTTP request a second to a random other host (what a SWIM
 * member sends: one probe a second, LAN profile) and answering the others'. Same stack as the
 * module's transport (Nest and Express answering, @nestjs/axios asking, keep-alive agent,
 * JSON bodies of a probe's size), but no signatures, no validation, no protocol. What it
 * costs is what HTTP at SWIM's rate costs this host before any gossip logic runs.
 * Peers: FLOOR_PEERS, a comma-separated list of base URLs (its own is skipped).
 * `OVERHEAD_PLATFORM=fastify` runs it on Fastify, as overhead-host.ts.
 */
import 'reflect-metadata';
import { Agent } from 'node:http';
import { Body, Controller, Get, HttpCode, Injectable, Module, Post, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { HttpModule, HttpService } from '@nestjs/axios';
import { firstValueFrom } from 'rxjs';
import { listenAddress } from '../sample/listen-address.js';

/** A probe's size on the wire: a sender, a sequence number and two piggybacked entries. */
const probe = (self: string, seq: number) => ({
  from: self,
  seq,
  entries: [
    { baseUrl: self, state: 'online', incarnation: 1, stamp: Date.now() },
    { baseUrl: 'http://127.0.0.1:1/', state: 'online', incarnation: 3, stamp: Date.now() - 1000 },
  ],
});

@Controller()
class FloorController {
  @Get('products')
  products() {
    return [{ id: 1 }];
  }

  @Post('floor/ping')
  @HttpCode(200)
  ping(@Body() body: { from: string; seq: number }) {
    return probe(process.env.SHAZBOT_BASE_URL ?? '', body.seq);
  }
}

@Injectable()
class FloorPinger implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private seq = 0;
  private readonly agent = new Agent({ keepAlive: true });
  constructor(private readonly http: HttpService) {}

  onApplicationBootstrap() {
    const self = process.env.SHAZBOT_BASE_URL ?? '';
    const peers = (process.env.FLOOR_PEERS ?? '').split(',').filter((p) => p && p !== self);
    if (!peers.length) return;
    this.timer = setInterval(() => {
      const peer = peers[Math.floor(Math.random() * peers.length)];
      firstValueFrom(this.http.post(`${peer}floor/ping`, probe(self, ++this.seq), { httpAgent: this.agent, timeout: 500 })).catch(() => undefined);
    }, 1000);
  }

  onApplicationShutdown() {
    clearInterval(this.timer);
    this.agent.destroy();
  }
}

@Module({ imports: [HttpModule], controllers: [FloorController], providers: [FloorPinger] })
class FloorModule {}

const options = { logger: ['warn', 'error'] as ('warn' | 'error')[] };
const app = process.env.OVERHEAD_PLATFORM === 'fastify' ? await NestFactory.create(FloorModule, new FastifyAdapter(), options) : await NestFactory.create(FloorModule, options);
app.enableShutdownHooks();
const { host, port } = listenAddress();
await app.listen(port, host);
console.log(`floor host listening on ${host}:${port}`);
