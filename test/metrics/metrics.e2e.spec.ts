/**
 * Metrics in real Nest apps with Terminus: what a scrape shows after real requests, probes
 * between two listening servers, a registry shared by two modules, and no option at all.
 */
import 'reflect-metadata';
import { Controller, Get, Header, Logger, Module, type INestApplication } from '@nestjs/common';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { jest } from '@jest/globals';
import { Registry, register as globalRegistry } from 'prom-client';
import request from 'supertest';
import { ClusterService, ClustershazbotModule, shazbotListRequest, shazbotShutDown, shazbotStart, type ClustershazbotOptions } from '../../lib/index.js';
import { ClusterMetrics } from '../../lib/metrics/cluster-metrics.js';
import { freePort } from '../../sample/local-cluster.js';
import { auth, signedPost } from '../support/signed.js';
import { baseOptions, createApp, entry, PLATFORMS, SECRET } from '../e2e/app-fixture.js';
import { TempMasterLists } from '../support/temp-master-list.js';

const lists = new TempMasterLists();
afterAll(() => lists.remove());
/** The e2e fixture's options, with a list file this test file removes. */
const options = (overrides: ClustershazbotOptions = {}): ClustershazbotOptions => baseOptions({ masterListUrl: lists.url(), ...overrides });

const VERSION = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version as string;

/** One sample of a scrape: the value of `name` with exactly these labels (0 when absent). */
async function sample(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const wanted = JSON.stringify(Object.entries(labels).sort());
  const value = metric?.values.find((v) => JSON.stringify(Object.entries(v.labels).map(([k, x]) => [k, String(x)]).sort()) === wanted && !('metricName' in v && v.metricName !== name));
  return value?.value ?? 0;
}

