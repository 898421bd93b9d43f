/**
 * DNS discovery inside a real Nest app with Terminus, against a DNS server on loopback:
 * the resolver's answers, failures (NXDOMAIN, no answer, records gone) that degrade health and
 * log at a bounded rate without ever failing the app, re-resolution at min(refresh, TTL), and
 * the timer cleared on shutdown.
 */
import 'reflect-metadata';
import { jest } from '@jest/globals';
import { Logger, type INestApplication } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { Registry } from 'prom-client';
import request from 'supertest';
import { ClusterService, ClustershazbotModule, type ClustershazbotOptions } from '../../lib/index.js';
import { DnsResolutionError, DnsSeedResolver } from '../../lib/discovery/dns-seed.resolver.js';
import { LocalDns } from '../../sample/local-dns.js';
import { baseOptions, createApp, SECRET } from '../e2e/app-fixture.js';
import { signedGet } from '../support/signed.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('DnsSeedResolver against a DNS server on loopback', () => {
  let dns: LocalDns;
  let resolver: DnsSeedResolver;
  beforeAll(async () => {
    dns = await new LocalDns().start();
    resolver = new DnsSeedResolver({ servers: [dns.endpoint], timeoutMs: 600 });
  });
  afterAll(() => dns.stop());

  it('turns A and AAAA records into sorted seeds (IPv6 in brackets) with the smallest TTL', async () => {
    dns.set('seeds.test', { a: ['127.0.0.12', '127.0.0.11'], aaaa: ['::1'], ttl: 7 });
    expect(await resolver.resolve({ kind: 'a', name: 'seeds.test', port: 3000, scheme: 'http' })).toEqual({
      seeds: ['http://127.0.0.11:3000/', 'http://127.0.0.12:3000/', 'http://[::1]:3000/'],
      ttlSeconds: 7,
      skipped: [],
    });
    dns.set('v6only.test', { aaaa: ['::1'], ttl: 3 });
    expect((await resolver.resolve({ kind: 'a', name: 'v6only.test', port: 443, scheme: 'https' })).seeds).toEqual(['https://[::1]:443/']);
  });

  it('turns SRV records into seeds of each target\'s addresses and port, leaving out "." and targets without addresses', async () => {
    dns.set('_g._tcp.srv.test', { srv: [{ target: 'n1.srv.test', port: 4001 }, { target: 'n2.srv.test', port: 4002 }, { target: '.', port: 0 }, { target: 'lost.srv.test', port: 4003 }] });
    dns.set('n1.srv.test', { a: ['127.0.0.21'], ttl: 4 });
    dns.set('n2.srv.test', { a: ['127.0.0.22'], aaaa: ['::1'], ttl: 2 });
    const result = await resolver.resolve({ kind: 'srv', name: '_g._tcp.srv.test', scheme: 'http' });
    expect(result.seeds).toEqual(['http://127.0.0.21:4001/', 'http://127.0.0.22:4002/', 'http://[::1]:4002/']);
    expect(result.ttlSeconds).toBe(2);
    expect(result.skipped).toEqual(expect.arrayContaining(['SRV record ".:0" names no service', 'SRV target lost.srv.test: lost.srv.test: no such name (NXDOMAIN)']));
  });

  it.each([
    ['an unknown name', 'missing.test', 'NXDOMAIN', 'missing.test: no such name (NXDOMAIN)'],
    ['a name without A or AAAA records', 'empty.test', 'NODATA', 'empty.test: the name has no A or AAAA records (NODATA)'],
    ['a short name (no search domains)', 'seeds', 'NXDOMAIN', "seeds: no such name; Node's resolver applies no search domains: give the fully qualified name (NXDOMAIN)"],
  ])('fails with a DNS code on %s', async (_what, name, code, message) => {
    dns.set('empty.test', { srv: [] });
    const error = await resolver.resolve({ kind: 'a', name, port: 1, scheme: 'http' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DnsResolutionError);
    expect(error).toMatchObject({ code, message });
  });

  it('fails with BADRECORDS when no SRV record leads to an address, and TIMEOUT within its bound when no answer comes', async () => {
    dns.set('_bad._tcp.srv.test', { srv: [{ target: 'nowhere.srv.test', port: 1 }] });
    await expect(resolver.resolve({ kind: 'srv', name: '_bad._tcp.srv.test', scheme: 'http' })).rejects.toMatchObject({ code: 'BADRECORDS' });
    dns.silent = true;
    const started = Date.now();
    try {
      await expect(resolver.resolve({ kind: 'a', name: 'seeds.test', port: 1, scheme: 'http' })).rejects.toMatchObject({ code: 'TIMEOUT', message: `no answer from ${dns.endpoint} within 600 ms` });
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      dns.silent = false;
    }
  });
});

