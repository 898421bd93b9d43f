/**
 * Every event the README lists, from real Nest apps: the grapevine-style membership events
 * (`new_peer`, `peer_suspect`, `peer_failed`, `peer_left`, `peer_alive`, `peer_removed`) with
 * their reasons, `changes$`, the key/value events (`update`, `expire`), `problems$` and
 * `ownership$`. Peers' words arrive as signed gossip, as a peer sends them; `peer_removed` comes
 * from the foreign-peer path between two listening apps of different clusters: a signed 403
 * drops the other cluster's server from the view, and it is ignored afterwards.
 */
import { jest } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import request from 'supertest';
import { ClusterService, ClustershazbotModule, type ClusterProblemEvent, type OwnershipChange, type PeerEvent } from '../../lib/index.js';
import { freePort } from '../../sample/local-cluster.js';
import { signedPost } from '../support/signed.js';
import { baseOptions, createApp, masterListFile, SECRET, SELF } from './app-fixture.js';

jest.setTimeout(60_000);

const PEER = 'http://127.0.0.21:1/';
const DECLARER = 'http://127.0.0.22:1/';
const PEER_EVENTS: PeerEvent[] = ['new_peer', 'peer_suspect', 'peer_failed', 'peer_left', 'peer_alive', 'peer_removed'];

/** Whether `url` is anywhere in the service's view. */
function knows(service: ClusterService, url: string): boolean {
  const view = service.view();
  return [...view.online, ...view.suspect, ...view.offline].some((e) => e.baseUrl === url);
}