/** A histogram's `_count`. */
async function histogramCount(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const wanted = JSON.stringify(Object.entries(labels).sort());
  return metric?.values.find((v) => (v as { metricName?: string }).metricName === `${name}_count` && JSON.stringify(Object.entries(v.labels).map(([k, x]) => [k, String(x)]).sort()) === wanted)?.value ?? 0;
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.each(PLATFORMS)('metrics on %s', (platform) => {
  let app: INestApplication;
  let registry: Registry;
  const http = () => request(app.getHttpServer());

  beforeEach(async () => {
    registry = new Registry();
    // no failure detector: no probe (and no self-check of its own address) adds to what this server sends
    app = await createApp(platform, ClustershazbotModule.forRoot(options({ metrics: registry, failureDetection: 'off' })));
  });
  afterEach(async () => {
    await app.close();
  });

  it('counts accepted requests by type and bytes, refused ones by reason', async () => {
    // the first gossip round comes within a second of start, then every hour: let it pass with no
    // peer known, so that the one reply below is all this server sends
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const gossip = { message: 'gossip', online: [entry('http://127.0.0.2:1/')], offline: [] };
    const accepted = await signedPost(http(), '/clustershazbot/gossip', SECRET, gossip).expect(200);
    await http().post('/clustershazbot/gossip').send(gossip).expect(401);
    await http().post('/clustershazbot/gossip').set(auth(SECRET, 'POST', '/clustershazbot/gossip', gossip, 'another-cluster')).send(gossip).expect(403);
    await signedPost(http(), '/clustershazbot/gossip', SECRET, { message: 'gossip' }).expect(400);
    await http().get('/clustershazbot/list').expect(401);

    expect(await sample(registry, 'clustershazbot_messages_total', { direction: 'in', type: 'gossip' })).toBe(1);
    expect(await sample(registry, 'clustershazbot_messages_total', { direction: 'in', type: 'list' })).toBe(0);
    expect(await sample(registry, 'clustershazbot_requests_refused_total', { reason: 'unauthorized' })).toBe(2);
    expect(await sample(registry, 'clustershazbot_requests_refused_total', { reason: 'wrong_cluster' })).toBe(1);
    expect(await sample(registry, 'clustershazbot_requests_refused_total', { reason: 'invalid' })).toBe(1);
    // bytes of the accepted request as received, and of its reply as sent
    expect(await sample(registry, 'clustershazbot_message_bytes_total', { direction: 'in' })).toBe(JSON.stringify(gossip).length);
    expect(await sample(registry, 'clustershazbot_message_bytes_total', { direction: 'out' })).toBe(Number(accepted.headers['content-length']));
  });

  it('shows the view: members by state, the checksum ClusterService gives, transitions, build info', async () => {
    const cluster = app.get(ClusterService);
    const now = Date.now();
    const gossip = { message: 'gossip', online: [entry('http://127.0.0.2:1/', now - 5), entry('http://127.0.0.3:1/', now - 5)], offline: [entry('http://127.0.0.4:1/', now - 5)] };
    await signedPost(http(), '/clustershazbot/gossip', SECRET, gossip).expect(200);
    const view = cluster.view();
    expect(view.online).toHaveLength(3);
    expect(await sample(registry, 'clustershazbot_members', { state: 'alive' })).toBe(view.online.length);
    expect(await sample(registry, 'clustershazbot_members', { state: 'suspect' })).toBe(view.suspect.length);
    expect(await sample(registry, 'clustershazbot_members', { state: 'offline' })).toBe(view.offline.length);
    expect(await sample(registry, 'clustershazbot_view_checksum')).toBe(cluster.viewChecksum());
    expect(Number.isSafeInteger(cluster.viewChecksum())).toBe(true);
    expect(await sample(registry, 'clustershazbot_member_transitions_total', { to: 'joined' })).toBe(3);
    expect(await sample(registry, 'clustershazbot_build_info', { version: VERSION })).toBe(1);
    expect(await sample(registry, 'clustershazbot_health_score')).toBe(cluster.status().stats.localHealth);
    expect(await sample(registry, 'clustershazbot_broadcast_queue_depth')).toBe(cluster.status().stats.broadcastQueueDepth);
    // the checksum moves with the view
    const before = cluster.viewChecksum();
    await signedPost(http(), '/clustershazbot/gossip', SECRET, { message: 'gossip', online: [entry('http://127.0.0.5:1/')], offline: [] }).expect(200);
    expect(await sample(registry, 'clustershazbot_view_checksum')).not.toBe(before);
    // the exposition text is Prometheus' format, every metric documented by HELP and TYPE
    const text = await registry.metrics();
    for (const name of ['members', 'member_transitions_total', 'probes_total', 'messages_total', 'message_bytes_total', 'requests_refused_total', 'health_score', 'broadcast_queue_depth', 'view_checksum', 'probe_duration_seconds', 'sync_duration_seconds', 'build_info']) {
      expect(text).toContain(`# HELP clustershazbot_${name} `);
      expect(text).toMatch(new RegExp(`# TYPE clustershazbot_${name} (gauge|counter|histogram)`));
    }
    expect(text).not.toContain('process_cpu'); // default metrics are never registered
  });
});

describe('metrics between two listening servers', () => {
  const apps: INestApplication[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.close().catch(() => undefined)));
  });

  async function server(port: number, peerPort: number, registry: Registry): Promise<INestApplication> {
    const serverOptions: ClustershazbotOptions = options({
      baseUrl: `http://127.0.0.1:${port}/`,
      masterListUrl: lists.url([`http://127.0.0.1:${peerPort}/`]),
      gossipIntervalSeconds: 0.2,
      failureDetection: 'local',
      probeIntervalSeconds: 0.2,
      probeTimeoutSeconds: 0.1,
      metrics: registry,
    });
    const app = await createApp('express', ClustershazbotModule.forRoot(serverOptions));
    await app.listen(port, '127.0.0.1');
    apps.push(app);
    return app;
  }

  it('a probe moves probes_total and the probe histogram; syncs the sync histogram; agreeing views show one checksum; a dead port shows as refused', async () => {
    const [pa, pb] = [await freePort(), await freePort()];
    const [ra, rb] = [new Registry(), new Registry()];
    const a = await server(pa, pb, ra);
    const b = await server(pb, pa, rb);
    await waitUntil('a direct probe acknowledged', async () => (await sample(ra, 'clustershazbot_probes_total', { kind: 'direct', result: 'ack' })) > 0);
    expect(await histogramCount(ra, 'clustershazbot_probe_duration_seconds', { kind: 'direct' })).toBeGreaterThan(0);
    await waitUntil('b answered probes and a sent syncs', async () => (await sample(rb, 'clustershazbot_messages_total', { direction: 'in', type: 'probe' })) > 0 && (await histogramCount(ra, 'clustershazbot_sync_duration_seconds')) > 0);
    expect(await sample(ra, 'clustershazbot_messages_total', { direction: 'out', type: 'sync' })).toBe(await histogramCount(ra, 'clustershazbot_sync_duration_seconds'));
    expect(await sample(ra, 'clustershazbot_message_bytes_total', { direction: 'out' })).toBeGreaterThan(0);
    await waitUntil('both views agree', async () => a.get(ClusterService).viewChecksum() === b.get(ClusterService).viewChecksum() && a.get(ClusterService).view().online.length === 2);
    const [ca, cb] = [await sample(ra, 'clustershazbot_view_checksum'), await sample(rb, 'clustershazbot_view_checksum')];
    expect(ca).toBe(cb);
    expect(ca).toBe(a.get(ClusterService).viewChecksum());
    expect(await sample(ra, 'clustershazbot_members', { state: 'alive' })).toBe(2);

    // b's port stops listening: a's probes are refused (b's own messages still refute any
    // suspicion); then b shuts down, tells a, and a counts the transition
    const httpServer = b.getHttpServer() as import('node:http').Server;
    httpServer.closeAllConnections();
    httpServer.close();
    await waitUntil('a refused probe', async () => (await sample(ra, 'clustershazbot_probes_total', { kind: 'direct', result: 'refused' })) > 0);
    await b.close().catch(() => undefined);
    await waitUntil('b offline on a', async () => (await sample(ra, 'clustershazbot_member_transitions_total', { to: 'offline' })) > 0);
    expect(await sample(ra, 'clustershazbot_members', { state: 'offline' })).toBe(a.get(ClusterService).view().offline.length);
  });
});

