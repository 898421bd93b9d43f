import type { INestApplication } from '@nestjs/common';
import { ConfigModule, ConfigService, registerAs } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import { createServer, type Server } from 'node:http';
import request from 'supertest';
import { ClusterService, ClustershazbotModule, resolveClusterConfig, type ClustershazbotOptions } from '../../lib/index.js';
import { signedGet, signedPost } from '../support/signed.js';
import { baseOptions, createApp, masterListFile, PLATFORMS, SECRET } from './app-fixture.js';

const env = (vars: Record<string, string>) => (name: string) => vars[name];
const REQUIRED = {
  SHAZBOT_SECRET: 's1,s2',
  SHAZBOT_CONTROL_SECRET: 'c1',
  SHAZBOT_BASE_URL: 'http://127.0.0.1:3000',
  SHAZBOT_MASTER_LIST: 'https://lists.example/master.json?token=abc',
};

describe('configuration from SHAZBOT_* variables', () => {
  it('applies the documented defaults', () => {
    const config = resolveClusterConfig({}, env(REQUIRED), 'clustershazbot');
    expect(config).toMatchObject({
      secrets: ['s1', 's2'],
      controlSecrets: ['c1'],
      baseUrl: 'http://127.0.0.1:3000/',
      gossipIntervalMs: 30_000,
      announceMinimumMs: 300_000,
      announceIntervalMs: 600_000,
      monitor: false,
      updateMasterListOnShutdown: false,
      requestTimeoutMs: 5000,
      maxClockSkewMs: 600_000,
      retentionMs: 86_400_000,
      masterListUpdateUrl: undefined,
    });
  });

  it('reads fractional seconds and booleans', () => {
    const config = resolveClusterConfig(
      {},
      env({ ...REQUIRED, SHAZBOT_GOSSIP_INTERVAL: '0.25', SHAZBOT_MONITOR: 'TRUE', SHAZBOT_UPDATE_MASTER_LIST_ON_SHUTDOWN: '1' }),
      'p',
    );
    expect(config).toMatchObject({ gossipIntervalMs: 250, monitor: true, updateMasterListOnShutdown: true });
  });

  it('reads the detector switches: refusals, pushes, and the off profile', () => {
    const lan = resolveClusterConfig({}, env(REQUIRED), 'p').detector;
    expect(lan).toMatchObject({ fastFailOnRefusal: true, pushIntervalMs: 200, pushFanout: 3 });
    const tuned = resolveClusterConfig({ pushIntervalSeconds: 0.5, pushFanout: 0 }, env({ ...REQUIRED, SHAZBOT_FAST_FAIL_ON_REFUSAL: 'no' }), 'p').detector;
    expect(tuned).toMatchObject({ fastFailOnRefusal: false, pushIntervalMs: 500, pushFanout: 0 });
    expect(resolveClusterConfig({}, env({ ...REQUIRED, SHAZBOT_FAILURE_DETECTION: 'off' }), 'p').detector).toMatchObject({ probeIntervalMs: 0, pushIntervalMs: 0 });
    expect(() => resolveClusterConfig({ pushFanout: 1.5 }, env(REQUIRED), 'p')).toThrow('pushFanout must be a whole number from 0 to 16');
  });

  it('lets options override variables', () => {
    expect(resolveClusterConfig({ gossipIntervalSeconds: 2 }, env({ ...REQUIRED, SHAZBOT_GOSSIP_INTERVAL: '9' }), 'p').gossipIntervalMs).toBe(2000);
  });

  it.each([
    ['SHAZBOT_SECRET', { SHAZBOT_SECRET: '' }, 'SHAZBOT_SECRET is not set'],
    ['SHAZBOT_CONTROL_SECRET', { SHAZBOT_CONTROL_SECRET: undefined }, 'SHAZBOT_CONTROL_SECRET is not set'],
    ['SHAZBOT_BASE_URL', { SHAZBOT_BASE_URL: undefined }, 'SHAZBOT_BASE_URL is not set'],
    ['SHAZBOT_MASTER_LIST', { SHAZBOT_MASTER_LIST: undefined }, 'SHAZBOT_MASTER_LIST is not set'],
    ['a malformed base URL', { SHAZBOT_BASE_URL: 'ftp://x' }, 'SHAZBOT_BASE_URL is not a usable base URL: invalid base URL: only http and https are allowed'],
    ['a malformed interval', { SHAZBOT_GOSSIP_INTERVAL: 'soon' }, 'SHAZBOT_GOSSIP_INTERVAL must be a number of at least 0.01, got "soon"'],
    ['a zero interval', { SHAZBOT_GOSSIP_INTERVAL: '0' }, 'SHAZBOT_GOSSIP_INTERVAL must be a number'],
    ['a malformed boolean', { SHAZBOT_MONITOR: 'maybe' }, 'SHAZBOT_MONITOR must be one of true/false, 1/0, yes/no, on/off (any case), got "maybe"'],
    ['an empty rotated secret', { SHAZBOT_SECRET: 's1,' }, 'SHAZBOT_SECRET holds an empty secret'],
    ['equal secrets', { SHAZBOT_CONTROL_SECRET: 's2' }, 'SHAZBOT_CONTROL_SECRET must differ from every SHAZBOT_SECRET'],
    // rotation lists: one shared secret anywhere in either list is enough to refuse
    ['a control list whose second secret is a gossip secret', { SHAZBOT_CONTROL_SECRET: 'c1,s1' }, 'SHAZBOT_CONTROL_SECRET must differ from every SHAZBOT_SECRET'],
    ['a control list whose first secret is the second gossip secret', { SHAZBOT_CONTROL_SECRET: 's2,c1' }, 'SHAZBOT_CONTROL_SECRET must differ from every SHAZBOT_SECRET'],
    ['a control list sharing one secret, padded with spaces', { SHAZBOT_CONTROL_SECRET: 'c1, s2 ,c3' }, 'SHAZBOT_CONTROL_SECRET must differ from every SHAZBOT_SECRET'],
    ['a master list on ftp', { SHAZBOT_MASTER_LIST: 'ftp://x/list' }, 'SHAZBOT_MASTER_LIST must be an http://, https:// or file:// URL'],
    ['an http upload without auth', { SHAZBOT_MASTER_LIST_UPDATE: 'https://x/up' }, 'SHAZBOT_MASTER_LIST_UPDATE_AUTH is not set'],
  ])('stops with one clear message for %s', (_what, change, message) => {
    const vars = { ...REQUIRED, ...change } as Record<string, string>;
    expect(() => resolveClusterConfig({}, env(vars), 'p')).toThrow(message);
    try {
      resolveClusterConfig({}, env(vars), 'p');
    } catch (error) {
      for (const secret of ['s1', 's2', 'c1', 'token=abc']) expect((error as Error).message).not.toContain(secret);
    }
  });

  it('a module whose control secrets share one with its gossip secrets (option lists) is refused at start, naming neither', async () => {
    const options = { secret: ['gossip-old', 'shared-one'], controlSecret: ['control-new', 'shared-one'], baseUrl: 'http://127.0.0.1:3000', masterListUrl: masterListFile(), useEnvironment: false };
    const failed = await Test.createTestingModule({ imports: [ClustershazbotModule.forRoot(options)] })
      .setLogger(false as never)
      .compile()
      .then(
        () => undefined,
        (error: unknown) => error as Error,
      );
    expect(failed?.message).toContain('must differ from every');
    for (const secret of ['gossip-old', 'shared-one', 'control-new']) expect(failed?.message).not.toContain(secret);
    // the same lists without the shared secret start
    const ok = await Test.createTestingModule({ imports: [ClustershazbotModule.forRoot({ ...options, controlSecret: ['control-new'] })] })
      .setLogger(false as never)
      .compile();
    await ok.close();
  });

  it('forRoot() with no options reads process.env through ConfigService, and start-up fails clearly without it', async () => {
    const saved = { ...process.env };
    try {
      Object.assign(process.env, { ...REQUIRED, SHAZBOT_MASTER_LIST: masterListFile(), SHAZBOT_GOSSIP_INTERVAL: '3600' });
      const ok = await Test.createTestingModule({ imports: [ClustershazbotModule.forRoot()] }).setLogger(false as never).compile();
      const app = ok.createNestApplication({ logger: false });
      await app.init();
      expect(app.get(ClusterService).self()).toMatchObject({ baseUrl: 'http://127.0.0.1:3000/', online: true });
      await app.close();
      delete process.env.SHAZBOT_BASE_URL;
      await expect(Test.createTestingModule({ imports: [ClustershazbotModule.forRoot()] }).compile()).rejects.toThrow(
        'clustershazbot: SHAZBOT_BASE_URL is not set (set the environment variable or pass the option "baseUrl")',
      );
    } finally {
      process.env = saved;
    }
  });
});

