/**
 * Misconfiguration gets a loud, specific signal (issue 17): for each mistake a newcomer makes,
 * a real Nest app listening on loopback shows a log line at warn naming the setting to fix, the
 * reason in `status().problems`, a health state that is not plain "up", and, where a load
 * balancer should stop sending traffic, readiness down (503).
 */
import { jest } from '@jest/globals';
import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { Test } from '@nestjs/testing';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import request from 'supertest';
import { ClusterHealthIndicator, ClusterService, ClustershazbotModule, resolveClusterConfig, type ClusterProblemEvent, type ClustershazbotOptions, type ClusterProblemCode } from '../../lib/index.js';
import { ADDRESS_GUARD, CLUSTER_CONFIG, CLUSTER_ENGINE, GOSSIP_TRANSPORT } from '../../lib/clustershazbot.constants.js';
import { createClusterEngine } from '../../lib/clustershazbot.module.js';
import type { ClusterConfig } from '../../lib/clustershazbot.options.js';
import type { ClusterEngine } from '../../lib/core/cluster-engine.js';
import type { GossipTransport } from '../../lib/core/transport.js';
import type { AddressGuard } from '../../lib/security/address-guard.js';
import { freePort } from '../../sample/local-cluster.js';
import { auth } from '../support/signed.js';
import { baseOptions, captureLogs, SECRET } from './app-fixture.js';

jest.setTimeout(60_000);

@Controller()
class ProbesController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly cluster: ClusterHealthIndicator,
  ) {}

  @Get('health')
  @HealthCheck()
  live() {
    return this.health.check([() => this.cluster.isHealthy()]);
  }

  @Get('health/ready')
  @HealthCheck()
  ready() {
    return this.health.check([() => this.cluster.isReady()]);
  }
}

const apps: INestApplication[] = [];
const dirs: string[] = [];
const lines = captureLogs();

afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close().catch(() => undefined)));
});
afterAll(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function listFile(document: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'shazbot-misconfig-'));
  dirs.push(dir);
  const path = join(dir, 'master.json');
  writeFileSync(path, typeof document === 'string' ? document : JSON.stringify(document));
  return pathToFileURL(path).toString();
}

/**
 * A real app on its own loopback port; `baseUrl` is where it listens unless the options say
 * otherwise. `clock`: the engine's clock (Date.now unless a test moves it forward).
 */
async function start(options: ClustershazbotOptions, routePrefix?: string, listenOn?: number, clock?: () => number): Promise<{ app: INestApplication; port: number; cluster: ClusterService }> {
  const port = listenOn ?? (await freePort());
  @Module({ imports: [ClustershazbotModule.forRoot({ ...baseOptions({ baseUrl: `http://127.0.0.1:${port}/`, ...options }), ...(routePrefix ? { routePrefix } : {}) }), TerminusModule], controllers: [ProbesController] })
  class AppModule {}
  const builder = Test.createTestingModule({ imports: [AppModule] });
  if (clock) {
    builder.overrideProvider(CLUSTER_ENGINE).useFactory({
      inject: [CLUSTER_CONFIG, GOSSIP_TRANSPORT, ADDRESS_GUARD],
      factory: (config: ClusterConfig, transport: GossipTransport, guard: AddressGuard) => createClusterEngine(config, transport, guard, clock),
    });
  }
  const moduleRef = await builder.compile();
  const app = moduleRef.createNestApplication({ logger: ['log', 'warn', 'error'] });
  await app.listen(port, '127.0.0.1');
  apps.push(app);
  return { app, port, cluster: app.get(ClusterService) };
}