describe('a registry shared by two modules', () => {
  it('never throws on registration; counters add up; gauges follow the module registered last, then the one left', async () => {
    const registry = new Registry();
    const first = await createApp('express', ClustershazbotModule.forRoot(options({ metrics: registry, baseUrl: 'http://127.0.0.1:9/' })));
    const second = await createApp('express', ClustershazbotModule.forRoot(options({ metrics: registry, baseUrl: 'http://127.0.0.1:10/' })));
    try {
      await request(first.getHttpServer()).get('/clustershazbot/list').expect(401);
      await request(second.getHttpServer()).get('/clustershazbot/list').expect(401);
      expect(await sample(registry, 'clustershazbot_requests_refused_total', { reason: 'unauthorized' })).toBe(2);
      await signedPost(request(second.getHttpServer()), '/clustershazbot/gossip', SECRET, { message: 'gossip', online: [entry('http://127.0.0.2:1/')], offline: [] }, undefined, 'http://127.0.0.1:10/').expect(200);
      expect(await sample(registry, 'clustershazbot_members', { state: 'alive' })).toBe(2);
      expect(await sample(registry, 'clustershazbot_view_checksum')).toBe(second.get(ClusterService).viewChecksum());
      await second.close();
      expect(await sample(registry, 'clustershazbot_members', { state: 'alive' })).toBe(1);
      expect(await sample(registry, 'clustershazbot_view_checksum')).toBe(first.get(ClusterService).viewChecksum());
    } finally {
      await first.close();
      await second.close().catch(() => undefined);
    }
    // a module started again on the same registry (a hot reload) registers nothing new
    const again = await createApp('express', ClustershazbotModule.forRoot(options({ metrics: registry })));
    expect((await registry.getMetricsAsJSON()).filter((m) => m.name === 'clustershazbot_members')).toHaveLength(1);
    await again.close();
  });

  it('refuses, with a clear error, a registry that holds one of its names with other labels', async () => {
    const registry = new Registry();
    registry.registerMetric(new (await import('prom-client')).Gauge({ name: 'clustershazbot_members', help: 'someone else', labelNames: ['kind'], registers: [] }));
    await expect(createApp('express', ClustershazbotModule.forRoot(options({ metrics: registry })))).rejects.toThrow(
      'clustershazbot: the metrics registry already holds clustershazbot_members with other labels (kind); use another registry',
    );
  });
});