describe('DNS discovery in a Nest app', () => {
  let dns: LocalDns;
  let app: INestApplication | undefined;
  let warnings: string[];
  let logs: string[];
  const spies: { mockRestore(): void }[] = [];

  beforeEach(async () => {
    dns = await new LocalDns().start();
    warnings = [];
    logs = [];
    spies.push(jest.spyOn(Logger.prototype, 'warn').mockImplementation(function (message: unknown) {
      warnings.push(String(message));
    }));
    spies.push(jest.spyOn(Logger.prototype, 'log').mockImplementation(function (message: unknown) {
      logs.push(String(message));
    }));
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
    spies.splice(0).forEach((s) => s.mockRestore());
    await dns.stop();
  });

  const start = async (name: string, overrides: ClustershazbotOptions = {}) => {
    app = await createApp('express', ClustershazbotModule.forRoot(baseOptions({ masterListUrl: `dns://${name}:4100`, dnsServers: [dns.endpoint], dnsRefreshSeconds: 1, ...overrides })));
    return app;
  };
  const health = async () => (await request(app!.getHttpServer()).get('/health')).body as { status: string; info?: { cluster?: { status: string; message?: string } } };

  it('does not start with a malformed DNS URL: the error names the variable', async () => {
    await expect(createApp('express', ClustershazbotModule.forRoot(baseOptions({ masterListUrl: 'dns://seeds.cluster.test' })))).rejects.toThrow(
      "clustershazbot: SHAZBOT_MASTER_LIST needs the seeds' port, as dns://name:port",
    );
    await expect(createApp('express', ClustershazbotModule.forRoot(baseOptions({ masterListUrl: 'dns://seeds.cluster.test:3000', dnsServers: ['ns1.example'] })))).rejects.toThrow(
      'clustershazbot: SHAZBOT_DNS_SERVERS: "ns1.example" is not an address, address:port or [ipv6]:port',
    );
  });

  it('starts on NXDOMAIN with degraded health and one warning over several failures; recovers when the records appear', async () => {
    const registry = new Registry();
    await start('late.cluster.test', { metrics: registry });
    const cluster = app!.get(ClusterService);
    expect(await health()).toMatchObject({ status: 'degraded', info: { cluster: { status: 'degraded', message: 'DNS discovery dns://late.cluster.test:4100 failing: late.cluster.test: no such name (NXDOMAIN)' } } });
    await until('three failed resolutions', () => (cluster.status().discovery?.consecutiveFailures ?? 0) >= 3);
    // one line over all the failures, from discovery itself: the diagnostics do not repeat it
    // (the `discovery` problem is still listed and reported by health, above)
    const dnsWarnings = warnings.filter((w) => w.startsWith('DNS discovery'));
    expect(dnsWarnings).toHaveLength(1);
    expect(dnsWarnings[0]).toMatch(new RegExp(`^DNS discovery dns://late\\.cluster\\.test:4100 failed \\(late\\.cluster\\.test: no such name \\(NXDOMAIN\\); asked ${dns.endpoint.replace(/\./g, '\\.')}\\); keeping 0 known seed\\(s\\), retrying in \\d\\.\\d s$`));
    expect(await signedGet(request(app!.getHttpServer()), '/clustershazbot/list', SECRET).expect(200)).toBeTruthy();
    expect((await registry.getSingleMetric('clustershazbot_dns_resolutions_total')!.get()).values.find((v) => v.labels.result === 'error')!.value).toBeGreaterThanOrEqual(3);

    dns.set('late.cluster.test', { a: ['127.0.0.99'] });
    await until('the records to be found', () => cluster.status().discovery?.healthy === true, 5000);
    expect(cluster.status().discovery).toMatchObject({ source: 'dns://late.cluster.test:4100', servers: [dns.endpoint], healthy: true, seeds: ['http://127.0.0.99:4100/'], ttlSeconds: 1, consecutiveFailures: 0 });
    expect(logs.some((l) => /^DNS discovery dns:\/\/late\.cluster\.test:4100 resolves again after \d+ failure\(s\): 1 seed\(s\)$/.test(l))).toBe(true);
    expect((await health()).info?.cluster?.status).toBe('up');
    expect((await registry.getSingleMetric('clustershazbot_discovery_seeds')!.get()).values[0].value).toBe(1);
  });

  it('keeps the last seeds while the records are gone, degraded; a DNS server that never answers likewise; the app keeps serving', async () => {
    dns.set('fleet.cluster.test', { a: ['127.0.0.98', '127.0.0.97'] });
    await start('fleet.cluster.test');
    const cluster = app!.get(ClusterService);
    expect(cluster.status().discovery).toMatchObject({ healthy: true, seeds: ['http://127.0.0.97:4100/', 'http://127.0.0.98:4100/'] });
    expect(logs).toContain('DNS discovery dns://fleet.cluster.test:4100: 2 seed(s) (2 new, 0 gone)');
    dns.delete('fleet.cluster.test');
    await until('NXDOMAIN seen', () => cluster.status().discovery?.healthy === false);
    expect(cluster.status().discovery).toMatchObject({ seeds: ['http://127.0.0.97:4100/', 'http://127.0.0.98:4100/'], lastError: 'fleet.cluster.test: no such name (NXDOMAIN)' });
    expect(warnings.find((w) => w.startsWith('DNS discovery'))).toContain('keeping 2 known seed(s)');
    dns.silent = true;
    await until('a timeout seen', () => /^no answer from .* within \d+ ms$/.test(cluster.status().discovery?.lastError ?? ''), 10_000);
    expect((await health()).info?.cluster).toMatchObject({ status: 'degraded' });
    await signedGet(request(app!.getHttpServer()), '/clustershazbot/list', SECRET).expect(200);
    dns.silent = false;
    dns.set('fleet.cluster.test', { a: ['127.0.0.96'] });
    await until('the new record', () => cluster.status().discovery?.seeds.join() === 'http://127.0.0.96:4100/', 5000);
  });

  it('re-resolves at min(refresh, TTL), never in a loop, and stops on shutdown', async () => {
    dns.set('ttl.cluster.test', { a: ['127.0.0.95'], ttl: 1 });
    await start('ttl.cluster.test', { dnsRefreshSeconds: 30 });
    const count = () => dns.queries.filter((q) => q === 'A ttl.cluster.test').length;
    const first = count();
    await sleep(2700);
    expect(count() - first).toBeGreaterThanOrEqual(2); // TTL 1 s beats the 30 s refresh (jitter: up to 1.2 s each)
    expect(count() - first).toBeLessThanOrEqual(3);
    const scheduler = app!.get(SchedulerRegistry, { strict: false });
    expect(scheduler.getTimeouts()).toContain('clustershazbot:dns-refresh');
    await app!.close();
    app = undefined;
    expect(scheduler.getTimeouts()).not.toContain('clustershazbot:dns-refresh');
    const atClose = dns.queries.length;
    await sleep(1500);
    expect(dns.queries.length).toBe(atClose);
  });

  it('a long TTL does not stretch the refresh interval, and TTL 0 is floored at 1 s', async () => {
    dns.set('long.cluster.test', { a: ['127.0.0.94'], ttl: 3600 });
    dns.set('zero.cluster.test', { a: ['127.0.0.93'], ttl: 0 });
    await start('long.cluster.test', { dnsRefreshSeconds: 1 });
    const long = () => dns.queries.filter((q) => q === 'A long.cluster.test').length;
    const first = long();
    await sleep(2700);
    expect(long() - first).toBeGreaterThanOrEqual(2);
    await app!.close();
    await start('zero.cluster.test', { dnsRefreshSeconds: 30 });
    const zero = () => dns.queries.filter((q) => q === 'A zero.cluster.test').length;
    const z0 = zero();
    await sleep(1500);
    expect(zero() - z0).toBeLessThanOrEqual(2);
  });
});
