/** The server side of `npm run bench:load`: the module plus a bare endpoint, on Express or Fastify. */
import 'reflect-metadata';
import { Body, Controller, HttpCode, Module, Post, UseGuards, UsePipes, type CanActivate, type ExecutionContext, type PipeTransform } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { canonicalJson, ClusterService, ClustershazbotModule, hmacSha256, stringToSign, type GossipMessage } from 'clustershazbot';
import { timingSafeEqual } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const platform = process.argv[2] === 'fastify' ? 'fastify' : 'express';
const port = Number(process.argv[3]);
/** `raw`: the app keeps each body's bytes (Nest's rawBody), which the guard then hashes as received. */
const rawBody = process.argv[4] === 'raw';
const masterList = join(mkdtempSync(join(tmpdir(), 'bench-load-')), 'master.json');
writeFileSync(masterList, JSON.stringify({ online: [] }));

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

/** The guard slot of the floor endpoint, with nothing in it. */
class AcceptEverything implements CanActivate {
  canActivate(): boolean {
    return true;
  }
}

/** The pipe slot of the floor endpoint, with nothing in it. */
class PassEverything implements PipeTransform {
  transform(value: unknown): unknown {
    return value;
  }
}

/** The header as the library writes it: cluster, ts, nonce, sig. */
const SIGNED_HEADER = /^Shazbot-HMAC-SHA256 cluster=([A-Za-z0-9._-]{1,64}), ts=(\d{1,16}), nonce=([A-Za-z0-9_-]{16,64}), sig=([A-Za-z0-9_-]{43})$/;

/**
 * The signature's cryptography and nothing else: the body hash (of the bytes as received when
 * the app keeps them, else of the body's canonical JSON) and the HMAC, compared. No time
 * window, no nonce, no depth bound, no validation: what any guard meeting the scheme must at
 * least spend, so the ratio no complete one can beat.
 */
class VerifySignatureOnly implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined>; body: unknown; rawBody?: Buffer }>();
    const fields = SIGNED_HEADER.exec(request.headers.authorization ?? '');
    if (!fields) return false;
    const signed = stringToSign({ method: 'POST', target: selfUrl, path: '/clustershazbot/gossip', cluster: fields[1], body: request.body, canonicalBody: request.rawBody ?? canonicalJson(request.body) }, Number(fields[2]), fields[3]);
    return timingSafeEqual(hmacSha256('bench-secret', signed), Buffer.from(fields[4], 'base64url'));
  }
}

@Controller()
class FloorController {
  constructor(private readonly cluster: ClusterService) {}

  /**
   * The gossip endpoint's shape (a guard, a pipe, the merge, the reply) with an empty guard and
   * pipe: the cost no signature check or validation can go below.
   */
  @Post('floor')
  @HttpCode(200)
  @UseGuards(AcceptEverything)
  @UsePipes(PassEverything)
  floor(@Body() body: GossipMessage) {
    return this.cluster.receiveGossip(body);
  }

  /** The same with the signature's cryptography in the guard slot. */
  @Post('signature-floor')
  @HttpCode(200)
  @UseGuards(VerifySignatureOnly)
  @UsePipes(PassEverything)
  signatureFloor(@Body() body: GossipMessage) {
    return this.cluster.receiveGossip(body);
  }
}

/** The signature names the server it is for: this one. */
const selfUrl = `http://127.0.0.1:${port}/`;

@Module({
  imports: [
    ClustershazbotModule.forRoot({
      secret: 'bench-secret',
      controlSecret: 'bench-control',
      baseUrl: `http://127.0.0.1:${port}/`,
      masterListUrl: pathToFileURL(masterList).toString(),
      gossipIntervalSeconds: 3600,
      failureDetection: 'off',
      useEnvironment: false,
    }),
  ],
  controllers: [BareController, FloorController],
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