describe('hosts exposing the metrics', () => {
  afterEach(() => {
    for (const m of globalRegistry.getMetricsAsArray()) if (m.name.startsWith('clustershazbot_')) globalRegistry.removeSingleMetric(m.name);
  });

  it('through its own /metrics route', async () => {
    const registry = new Registry();
    @Controller()
    class MetricsController {
      @Get('metrics')
      @Header('content-type', registry.contentType)
      metrics(): Promise<string> {
        return registry.metrics();
      }
    }
    @Module({ controllers: [MetricsController] })
    class MetricsModule {}
    const app = await createApp('express', ClustershazbotModule.forRoot(options({ metrics: registry })), [MetricsModule as never]);
    try {
      const res = await request(app.getHttpServer()).get('/metrics').expect(200);
      expect(res.headers['content-type']).toContain('text/plain; version=0.0.4');
      expect(res.text).toMatch(/^clustershazbot_members\{state="alive"\} 1$/m);
    } finally {
      await app.close();
    }
  });

  it('through @willsoto/nestjs-prometheus with the global registry (metrics: true), in plain Node', async () => {
    const script = fileURLToPath(new URL('./fixtures/willsoto-host.mjs', import.meta.url));
    const dist = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
    const out = JSON.parse(execFileSync(process.execPath, [script, dist, String(await freePort())], { encoding: 'utf8', timeout: 30_000 }).trim().split('\n').pop()!);
    expect(out.status).toBe(200);
    expect(out.contentType).toContain('text/plain; version=0.0.4');
    expect(out.lines).toContain('clustershazbot_members{state="alive"} 1');
    expect(out.lines).toContain(`clustershazbot_build_info{version="${VERSION}"} 1`);
    expect(out.lines).toContain('clustershazbot_requests_refused_total{reason="unauthorized"} 0');
  });

  it('from SHAZBOT_METRICS=true, on the global registry, twice without "already registered"', async () => {
    process.env.SHAZBOT_METRICS = 'true';
    try {
      for (let i = 0; i < 2; i++) {
        const app = await createApp('express', ClustershazbotModule.forRoot({ ...options(), useEnvironment: true }));
        expect(await sample(globalRegistry, 'clustershazbot_members', { state: 'alive' })).toBe(1);
        await app.close();
      }
    } finally {
      delete process.env.SHAZBOT_METRICS;
    }
  });
});

describe('metrics through the plain-function API', () => {
  afterEach(() => shazbotShutDown());

  it('counts the requests the functions handle, accepted and refused', async () => {
    const registry = new Registry();
    await shazbotStart(options({ metrics: registry }), []);
    await expect(shazbotListRequest('Bearer nope', '127.0.0.1')).rejects.toMatchObject({ status: 401 });
    await shazbotListRequest(auth(SECRET, 'GET', '/clustershazbot/list').authorization, '127.0.0.1');
    expect(await sample(registry, 'clustershazbot_requests_refused_total', { reason: 'unauthorized' })).toBe(1);
    expect(await sample(registry, 'clustershazbot_messages_total', { direction: 'in', type: 'list' })).toBe(1);
    expect(await sample(registry, 'clustershazbot_members', { state: 'alive' })).toBe(1);
  });
});

describe('docs/metrics.md', () => {
  it('documents every metric the module registers, in its table, and no other', async () => {
    const registry = new Registry();
    await ClusterMetrics.create(registry, { discovery: true });
    const registered = registry.getMetricsAsArray().map((m) => m.name).sort();
    const doc = readFileSync(new URL('../../docs/metrics.md', import.meta.url), 'utf8');
    const documented = [...doc.matchAll(/^\| `(clustershazbot_[a-z_]+)` \|/gm)].map((m) => m[1]).sort();
    expect(documented).toEqual(registered);
  });
});

describe('without metrics', () => {
  it('registers nothing, and the module works as before', async () => {
    const app = await createApp('express', ClustershazbotModule.forRoot(options()));
    try {
      await signedPost(request(app.getHttpServer()), '/clustershazbot/gossip', SECRET, { message: 'gossip', online: [], offline: [] }).expect(200);
      expect(globalRegistry.getMetricsAsArray().filter((m) => m.name.startsWith('clustershazbot_'))).toEqual([]);
    } finally {
      await app.close();
    }
  });

  it('says so in one log line when the option is set but prom-client cannot be loaded, and records nothing', async () => {
    const warnings: string[] = [];
    const spy = jest.spyOn(Logger.prototype, 'warn').mockImplementation((message: unknown) => void warnings.push(String(message)));
    try {
      const metrics = await ClusterMetrics.create(true, { discovery: false }, () => import('prom-client-is-not-installed' as string));
      expect(metrics.enabled).toBe(false);
      metrics.sent('probe', 10, 10, 0.001, 'ok', { indirect: false });
      expect(warnings).toEqual(['metrics are enabled (option "metrics" or SHAZBOT_METRICS) but prom-client is not installed: run `npm install prom-client`; continuing without metrics']);
    } finally {
      spy.mockRestore();
    }
  });
});