it('a Nest app started with several variables missing or malformed fails with one error naming each, and no secret', async () => {
  const saved = { ...process.env };
  try {
    for (const name of Object.keys(process.env)) if (name.startsWith('SHAZBOT_')) delete process.env[name];
    Object.assign(process.env, { SHAZBOT_SECRET: 'gossip-secret-value', SHAZBOT_BASE_URL: '10.0.0.5:3000', SHAZBOT_PROBE_INTERVAL: 'fast' });
    const failed = await Test.createTestingModule({ imports: [ClustershazbotModule.forRoot()] })
      .setLogger(false as never)
      .compile()
      .then(
        () => undefined,
        (error: unknown) => error as Error,
      );
    expect(failed?.name).toBe('ClustershazbotConfigError');
    const lines = failed!.message.split('\n');
    expect(lines[0]).toBe('clustershazbot: 4 configuration problems, fix them all:');
    expect(lines.slice(1)).toEqual([
      expect.stringMatching(/^ {2}- SHAZBOT_CONTROL_SECRET is not set .*"controlSecret"/),
      expect.stringMatching(/^ {2}- SHAZBOT_BASE_URL is not a usable base URL: .*not an absolute URL.*e\.g\. http:\/\/10\.0\.0\.5:3000\/ \(option baseUrl\)$/),
      expect.stringMatching(/^ {2}- SHAZBOT_MASTER_LIST is not set .*"masterListUrl"/),
      expect.stringMatching(/^ {2}- SHAZBOT_PROBE_INTERVAL must be a number .*got "fast" \(option probeIntervalSeconds\)$/),
    ]);
    expect(failed!.message).not.toContain('gossip-secret-value');
  } finally {
    process.env = saved;
  }
});