/** Polls `check` every 50 ms; fails the test with `what` after `timeoutMs`. */
async function until(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('membership, state, problem and ownership events of one app', () => {
  let app: INestApplication;
  let cluster: ClusterService;
  const dir = mkdtempSync(join(tmpdir(), 'shazbot-events-'));
  const listPath = join(dir, 'master.json');
  const peerEvents: string[] = [];
  const changes: string[] = [];
  const stateEvents: string[] = [];
  const problems: ClusterProblemEvent[] = [];
  const ownership: OwnershipChange[] = [];

  beforeAll(async () => {
    // the master list does not exist yet: a `master-list` problem until it does
    app = await createApp('express', ClustershazbotModule.forRoot(baseOptions({ masterListUrl: pathToFileURL(listPath).toString() })));
    cluster = app.get(ClusterService);
    for (const event of PEER_EVENTS) cluster.on(event, (server, reason) => peerEvents.push(`${event} ${server.baseUrl} ${reason}`));
    cluster.changes$.subscribe((c) => changes.push(`${c.type} ${c.server.baseUrl}`));
    cluster.on('update', (server, key, value) => stateEvents.push(`update ${server} ${key} ${JSON.stringify(value)}`));
    cluster.on('expire', (server, key) => stateEvents.push(`expire ${server} ${key}`));
    cluster.problems$.subscribe((p) => problems.push(p));
    cluster.ownership$.subscribe((o) => ownership.push(o));
  });

  afterAll(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const gossip = (list: { online?: object[]; suspect?: object[]; offline?: object[] }) =>
    signedPost(request(app.getHttpServer()), '/clustershazbot/gossip', SECRET, { message: 'gossip', online: [], offline: [], ...list }).expect(200);
  const peer = (lastUpdate: number, extra: object = {}) => ({ baseUrl: PEER, monitor: false, lastUpdate, ...extra });

  it('new_peer, peer_suspect, peer_alive (refuted), peer_left, peer_alive (came back), peer_failed: each once, with its reason', async () => {
    const t = Date.now();
    await gossip({ online: [peer(t)] });
    await gossip({ suspect: [peer(t, { by: DECLARER })] });
    await gossip({ online: [peer(t + 1)] });
    await gossip({ offline: [peer(t + 2)] });
    await gossip({ online: [peer(t + 3)] });
    await gossip({ offline: [peer(t + 3, { by: DECLARER })] });
    // a word that changes nothing (an older stamp) is no event
    await gossip({ online: [peer(t)] });
    expect(peerEvents).toEqual([
      `new_peer ${PEER} discovered (alive)`,
      `peer_suspect ${PEER} suspected by ${DECLARER}`,
      `peer_alive ${PEER} refuted a suspicion`,
      `peer_left ${PEER} left`,
      `peer_alive ${PEER} came back`,
      `peer_failed ${PEER} failed: declared by ${DECLARER}`,
    ]);
    expect(changes).toEqual(['joined', 'suspect', 'online', 'offline', 'online', 'offline'].map((type) => `${type} ${PEER}`));
  });

  it('ownership$: the peer became eligible when it joined and stopped being so when it went offline', () => {
    const touching = ownership.filter((o) => o.added.includes(PEER) || o.removed.includes(PEER));
    // joined (added), offline (removed), back (added), failed (removed); a suspect stays eligible
    expect(touching.map((o) => (o.added.includes(PEER) ? 'added' : 'removed'))).toEqual(['added', 'removed', 'added', 'removed']);
    expect(ownership.at(-1)!.viewId).toBe(cluster.viewId());
  });

  it("update and expire: this server's own keys, set, deleted and expired", async () => {
    cluster.setLocalState('version', '2.4.1');
    cluster.deleteLocalState('version');
    cluster.setLocalState('lease', { job: 'nightly' }, Date.now() + 300);
    // the maintenance tick (every second) expires it
    await until('the lease to expire', () => stateEvents.some((e) => e.startsWith('expire')));
    expect(stateEvents).toEqual([`update ${SELF} version "2.4.1"`, `update ${SELF} version undefined`, `update ${SELF} lease {"job":"nightly"}`, `expire ${SELF} lease`]);
  });

  it('problems$: the master list problem is raised while the list is missing and cleared once it can be read', async () => {
    await until('the master-list problem', () => problems.some((p) => p.type === 'raised'));
    expect(problems[0]).toEqual({ type: 'raised', problem: { code: 'master-list', setting: 'SHAZBOT_MASTER_LIST', message: expect.stringContaining('master list unavailable: '), since: expect.any(Number) } });
    expect(cluster.status().problems.map((p) => p.code)).toEqual(['master-list']);
    writeFileSync(listPath, JSON.stringify({ online: [], offline: [] }));
    // the retry comes within min(5 s, interval) · 2 · (0.5 to 1) of the last one
    await until('the master-list problem to clear', () => problems.some((p) => p.type === 'cleared'), 30_000);
    expect(problems.map((p) => `${p.type} ${p.problem.code}`)).toEqual(['raised master-list', 'cleared master-list']);
    expect(cluster.status().problems).toEqual([]);
  });
});

describe('the foreign-peer path: a signed 403 removes the server (peer_removed) and it stays ignored', () => {
  const apps: INestApplication[] = [];
  afterAll(async () => {
    for (const app of apps) await app.close();
  });

  it('a server of another cluster that shares our secret answers our probe with 403: removed, then refused when gossiped again', async () => {
    const [portA, portB] = [await freePort(), await freePort()];
    const urlA = `http://127.0.0.1:${portA}/`;
    const urlB = `http://127.0.0.1:${portB}/`;
    const fast = { failureDetection: 'local' as const, probeIntervalSeconds: 0.1, probeTimeoutSeconds: 0.05 };
    const a = await createApp('express', ClustershazbotModule.forRoot(baseOptions({ baseUrl: urlA, masterListUrl: masterListFile(), ...fast })));
    apps.push(a);
    await a.listen(portA, '127.0.0.1');
    const b = await createApp('express', ClustershazbotModule.forRoot(baseOptions({ baseUrl: urlB, cluster: 'beta', masterListUrl: masterListFile(), ...fast })));
    apps.push(b);
    await b.listen(portB, '127.0.0.1');
    const cluster = a.get(ClusterService);
    const events: string[] = [];
    for (const event of PEER_EVENTS) cluster.on(event, (server, reason) => events.push(`${event} ${server.baseUrl} ${reason}`));
    // a peer of ours tells A about B (say, from a shared master list)
    const entryB = b.get(ClusterService).self();
    const tell = () =>
      signedPost(request(a.getHttpServer()), '/clustershazbot/gossip', SECRET, { message: 'gossip', online: [{ baseUrl: urlB, monitor: false, lastUpdate: entryB.lastUpdate, generation: entryB.generation }], offline: [] }, 'default', urlA).expect(200);
    await tell();
    // A probes B (its only peer) within a few probe intervals; B refuses the cluster with a signed 403
    await until('B to be removed from A', () => events.some((e) => e.startsWith('peer_removed')));
    expect(events).toEqual([`new_peer ${urlB} discovered (alive)`, `peer_removed ${urlB} belongs to another cluster`]);
    expect(knows(cluster, urlB)).toBe(false);
    // told again (same process, any stamp): ignored, for 10 minutes
    await tell();
    await new Promise((r) => setTimeout(r, 500));
    expect(knows(cluster, urlB)).toBe(false);
    expect(events).toHaveLength(2);
    // B, for its part, never took A in
    expect(knows(b.get(ClusterService), urlA)).toBe(false);
  });
});
