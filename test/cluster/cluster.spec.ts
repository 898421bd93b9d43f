/**
 * Real processes on loopback: the sample Nest app (five of them) and the sample Express app on
 * the plain-function API, talking real HTTP. Every process is stopped by pid in afterAll.
 */
import { createServer, type Server } from 'node:http';
import { canonicalJson, signRequest } from '../../lib/index.js';
import { DEMO_SECRET, LocalCluster, type ServerHandle } from '../../sample/local-cluster.js';
import { convergenceIntervals, expectWithin, spreadIntervals } from '../support/bounds.js';
import { HostilePeers } from './hostile-peers.js';

import { jest } from '@jest/globals';

jest.setTimeout(120_000);

const INTERVAL_S = 0.5;
/** The LAN profile's probe interval: the unit of the stated bounds. */
const PROBE_MS = 1000;

let cluster: LocalCluster;

async function control(server: ServerHandle, online: boolean): Promise<number> {
  return (await cluster.signedFetch(server, 'POST', 'control', { message: 'control', online })).status;
}

async function stats(server: ServerHandle): Promise<{ rounds: number; exchangesFailed: number }> {
  return ((await (await fetch(`${server.baseUrl}cluster`)).json()) as { stats: { rounds: number; exchangesFailed: number } }).stats;
}

const onlineSet = async (cluster: LocalCluster, s: ServerHandle) => new Set((await cluster.list(s))?.online.map((e) => e.baseUrl));