describe.each(PLATFORMS)('module configuration and health on %s', (platform) => {
  let app: INestApplication | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('forRootAsync with ConfigService and a registerAs() factory', async () => {
    const clusterConfig = registerAs('cluster', (): ClustershazbotOptions => baseOptions({ baseUrl: 'http://[::1]:7000', monitor: true }));
    app = await createApp(
      platform,
      ClustershazbotModule.forRootAsync({
        imports: [ConfigModule.forFeature(clusterConfig)],
        inject: [ConfigService],
        useFactory: (config: ConfigService) => config.get<ClustershazbotOptions>('cluster')!,
        routePrefix: 'internal/cluster',
      }),
      [ConfigModule.forRoot({ ignoreEnvFile: true })],
    );
    const res = await signedGet(request(app.getHttpServer()), '/internal/cluster/list', SECRET, undefined, 'http://[::1]:7000/').expect(200);
    expect(res.body.online).toEqual([expect.objectContaining({ baseUrl: 'http://[::1]:7000/', monitor: true })]);
    await signedGet(request(app.getHttpServer()), '/clustershazbot/list', SECRET).expect(404);
  });

  it('health is degraded (still 200) while the master list file is missing', async () => {
    app = await createApp(platform, ClustershazbotModule.forRoot(baseOptions({ masterListUrl: 'file:///nonexistent/clustershazbot/master.json' })));
    const res = await request(app.getHttpServer()).get('/health').expect(200);
    expect(res.body.status).toBe('degraded');
    expect(res.body.info.cluster).toMatchObject({ status: 'degraded', message: expect.stringContaining('master list unavailable: ENOENT') });
  });

  it('health is degraded while the master-list server is down or answers garbage, and up once it answers', async () => {
    let mode: 'down' | 'garbage' | 'ok' = 'garbage';
    const server: Server = createServer((_req, res) => {
      if (mode === 'garbage') res.end('<html>not a list</html>');
      else res.setHeader('content-type', 'application/json').end(JSON.stringify({ online: [{ baseUrl: 'http://127.0.0.12/', monitor: false, lastUpdate: 0 }] }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    try {
      app = await createApp(platform, ClustershazbotModule.forRoot(baseOptions({ masterListUrl: `http://127.0.0.1:${port}/list`, gossipIntervalSeconds: 0.05 })));
      let health = await request(app.getHttpServer()).get('/health').expect(200);
      expect(health.body.info.cluster).toMatchObject({ status: 'degraded', message: expect.stringMatching(/^master list invalid: /) });
      mode = 'ok';
      // the retry (backoff from 50 ms) picks the list up without a restart
      for (let i = 0; i < 100 && health.body.status !== 'ok'; i++) {
        await new Promise((r) => setTimeout(r, 50));
        health = await request(app.getHttpServer()).get('/health');
      }
      expect(health.body.info.cluster.status).toBe('up');
    } finally {
      server.close();
    }
    mode = 'down';
  });

  it('health is down (503) once the engine has left the cluster', async () => {
    app = await createApp(platform, ClustershazbotModule.forRoot(baseOptions()));
    const { GossipService } = await import('../../lib/gossip.service.js');
    await app.get(GossipService, { strict: false }).shutdown();
    const res = await request(app.getHttpServer()).get('/health').expect(503);
    expect(res.body).toMatchObject({ status: 'error', error: { cluster: { status: 'down', message: 'clustershazbot is stopped' } } });
    expect(app.get(ClusterService).healthExtension()).toEqual({ status: 'error', error: 'clustershazbot is stopped' });
  });

  it('reports membership changes on changes$', async () => {
    app = await createApp(platform, ClustershazbotModule.forRoot(baseOptions()));
    const seen: string[] = [];
    const sub = app.get(ClusterService).changes$.subscribe((c) => seen.push(`${c.type} ${c.server.baseUrl}`));
    const now = Date.now();
    const send = (online: object[], offline: object[]) =>
      signedPost(request(app!.getHttpServer()), '/clustershazbot/gossip', SECRET, { message: 'gossip', online, offline }).expect(200);
    await send([{ baseUrl: 'http://127.0.0.11:1/', monitor: false, lastUpdate: now }], []);
    await send([], [{ baseUrl: 'http://127.0.0.11:1/', monitor: false, lastUpdate: now + 1 }]);
    await send([{ baseUrl: 'http://127.0.0.11:1/', monitor: false, lastUpdate: now + 2 }], []);
    app.get(ClusterService).setOnline(false);
    sub.unsubscribe();
    expect(seen).toEqual(['joined http://127.0.0.11:1/', 'offline http://127.0.0.11:1/', 'online http://127.0.0.11:1/', 'offline http://127.0.0.1:9/']);
    const events: string[] = [];
    const off = app.get(ClusterService).on('peer_failed', (server, reason) => events.push(`${server.baseUrl} ${reason}`));
    await send([], [{ baseUrl: 'http://127.0.0.11:1/', monitor: false, lastUpdate: now + 3, by: 'http://127.0.0.12:1/' }]);
    off();
    expect(events).toEqual(['http://127.0.0.11:1/ failed: declared by http://127.0.0.12:1/']);
  });
});

describe('address guard against a real server', () => {
  it('never contacts a peer outside the allow-list or on a metadata address; contacts the allowed one', async () => {
    const connections = { refused: 0, allowed: 0 };
    const listen = (host: string, count: () => void) =>
      new Promise<Server>((resolve) => {
        const s = createServer((_req, res) => res.end());
        s.on('connection', count);
        s.listen(0, host, () => resolve(s));
      });
    const sentinel = await listen('127.0.0.2', () => connections.refused++);
    const allowed = await listen('127.0.0.1', () => connections.allowed++);
    const port = (s: Server) => (s.address() as { port: number }).port;
    const app = await createApp(
      'express',
      ClustershazbotModule.forRoot(baseOptions({ allowedPeers: ['127.0.0.1/32'], failureDetection: 'local', probeIntervalSeconds: 0.1, probeTimeoutSeconds: 0.05 })),
    );
    try {
      const now = Date.now();
      const peers = [`http://127.0.0.2:${port(sentinel)}/`, 'http://169.254.169.254/', `http://127.0.0.1:${port(allowed)}/`];
      await signedPost(request(app.getHttpServer()), '/clustershazbot/gossip', SECRET, { message: 'gossip', online: peers.map((baseUrl) => ({ baseUrl, monitor: false, lastUpdate: now })) }).expect(200);
      const list = (await signedGet(request(app.getHttpServer()), '/clustershazbot/list', SECRET)).body;
      const known = [...list.online, ...list.offline, ...(list.suspect ?? [])].map((e: { baseUrl: string }) => e.baseUrl);
      expect(known).toEqual(expect.arrayContaining([`http://127.0.0.1:${port(allowed)}/`]));
      expect(known).not.toContain(peers[0]);
      expect(known).not.toContain(peers[1]);
      await new Promise((r) => setTimeout(r, 1500)); // ~15 probe intervals
      expect(connections.allowed).toBeGreaterThan(0);
      expect(connections.refused).toBe(0);
    } finally {
      await app.close();
      sentinel.close();
      allowed.close();
    }
  });

  it('stops start-up with a clear message for a malformed allow-list', () => {
    expect(() => resolveClusterConfig({ allowedPeers: ['10.0.0.0/99'] }, env(REQUIRED), 'p')).toThrow('SHAZBOT_ALLOWED_PEERS: allowed peer "10.0.0.0/99" has an invalid prefix length');
  });
});
