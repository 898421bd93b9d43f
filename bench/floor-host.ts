/**
 * The floor of `npm run bench:overhead`: a Nest app like overhead-host.ts, without the module,
 * sending one plain HTTP request a second to another floor host and answering theirs: what a
 * SWIM member sends (one probe a second, LAN profile), to whom it sends it (round-robin over a
 * shuffled list, as lib/core/failure-detector.ts picks probe targets, so a connection is as
 * rarely reused as the module's: Node closes idle ones after 5 s), over the same stack (Nest
 * answering, @nestjs/axios with a keep-alive agent asking, JSON bodies of a probe's size). No
 * signatures, no validation, no protocol: what it costs is what HTTP at SWIM's probe rate
 * costs this host before any gossip logic runs.
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

/** Fisher–Yates: each round of the round-robin in a new order, as the failure detector does. */
function shuffled<T>(items: T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

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
  private order: string[] = [];
  private readonly agent = new Agent({ keepAlive: true });
  constructor(private readonly http: HttpService) {}

  onApplicationBootstrap() {
    const self = process.env.SHAZBOT_BASE_URL ?? '';
    const peers = (process.env.FLOOR_PEERS ?? '').split(',').filter((p) => p && p !== self);
    if (!peers.length) return;
    this.timer = setInterval(() => {
      if (!this.order.length) this.order = shuffled(peers);
      const peer = this.order.pop()!;
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