describe('a cluster of real processes', () => {
  cluster = new LocalCluster({ SHAZBOT_GOSSIP_INTERVAL: String(INTERVAL_S) });
  const nest: ServerHandle[] = [];
  let express: ServerHandle;
  const hostile = new HostilePeers();

  beforeAll(async () => {
    for (let i = 1; i <= 5; i++) nest.push(await cluster.add(`nest-${i}`, { env: i === 1 ? { SHAZBOT_MONITOR: 'true' } : {} }));
    express = await cluster.add('express', { kind: 'express' });
    cluster.writeMasterList([nest[0].baseUrl]);
    await hostile.start();
  });

  afterAll(async () => {
    await cluster.stopAll();
    await hostile.stop();
  });

  const everyoneSees = (servers: ServerHandle[], count: number, everyMs = 200) =>
    cluster.waitFor(`${servers.length} servers to see ${count} online`, () => cluster.onlineCounts(servers), (c) => c.every((n) => n === count), 60_000, everyMs);

  it('five Nest servers and an Express server converge from one seed within 1 + log2 N + 2 intervals of the last one listening', async () => {
    const all = [...nest, express];
    all.forEach((s) => cluster.start(s));
    // start-up (Nest, 2 shared cores) is not the protocol's: the bound counts from when the last server answers
    await cluster.waitFor('every server to listen', () => Promise.all(all.map((s) => cluster.list(s))), (lists) => lists.every((l) => l !== undefined), 60_000, 50);
    const listeningAt = Date.now();
    await everyoneSees(all, 6, 50);
    const convergedMs = Date.now() - listeningAt;
    const rounds = await Promise.all(nest.map(stats));
    const views = await Promise.all(all.map((s) => cluster.list(s)));
    // compared in canonical form: Nest servers answer in it (the signed text), the Express app in its own key order
    expect(new Set(views.map((v) => canonicalJson(v))).size).toBe(1);
    console.log(
      `converged ${(convergedMs / 1000).toFixed(1)} s after the last server listened (bound ${convergenceIntervals(all.length).toFixed(1)} intervals); each server had started at most ${Math.max(...rounds.map((r) => r.rounds))} gossip rounds (interval ${INTERVAL_S} s)`,
    );
    expectWithin('every server seeing all 6, from the last one listening', convergedMs, convergenceIntervals(all.length), PROBE_MS);
  });

  it('a change reaches every server within log2 N + 2 intervals: control offline, then back online', async () => {
    const target = nest[4];
    const before = await Promise.all(nest.map(stats));
    const sentAt = Date.now();
    expect(await control(target, false)).toBe(200);
    await cluster.waitFor('offline everywhere', async () => Promise.all([...nest, express].map(async (s) => (await onlineSet(cluster, s)).has(target.baseUrl))), (v) => v.every((x) => !x), 30_000, 50);
    const spreadMs = Date.now() - sentAt;
    const after = await Promise.all(nest.map(stats));
    const spread = Math.max(...after.map((a, i) => a.rounds - before[i].rounds));
    console.log(`control offline reached all 6 servers after ${(spreadMs / 1000).toFixed(1)} s (bound ${spreadIntervals(6).toFixed(1)} intervals), within ${spread} rounds per server`);
    expectWithin('control offline on all 6 servers', spreadMs, spreadIntervals(6), PROBE_MS);
    // it is still a member and keeps gossiping
    expect((await cluster.list(target))?.offline.map((e) => e.baseUrl)).toContain(target.baseUrl);
    expect(await control(target, true)).toBe(200);
    await everyoneSees([...nest, express], 6);
  });

  it('control needs a request signed with the control secret', async () => {
    const body = { message: 'control', online: false };
    const withGossipSecret = signRequest(DEMO_SECRET, { method: 'POST', target: nest[0].baseUrl, path: '/clustershazbot/control', cluster: 'default', body });
    const res = await fetch(`${nest[0].baseUrl}clustershazbot/control`, {
      method: 'POST',
      headers: { authorization: withGossipSecret, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(401);
  });

  it('peers that answer 500, garbage, or never do not stall anyone, and are declared offline', async () => {
    // a trusted peer reports the three bad servers online, so everyone probes and gossips to them
    const now = Date.now();
    const bad = Object.values(hostile.urls);
    const res = await cluster.signedFetch(nest[0], 'POST', 'gossip', { message: 'gossip', online: bad.map((baseUrl) => ({ baseUrl, monitor: false, lastUpdate: now })), offline: [] });
    expect(res.status).toBe(200);
    const before = await Promise.all(nest.map(stats));
    await cluster.waitFor('every bad peer to be tried', async () => ({ ...hostile.hits }), (h) => h.error500 > 0 && h.garbage > 0 && h.silent > 0, 60_000);
    // the failure detector takes all three offline everywhere
    await cluster.waitFor(
      'the bad peers offline everywhere',
      async () => Promise.all([...nest, express].map(async (s) => (await cluster.list(s))?.offline.filter((e) => bad.includes(e.baseUrl)).length)),
      (counts) => counts.every((n) => n === 3),
      60_000,
    );
    // the cluster still spreads a change while the bad peers are around
    expect(await control(nest[2], false)).toBe(200);
    await cluster.waitFor('offline everywhere', async () => Promise.all(nest.map(async (s) => (await onlineSet(cluster, s)).has(nest[2].baseUrl))), (v) => v.every((x) => !x), 30_000);
    expect(await control(nest[2], true)).toBe(200);
    const after = await Promise.all(nest.map(stats));
    after.forEach((a, i) => expect(a.rounds).toBeGreaterThan(before[i].rounds));
    for (const s of [...nest, express]) expect(s.child?.exitCode).toBeNull();
    // no garbage entry was merged: every entry anywhere is one of ours or one of the three
    const view = await cluster.list(nest[1]);
    const known = new Set([...nest, express].map((s) => s.baseUrl).concat(bad));
    expect([...(view?.online ?? []), ...(view?.offline ?? [])].every((e) => known.has(e.baseUrl))).toBe(true);
    await everyoneSees([...nest, express], 6);
  });

  it('a SIGINT shutdown shows offline on the others, and a restarted server rejoins', async () => {
    const leaving = nest[3];
    await cluster.signal(leaving, 'SIGINT');
    // Nest closes the app, then re-raises SIGINT: it must have exited by itself, not by our SIGKILL fallback
    expect(leaving.child?.signalCode === 'SIGINT' || leaving.child?.exitCode === 0).toBe(true);
    const rest = [...nest.filter((s) => s !== leaving), express];
    await cluster.waitFor(
      'the leaver offline on all others',
      async () => Promise.all(rest.map(async (s) => (await cluster.list(s))?.offline.some((e) => e.baseUrl === leaving.baseUrl))),
      (v) => v.every(Boolean),
      30_000,
    );
    cluster.start(leaving);
    await everyoneSees([...nest, express], 6);
  });

  // SIGINT from a terminal, SIGTERM from an orchestrator: the sample handles both and leaves
  it.each(['SIGINT', 'SIGTERM'] as const)('the Express server leaves on %s too (exits 0, not killed by it), and rejoins', async (signal) => {
    const child = express.child!;
    await cluster.signal(express, signal);
    expect({ exitCode: child.exitCode, signalCode: child.signalCode }).toEqual({ exitCode: 0, signalCode: null });
    await cluster.waitFor('express offline', () => cluster.list(nest[0]), (v) => !!v?.offline.some((e) => e.baseUrl === express.baseUrl), 30_000);
    cluster.start(express);
    await everyoneSees([...nest, express], 6);
  });
});

describe('a master-list server that is down at start', () => {
  const listCluster = new LocalCluster({ SHAZBOT_GOSSIP_INTERVAL: String(INTERVAL_S) });
  let listServer: Server | undefined;

  afterAll(async () => {
    await listCluster.stopAll();
    await new Promise((r) => (listServer ? listServer.close(r) : r(undefined)));
  });

  it('servers start anyway, report degraded health, and pick the list up when it comes back', async () => {
    const { freePort } = await import('../../sample/local-cluster.js');
    const listPort = await freePort();
    const env = { SHAZBOT_MASTER_LIST: `http://127.0.0.1:${listPort}/master.json` };
    const a = await listCluster.add('a', { env });
    const b = await listCluster.add('b', { env });
    listCluster.start(a);
    listCluster.start(b);
    const health = async (s: ServerHandle) => {
      try {
        return (await (await fetch(`${s.baseUrl}health`)).json()) as { status: string; info?: { cluster?: { message?: string } } };
      } catch {
        return undefined;
      }
    };
    const [degraded] = await listCluster.waitFor('degraded health', async () => Promise.all([health(a), health(b)]), (h) => h.every((x) => x?.status === 'degraded'), 60_000);
    expect(degraded?.info?.cluster?.message).toMatch(/master list unavailable: ECONNREFUSED/);
    expect(await listCluster.onlineCounts([a, b])).toEqual([1, 1]); // each knows itself: started from what is known
    listServer = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ online: [{ baseUrl: a.baseUrl, monitor: false, lastUpdate: 0 }] }));
    });
    await new Promise<void>((r) => listServer!.listen(listPort, '127.0.0.1', r));
    // backoff from min(5 s, interval) doubling: both retry within a few seconds
    await listCluster.waitFor('both healthy', async () => Promise.all([health(a), health(b)]), (h) => h.every((x) => x?.status === 'ok'), 60_000);
    await listCluster.waitFor('both see both', () => listCluster.onlineCounts([a, b]), (c) => c.every((n) => n === 2), 30_000);
    expect(b.output.join('\n')).toMatch(/master list http:\/\/127\.0\.0\.1:\d+\/master\.json unavailable \(ECONNREFUSED\)/);
  });
});