async function until<T>(what: string, read: () => Promise<T> | T, ok: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const hasProblem = (cluster: ClusterService, code: ClusterProblemCode) => cluster.status().problems.find((p) => p.code === code);

/**
 * A reverse proxy on loopback, the way a load balancer or a port mapping puts one URL in front
 * of a process: every request to its port goes to the app on port `target`. Real HTTP.
 */
async function reverseProxy(): Promise<{ port: number; target: number; close: () => Promise<void> }> {
  const state = { port: await freePort(), target: 0 };
  const server: Server = createServer((req, res) => {
    const upstream = httpRequest({ host: '127.0.0.1', port: state.target, path: req.url, method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(state.port, '127.0.0.1', resolve));
  return Object.assign(state, {
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  });
}

describe('misconfiguration is loud', () => {
  it('1. a route prefix that differs from the peers\': a warning naming routePrefix, the reason in status, health degraded', async () => {
    const seed = await start({ failureDetection: 'local' });
    const odd = await start({ masterListUrl: listFile({ online: [{ baseUrl: `http://127.0.0.1:${seed.port}/` }] }), failureDetection: 'local', gossipIntervalSeconds: 0.3 }, 'internal/cluster');
    const problem = await until('the route-prefix problem', () => hasProblem(odd.cluster, 'route-prefix'), (p) => p !== undefined);
    expect(problem!.setting).toBe('routePrefix');
    expect(problem!.message).toMatch(/answer 404 on every clustershazbot endpoint .*another route prefix than this server's 'internal\/cluster'.*same routePrefix on every server/);
    expect(lines.some((l) => l.startsWith('warn:') && l.includes("route prefix than this server's 'internal/cluster'"))).toBe(true);
    const health = await request(odd.app.getHttpServer()).get('/health').expect(200);
    expect(health.body.info.cluster).toMatchObject({ status: 'degraded', problems: expect.arrayContaining(['route-prefix']) });
    // and the seed, reached at the wrong prefix, is never listed as online by the odd server
    expect(odd.cluster.view().online.map((e) => e.baseUrl)).not.toContain(`http://127.0.0.1:${seed.port}/`);
  });

  it('2. a base URL that does not reach this server: a warning naming SHAZBOT_BASE_URL, the reason, health degraded', async () => {
    const elsewhere = await freePort();
    const { app, cluster } = await start({ baseUrl: `http://127.0.0.1:${elsewhere}/` });
    const problem = await until('the base-url problem', () => hasProblem(cluster, 'base-url'), (p) => p !== undefined);
    expect(problem!.message).toMatch(new RegExp(`SHAZBOT_BASE_URL \\(option baseUrl\\) http://127.0.0.1:${elsewhere}/ does not reach this server \\(.*ECONNREFUSED`));
    expect(lines.some((l) => l.startsWith('warn:') && l.includes('does not reach this server'))).toBe(true);
    const health = await request(app.getHttpServer()).get('/health').expect(200);
    expect(health.body.info.cluster).toMatchObject({ status: 'degraded', problems: ['base-url'] });
  });

  it('2b. a base URL that reaches this very server: no problem, health up', async () => {
    const { app, cluster } = await start({});
    await new Promise((r) => setTimeout(r, 8000)); // past the first self-checks
    expect(cluster.status().problems).toEqual([]);
    expect((await request(app.getHttpServer()).get('/health').expect(200)).body.info.cluster.status).toBe('up');
  });

  it('3. alone while the master list named others: a warning, the reason, health degraded and readiness down (503); ready once a peer answers', async () => {
    const deadPort = await freePort();
    const lonely = await start({ masterListUrl: listFile({ online: [{ baseUrl: `http://127.0.0.1:${deadPort}/` }] }), failureDetection: 'local', gossipIntervalSeconds: 0.3 });
    const problem = await until('the alone problem', () => hasProblem(lonely.cluster, 'alone'), (p) => p !== undefined, 30_000);
    expect(problem!.message).toMatch(new RegExp(`alone: none of the 1 server\\(s\\) the master list named answers \\(http://127.0.0.1:${deadPort}/\\); still trying them`));
    expect(lines.some((l) => l.startsWith('warn:') && l.includes('alone: none of the 1 server(s)'))).toBe(true);
    expect((await request(lonely.app.getHttpServer()).get('/health').expect(200)).body.info.cluster.status).toBe('degraded');
    const notReady = await request(lonely.app.getHttpServer()).get('/health/ready').expect(503);
    expect(notReady.body.error.cluster).toMatchObject({ status: 'down', ready: false, message: expect.stringContaining('alone') });
    // the seed comes up at that very port: the lonely server keeps trying it and joins
    await start({ failureDetection: 'local' }, undefined, deadPort);
    await until('readiness', async () => (await request(lonely.app.getHttpServer()).get('/health/ready')).status, (s) => s === 200, 30_000).catch((e) => {
      throw new Error(`${e.message} view ${JSON.stringify(lonely.cluster.view())} stats ${JSON.stringify(lonely.cluster.status().stats)} lines ${lines.slice(-8).join(' | ')}`);
    });
    expect(lines).toContain('log: resolved: alone (a peer answers now)');
    expect(lines.filter((l) => l.startsWith('log: resolved'))).toEqual(['log: resolved: alone (a peer answers now)']); // the warning is not repeated
  });

  it('3b. scaling down to one server is not alone: a server that was part of a cluster stays ready and raises no problem when its only peer leaves', async () => {
    const [portA, portB] = [await freePort(), await freePort()];
    const both = listFile({ online: [{ baseUrl: `http://127.0.0.1:${portA}/` }, { baseUrl: `http://127.0.0.1:${portB}/` }] });
    const a = await start({ masterListUrl: both, failureDetection: 'local', gossipIntervalSeconds: 0.3 }, undefined, portA);
    const b = await start({ masterListUrl: both, failureDetection: 'local', gossipIntervalSeconds: 0.3 }, undefined, portB);
    const bUrl = `http://127.0.0.1:${portB}/`;
    await until('b online on a', () => a.cluster.view().online.map((e) => e.baseUrl), (urls) => urls.includes(bUrl));
    // b's entry came from the master list, which proves nothing: a has joined once a sync with b succeeded
    await until('a joined', () => a.app.get<ClusterEngine>(CLUSTER_ENGINE).joinState(), (state) => state === 'joined');
    await b.app.close(); // a clean leave: b tells a it goes offline
    await until('b offline on a', () => a.cluster.view().offline.map((e) => e.baseUrl), (urls) => urls.includes(bUrl));
    // past the 10 s after which a server that never found a peer is alone: a stays ready throughout
    const watchUntil = Date.now() + 12_000;
    while (Date.now() < watchUntil) {
      expect(hasProblem(a.cluster, 'alone')).toBeUndefined();
      await request(a.app.getHttpServer()).get('/health/ready').expect(200);
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect((await request(a.app.getHttpServer()).get('/health').expect(200)).body.info.cluster.status).toBe('up');
    expect(lines.filter((l) => l.includes('alone'))).toEqual([]);
  });

  it('3c. a secret that differs from the seed\'s: the joiner names SHAZBOT_SECRET (not the master list), is degraded and not ready; the seed warns naming the sender and the cause', async () => {
    const otherSecret = 'a-secret-the-seed-does-not-know';
    const seed = await start({ failureDetection: 'local' });
    const seedUrl = `http://127.0.0.1:${seed.port}/`;
    const joiner = await start({ secret: otherSecret, masterListUrl: listFile({ online: [{ baseUrl: seedUrl }] }), failureDetection: 'local', gossipIntervalSeconds: 0.3 });
    const problem = await until('the alone problem', () => hasProblem(joiner.cluster, 'alone'), (p) => p !== undefined, 30_000);
    expect(problem).toMatchObject({
      setting: 'SHAZBOT_SECRET',
      message: `alone: the seeds refuse this server's signature (401): ${seedUrl}. SHAZBOT_SECRET (option secret) differs from theirs, or this server's clock is off by more than the signature window (SHAZBOT_SIGNATURE_WINDOW); still trying them`,
    });
    expect(problem!.message).not.toContain('SHAZBOT_MASTER_LIST');
    expect(lines).toContain(`warn: ${problem!.message}`);
    // the joiner's engine, at the first refusal
    expect(lines).toContain(`warn: ${seedUrl} answered 401: it refuses this server's signature. SHAZBOT_SECRET (option secret) differs from its, or a clock is off by more than the signature window (SHAZBOT_SIGNATURE_WINDOW)`);
    // the seed: who sent it and why, rate-limited (the joiner retries every 0.3 s)
    const refused = lines.filter((l) => l.startsWith('warn: refused a request to '));
    expect(refused.length).toBeGreaterThan(0);
    // rate-limited: at most 3 lines a minute for each endpoint and cause (plus one "N more" line)
    for (const endpoint of ['sync', 'gossip', 'probe']) expect(refused.filter((l) => l.startsWith(`warn: refused a request to ${endpoint} `)).length).toBeLessThanOrEqual(4);
    expect(refused[0]).toMatch(/^warn: refused a request to (sync|gossip|probe) from (::ffff:)?127\.0\.0\.1 \(401\): its signature was made with none of this server's secrets\. Its SHAZBOT_SECRET \(option secret\) differs from this server's, or it is no member of this cluster$/);
    expect((await request(joiner.app.getHttpServer()).get('/health').expect(200)).body.info.cluster).toMatchObject({ status: 'degraded', problems: ['alone'] });
    const notReady = await request(joiner.app.getHttpServer()).get('/health/ready').expect(503);
    expect(notReady.body.error.cluster.message).toContain('SHAZBOT_SECRET (option secret) differs from theirs');
    // no secret in any line or response
    for (const secret of [otherSecret, SECRET]) {
      expect(lines.filter((l) => l.includes(secret))).toEqual([]);
      expect(JSON.stringify(notReady.body)).not.toContain(secret);
    }
  });

  it('3d. a cluster name that differs from the seed\'s: the joiner names SHAZBOT_CLUSTER, is degraded and not ready; the seed warns naming the sender', async () => {
    const seed = await start({ failureDetection: 'local', cluster: 'blue' });
    const seedUrl = `http://127.0.0.1:${seed.port}/`;
    const joiner = await start({ cluster: 'green', masterListUrl: listFile({ online: [{ baseUrl: seedUrl }] }), failureDetection: 'local', gossipIntervalSeconds: 0.3 });
    const problem = await until('the alone problem', () => hasProblem(joiner.cluster, 'alone'), (p) => p !== undefined, 30_000);
    expect(problem).toMatchObject({
      setting: 'SHAZBOT_CLUSTER',
      message: `alone: the servers the master list named belong to another cluster: ${seedUrl} answered 403 to this server's cluster 'green'. SHAZBOT_CLUSTER (option cluster) differs from theirs: set the same on every server of one cluster`,
    });
    expect(lines).toContain(`warn: ${problem!.message}`);
    expect(lines.some((l) => l.startsWith(`warn: ${seedUrl} answered 403: it belongs to another cluster`))).toBe(true);
    expect(lines.some((l) => /^warn: refused a request to (sync|gossip|probe) from (::ffff:)?127\.0\.0\.1 \(403\): it signed for another cluster\. Its SHAZBOT_CLUSTER \(option cluster\) differs from this server's 'blue'$/.test(l))).toBe(true);
    expect((await request(joiner.app.getHttpServer()).get('/health').expect(200)).body.info.cluster).toMatchObject({ status: 'degraded', problems: ['alone'] });
    const notReady = await request(joiner.app.getHttpServer()).get('/health/ready').expect(503);
    expect(notReady.body.error.cluster.message).toContain('SHAZBOT_CLUSTER (option cluster) differs');
    expect(lines.filter((l) => l.includes(SECRET))).toEqual([]);
  });

  it('4. a hand-written master list with only base URLs loads; a bad entry is named precisely (invalid, not unavailable); a relative file URL fails at start', async () => {
    const { cluster } = await start({ masterListUrl: listFile({ online: [{ baseUrl: 'http://127.0.0.1:4101/' }, { baseUrl: 'http://127.0.0.1:4102/' }] }) });
    expect(cluster.status().masterList).toMatchObject({ loaded: true });
    expect(hasProblem(cluster, 'master-list')).toBeUndefined();
    const bad = await start({ masterListUrl: listFile({ online: [{ baseUrl: 'http://127.0.0.1:4101/' }, { baseUrl: 'ftp://nope/' }] }) });
    const problem = hasProblem(bad.cluster, 'master-list');
    // read but invalid is not "unavailable": the problem names the first bad entry
    expect(problem!.message).toMatch(/^master list invalid: online\.1\.baseUrl .*; fix it \(an entry needs at least "baseUrl"\)$/);
    expect(bad.cluster.status().masterList).toMatchObject({ loaded: false, invalidEntries: [expect.stringMatching(/^online\.1\.baseUrl /)] });
    const notJson = await start({ masterListUrl: listFile('{"online": [') });
    expect(hasProblem(notJson.cluster, 'master-list')!.message).toMatch(/^master list invalid: not valid JSON; /);
    const missing = await start({ masterListUrl: listFile({}).replace(/master\.json$/, 'gone.json') });
    expect(hasProblem(missing.cluster, 'master-list')!.message).toMatch(/^master list unavailable: ENOENT/);
    expect(lines.some((l) => l.startsWith('warn:') && /master list file:.* is invalid: not a valid server list: online\.1\.baseUrl.*"baseUrl"/.test(l))).toBe(true);
    expect(() => resolveClusterConfig(baseOptions({ masterListUrl: 'file://cl/master.json' }), () => undefined, 'clustershazbot')).toThrow(/SHAZBOT_MASTER_LIST is a file URL with a host \("cl"\): a file URL needs three slashes and an absolute path/);
  });

  it('12. state() and /state give live servers\' keys; `include: all` adds offline ones', async () => {
    const a = await start({ failureDetection: 'local', gossipIntervalSeconds: 0.3 });
    const b = await start({ masterListUrl: listFile({ online: [{ baseUrl: `http://127.0.0.1:${a.port}/` }] }), failureDetection: 'local', gossipIntervalSeconds: 0.3 });
    b.cluster.setLocalState('load', 0.5);
    const bUrl = `http://127.0.0.1:${b.port}/`;
    await until('b\'s key on a', () => a.cluster.state()[bUrl], (keys) => keys?.load === 0.5);
    b.cluster.setOnline(false);
    await until('b offline on a', () => a.cluster.view().offline.map((e) => e.baseUrl), (urls) => urls.includes(bUrl));
    expect(a.cluster.state()[bUrl]).toBeUndefined();
    expect(a.cluster.state({ include: 'all' })[bUrl]).toEqual({ load: 0.5 });
    const live = await request(a.app.getHttpServer()).get('/clustershazbot/state').set(auth(SECRET, 'GET', '/clustershazbot/state', undefined, 'default', `http://127.0.0.1:${a.port}/`)).expect(200);
    expect(live.body[bUrl]).toBeUndefined();
    const all = await request(a.app.getHttpServer()).get('/clustershazbot/state?include=all').set(auth(SECRET, 'GET', '/clustershazbot/state', undefined, 'default', `http://127.0.0.1:${a.port}/`)).expect(200);
    expect(all.body[bUrl]).toEqual({ load: 0.5 });
    await request(a.app.getHttpServer()).get('/clustershazbot/state?include=some').set(auth(SECRET, 'GET', '/clustershazbot/state', undefined, 'default', `http://127.0.0.1:${a.port}/`)).expect(400);
  });

  it('5. two processes with one base URL: on both a warning naming the URL, the problem in status and problems$, health degraded; the one that yields is not ready (503); it clears when the URL reaches it again', async () => {
    const proxy = await reverseProxy();
    const shared = `http://127.0.0.1:${proxy.port}/`;
    const events: [string, ClusterProblemEvent][] = [];
    // the first process: the shared URL leads to it
    const first = await start({ baseUrl: shared, gossipIntervalSeconds: 0.3 });
    proxy.target = first.port;
    first.cluster.problems$.subscribe((e) => events.push(['first', e]));
    // the second process, a copy of the first's configuration; its clock can be moved forward
    let warp = 0;
    const second = await start({ baseUrl: shared, gossipIntervalSeconds: 0.3 }, undefined, undefined, () => Date.now() + warp);
    second.cluster.problems$.subscribe((e) => events.push(['second', e]));
    try {
      // its self-check (2 s after start) reaches the first process through the shared URL: it yields, the first keeps the URL
      const yielded = await until('the conflict on the second', () => hasProblem(second.cluster, 'address-conflict'), (p) => p !== undefined, 10_000);
      const kept = await until('the conflict on the first', () => hasProblem(first.cluster, 'address-conflict'), (p) => p !== undefined, 5_000);
      expect(yielded!).toMatchObject({ setting: 'SHAZBOT_BASE_URL', message: expect.stringMatching(new RegExp(`^address conflict: another process \\(generation \\d+\\) also claims ${shared}; this process gave the URL up .*Give every server its own SHAZBOT_BASE_URL`)) });
      expect(kept!).toMatchObject({ setting: 'SHAZBOT_BASE_URL', message: expect.stringMatching(new RegExp(`^address conflict: another process \\(generation \\d+\\) also claims ${shared}; this process keeps the URL`)) });
      const warned = lines.filter((l) => l.startsWith('warn:') && l.includes(`also claims ${shared}`));
      expect(warned.some((l) => l.includes('this process gives it up'))).toBe(true); // the second's engine
      expect(warned.some((l) => l.includes('the URL reaches this process, which keeps it'))).toBe(true); // the first's engine
      expect(events.filter(([, e]) => e.type === 'raised' && e.problem.code === 'address-conflict').map(([who]) => who).sort()).toEqual(['first', 'second']);
      for (const { app } of [first, second]) {
        const health = await request(app.getHttpServer()).get('/health').expect(200);
        expect(health.body.info.cluster).toMatchObject({ status: 'degraded', problems: ['address-conflict'], message: expect.stringContaining(`also claims ${shared}`) });
      }
      const notReady = await request(second.app.getHttpServer()).get('/health/ready').expect(503);
      expect(notReady.body.error.cluster).toMatchObject({ status: 'down', ready: false, message: expect.stringContaining(`also claims ${shared}; this process gave the URL up`) });
      await request(first.app.getHttpServer()).get('/health/ready').expect(200);

      // the first process goes away and the URL now leads to the second: at its next look (every
      // 30 s while yielded, here brought forward by its clock) it takes the URL back
      await first.app.close();
      proxy.target = second.port;
      warp = 31_000;
      await until('the conflict cleared on the second', () => hasProblem(second.cluster, 'address-conflict'), (p) => p === undefined, 5_000);
      expect(lines.some((l) => l.startsWith('warn:') && l.includes(`address conflict over: ${shared} reaches this process again; this process takes ${shared} back`))).toBe(true);
      expect(lines).toContain("log: resolved: address-conflict (no other process claims this server's URL now)");
      expect(events.some(([who, e]) => who === 'second' && e.type === 'cleared' && e.problem.code === 'address-conflict')).toBe(true);
      await request(second.app.getHttpServer()).get('/health/ready').expect(200);
      expect((await request(second.app.getHttpServer()).get('/health').expect(200)).body.info.cluster.status).toBe('up');
    } finally {
      await proxy.close();
    }
  });

  it('6. readiness: a server taken offline by control is not ready (503) while alive (200); back online, ready again', async () => {
    const { app, cluster } = await start({});
    await request(app.getHttpServer()).get('/health/ready').expect(200);
    cluster.setOnline(false);
    const drained = await request(app.getHttpServer()).get('/health/ready').expect(503);
    expect(drained.body.error.cluster.message).toMatch(/offline by control \(drained\)/);
    expect((await request(app.getHttpServer()).get('/health').expect(200)).body.info.cluster.status).not.toBe('down');
    cluster.setOnline(true);
    await request(app.getHttpServer()).get('/health/ready').expect(200);
  });
});
