import { ClusterEngine, DIGEST_BUCKETS, type GossipTransport, type MemberEntry, type SyncMessage } from '../../lib/core/index.js';
import { leafOf } from '../../lib/core/hash.js';
import { seededRandom } from '../../sim/virtual-cluster.js';

/**
 * Anti-entropy's sync, leg by leg, between two real engines whose transports call each other's
 * handleSync in process: what each leg carries (the digest of the differing ranges, the leaf
 * hashes of a big bucket, what each side wants, the members and state it sends), when a sync
 * ends after one request, and what a failure does (a 404 falls back to the page's full lists,
 * a 403 drops the peer, anything else is counted and logged).
 */
const T0 = 1_800_000_000_000;
const E_URL = 'http://e.test:1/';
const P_URL = 'http://p.test:1/';

/** `count` server URLs whose leaves are all in `bucket`, on distinct leaves. */
function urlsInBucket(bucket: number, count: number, prefix: string): string[] {
  const out: string[] = [];
  const leaves = new Set<number>();
  for (let i = 0; out.length < count; i++) {
    const url = `http://${prefix}${i}.test:1/`;
    const leaf = leafOf(url);
    if (leaf >>> 6 !== bucket || leaves.has(leaf)) continue;
    leaves.add(leaf);
    out.push(url);
  }
  return out;
}

const entry = (baseUrl: string, lastUpdate: number): Pick<MemberEntry, 'baseUrl' | 'monitor' | 'lastUpdate'> => ({ baseUrl, monitor: false, lastUpdate });
const clone = <T>(m: T): T => JSON.parse(JSON.stringify(m)) as T;

interface Leg {
  request: SyncMessage;
  reply: SyncMessage;
}

/** Engine E syncs with engine P: every leg recorded as it travelled. */
function pair(settings: Partial<ConstructorParameters<typeof ClusterEngine>[0]> = {}) {
  const legs: Leg[] = [];
  const logs: string[] = [];
  let p: ClusterEngine;
  const transport: GossipTransport = {
    probe: () => Promise.reject(new Error('not used')),
    exchange: () => Promise.reject(new Error('not used')),
    sync: async (_peer, message) => {
      const request = clone(message);
      const reply = clone(p.handleSync(clone(message)));
      legs.push({ request, reply });
      return reply;
    },
  };
  const log = { warn: (m: string) => logs.push(`warn ${m}`), debug: (m: string) => logs.push(`debug ${m}`) };
  const e = new ClusterEngine({ selfUrl: E_URL, probeIntervalMs: 0, ...settings }, { now: () => T0, random: seededRandom(1), transport, log });
  p = new ClusterEngine({ selfUrl: P_URL, probeIntervalMs: 0, ...settings }, { now: () => T0, random: seededRandom(2), transport, log });
  e.start();
  p.start();
  e.merge({ online: [p.self()], offline: [] }, 'test');
  p.merge({ online: [e.self()], offline: [] }, 'test');
  return { e, p, legs, logs };
}

describe('anti-entropy: sync legs', () => {
  it('equal views: one request (root and bucket hashes), answered with the root alone', async () => {
    const { e, p, legs } = pair();
    expect(e.viewHash()).toBe(p.viewHash());
    const result = await e.syncWith(P_URL);
    expect(result).toEqual({ peer: P_URL, ok: true, changes: [] });
    expect(legs).toHaveLength(1);
    expect(Object.keys(legs[0].request).sort()).toEqual(['buckets', 'hash', 'message']);
    expect(legs[0].request.hash).toBe(e.viewHash());
    expect(legs[0].reply).toEqual({ message: 'sync', hash: p.viewHash() });
    expect(e.stats()).toMatchObject({ exchangesOk: 1, exchangesFailed: 0, syncsEqual: 1, syncsRepaired: 0, gossipReceived: 0, rounds: 0 });
    expect(p.stats()).toMatchObject({ gossipReceived: 1, exchangesOk: 0 });
  });

  it('a server only the peer knows: its bucket comes back as a whole digest, we want it, and it arrives in the second leg', async () => {
    const { e, p, legs } = pair();
    const [x] = urlsInBucket(5, 1, 'x');
    p.merge({ online: [entry(x, T0 - 500)], offline: [] }, 'test');
    const result = await e.syncWith(P_URL);
    expect(result.ok).toBe(true);
    expect(result.changes).toEqual([{ type: 'joined', server: { baseUrl: x, monitor: false, lastUpdate: T0 - 500, online: true }, reason: 'discovered (alive)' }]);
    expect(legs).toHaveLength(2);
    // leg 1: bucket 5 differs and is small: P sends its entries there, the range given whole
    const inBucket5 = [P_URL, E_URL].filter((u) => leafOf(u) >>> 6 === 5).map((u) => [u, p.member(u)!.lastUpdate, 0, 0]);
    expect(legs[0].reply.hash).toBe(p.viewHash());
    expect(legs[0].reply.complete).toEqual([5]);
    expect(legs[0].reply.digest).toEqual(expect.arrayContaining([[x, T0 - 500, 0, 0], ...inBucket5]));
    expect(legs[0].reply.digest).toHaveLength(1 + inBucket5.length);
    expect(legs[0].reply.leaves).toBeUndefined();
    // leg 2: we want it (we hold nothing of it), and send nothing else
    expect(legs[1].request).toEqual({ message: 'sync', want: [[x, 0, 0, 0]] });
    expect(legs[1].reply).toEqual({ message: 'sync', members: { online: [{ baseUrl: x, monitor: false, lastUpdate: T0 - 500 }], offline: [] } });
    expect(e.viewHash()).toBe(p.viewHash());
    expect(e.stats()).toMatchObject({ exchangesOk: 1, syncsEqual: 0, syncsRepaired: 1 });
    expect(p.stats().gossipReceived).toBe(2);
  });

  it('a server only we know: the peer\'s whole range does not list it, so it goes in the second leg, and no third leg follows', async () => {
    const { e, p, legs } = pair();
    const [x] = urlsInBucket(0, 1, 'y');
    e.merge({ online: [entry(x, T0 - 700)], offline: [] }, 'test');
    expect((await e.syncWith(P_URL)).ok).toBe(true);
    expect(legs).toHaveLength(2);
    expect(legs[0].reply.complete).toEqual([0]);
    expect(legs[1].request).toEqual({ message: 'sync', members: { online: [{ baseUrl: x, monitor: false, lastUpdate: T0 - 700 }], offline: [] } });
    expect(legs[1].reply).toEqual({ message: 'sync' });
    expect(p.member(x)).toMatchObject({ lastUpdate: T0 - 700, online: true });
    expect(e.viewHash()).toBe(p.viewHash());
  });

  it('a big bucket goes as leaf hashes; our digest of the differing leaves brings what we lack and a want, answered in a third leg', async () => {
    const { e, p, legs } = pair();
    const [y, z, ...rest] = urlsInBucket(9, 11, 'b');
    // both hold 11 servers in bucket 9; P has y newer, we have z newer
    const shared = rest.map((u) => entry(u, T0 - 900));
    e.merge({ online: [...shared, entry(y, T0 - 800), entry(z, T0 - 600)], offline: [] }, 'test');
    p.merge({ online: [...shared, entry(y, T0 - 700), entry(z, T0 - 650)], offline: [] }, 'test');
    expect((await e.syncWith(P_URL)).ok).toBe(true);
    expect(legs).toHaveLength(3);
    expect(legs[0].reply.digest).toEqual([]);
    expect(legs[0].reply.complete).toEqual([]);
    expect(legs[0].reply.leaves).toEqual([{ bucket: 9, hashes: expect.any(String) }]);
    // leg 2: our entries of the two differing leaves, each leaf given whole
    const ranges = [y, z].map((u) => DIGEST_BUCKETS + leafOf(u)).sort((a, b) => a - b);
    expect([...legs[1].request.complete!].sort((a, b) => a - b)).toEqual(ranges);
    expect(legs[1].request.digest).toEqual(expect.arrayContaining([[y, T0 - 800, 0, 0], [z, T0 - 600, 0, 0]]));
    expect(legs[1].request.digest).toHaveLength(2);
    expect(legs[1].request.members).toBeUndefined();
    // P sends y and wants z, with its own (older) stamp of it
    expect(legs[1].reply).toEqual({ message: 'sync', members: { online: [entry(y, T0 - 700)], offline: [] }, want: [[z, T0 - 650, 0, 0]] });
    expect(legs[2].request).toEqual({ message: 'sync', members: { online: [entry(z, T0 - 600)], offline: [] } });
    expect(e.member(y)?.lastUpdate).toBe(T0 - 700);
    expect(p.member(z)?.lastUpdate).toBe(T0 - 600);
    expect(e.viewHash()).toBe(p.viewHash());
    expect(e.stats().syncsRepaired).toBe(1);
  });

  it('key/value state: the watermarks in the digest bring the keys we lack from our watermark on, and ours to the peer', async () => {
    const { e, p, legs } = pair();
    p.setLocalState('a', 1);
    e.setLocalState('b', 2);
    expect((await e.syncWith(P_URL)).ok).toBe(true);
    expect(e.peerValue(P_URL, 'a')).toBe(1);
    expect(p.peerValue(E_URL, 'b')).toBe(2);
    expect(e.viewHash()).toBe(p.viewHash());
    // the state travels as deltas from what the other side held (nothing: 0)
    const sent = legs.flatMap((l) => [...(l.request.state ?? []), ...(l.reply.state ?? [])]);
    expect(sent.map((d) => [d.server, d.from, d.entries.map((x) => x.key)]).sort()).toEqual([
      [E_URL, 0, ['b']],
      [P_URL, 0, ['a']],
    ]);
    // a second key on P: only it travels, from our watermark on
    const before = e.stateVersion(P_URL);
    p.setLocalState('c', 3);
    legs.length = 0;
    expect((await e.syncWith(P_URL)).ok).toBe(true);
    const second = legs.flatMap((l) => [...(l.request.state ?? []), ...(l.reply.state ?? [])]);
    expect(second).toEqual([expect.objectContaining({ server: P_URL, from: before, entries: [expect.objectContaining({ key: 'c', value: 3 })] })]);
    expect(e.peerValue(P_URL, 'c')).toBe(3);
  });
});

describe('anti-entropy: rounds and failures', () => {
  const PEER = 'http://peer.test:1/';
  const peerView = { online: [entry(PEER, T0 - 100)], offline: [] };
  const status = (code: number) => Object.assign(new Error(`HTTP ${code}`), { status: code });

  /** One engine whose peer answers as `answers` says; every call recorded. */
  function engine(answers: { sync?: () => Promise<SyncMessage>; exchange?: () => Promise<{ online: MemberEntry[] }> }) {
    const calls: string[] = [];
    const logs: string[] = [];
    const transport: GossipTransport = {
      probe: () => Promise.reject(new Error('not used')),
      sync: (peer) => (calls.push(`sync ${peer}`), answers.sync ? answers.sync() : Promise.reject(new Error('no sync'))),
      exchange: (peer, message) => (calls.push(`exchange ${peer} ${message.message}`), answers.exchange ? answers.exchange() : Promise.reject(new Error('no exchange'))),
    };
    const e = new ClusterEngine({ selfUrl: E_URL, probeIntervalMs: 0 }, { now: () => T0, random: seededRandom(4), transport, log: { warn: (m) => logs.push(`warn ${m}`), debug: (m) => logs.push(`debug ${m}`) } });
    e.start();
    return { e, calls, logs };
  }

  it('a round with nobody known does nothing and counts no round', async () => {
    const { e, calls } = engine({});
    expect(await e.gossipRound()).toEqual({ peer: null, ok: false, error: 'no peer known', changes: [] });
    expect(calls).toEqual([]);
    expect(e.stats().rounds).toBe(0);
  });

  it('a round counts itself and syncs with the one peer known', async () => {
    const { e, calls } = engine({ sync: async () => ({ message: 'sync', hash: e.viewHash() }) });
    e.merge(peerView, 'test');
    expect(await e.gossipRound()).toMatchObject({ peer: PEER, ok: true });
    expect(e.stats()).toMatchObject({ rounds: 1, exchangesOk: 1, syncsEqual: 1 });
    expect(calls[0]).toBe(`sync ${PEER}`);
  });

  it('a 404 to a sync: the peer gets the page\'s full lists, now and from then on', async () => {
    const { e, calls, logs } = engine({ sync: () => Promise.reject(status(404)), exchange: async () => ({ online: [{ ...entry(PEER, T0 - 100), online: true }, { ...entry('http://third.test:1/', T0 - 50), online: true }] }) });
    e.merge(peerView, 'test');
    const first = await e.syncWith(PEER);
    expect(first).toMatchObject({ peer: PEER, ok: true });
    expect(first.changes.map((c) => [c.type, c.server.baseUrl])).toEqual([['joined', 'http://third.test:1/']]);
    expect(calls).toEqual([`sync ${PEER}`, `exchange ${PEER} gossip`]);
    expect(logs).toEqual([`debug ${PEER} has no sync endpoint: exchanging full lists with it`]);
    expect(await e.syncWith(PEER)).toMatchObject({ ok: true });
    expect(calls.slice(2)).toEqual([`exchange ${PEER} gossip`]);
    expect(e.stats()).toMatchObject({ exchangesOk: 2, exchangesFailed: 0, syncsEqual: 0, syncsRepaired: 0 });
  });

  it('a 404 to the page\'s gossip too: counted as failed, with a warning that names the likely cause', async () => {
    const { e, calls, logs } = engine({ sync: () => Promise.reject(status(404)), exchange: () => Promise.reject(status(404)) });
    e.merge(peerView, 'test');
    expect(await e.syncWith(PEER)).toEqual({ peer: PEER, ok: false, error: 'HTTP 404', changes: [] });
    expect(calls).toEqual([`sync ${PEER}`, `exchange ${PEER} gossip`]);
    expect(logs).toEqual([
      `debug ${PEER} has no sync endpoint: exchanging full lists with it`,
      `warn ${PEER} answered 404 to probe, sync and gossip: it runs with another route prefix than this server (option routePrefix, the same on every server), or no clustershazbot server listens at that URL`,
      `debug gossip with ${PEER} failed: HTTP 404`,
    ]);
    expect(e.stats()).toMatchObject({ exchangesOk: 0, exchangesFailed: 1 });
    expect(e.peersNotFound(60_000)).toEqual([PEER]);
    // no longer page-format: the next round tries a sync first again
    calls.length = 0;
    await e.syncWith(PEER);
    expect(calls[0]).toBe(`sync ${PEER}`);
  });

  it('a sync that fails otherwise: counted and logged, the peer kept; a 403 drops it from the view', async () => {
    let answer: Error = new Error('socket hang up');
    const { e, calls, logs } = engine({ sync: () => Promise.reject(answer) });
    e.merge(peerView, 'test');
    expect(await e.syncWith(PEER)).toEqual({ peer: PEER, ok: false, error: 'socket hang up', changes: [] });
    expect(calls).toEqual([`sync ${PEER}`]);
    expect(logs).toEqual([`debug sync with ${PEER} failed: socket hang up`]);
    expect(e.stats()).toMatchObject({ exchangesOk: 0, exchangesFailed: 1 });
    expect(e.member(PEER)).toBeDefined();
    answer = status(403);
    expect(await e.syncWith(PEER)).toEqual({ peer: PEER, ok: false, error: 'HTTP 403', changes: [] });
    expect(e.member(PEER)).toBeUndefined();
    expect(e.stats().exchangesFailed).toBe(2);
  });

  it('a 403 to the page\'s gossip drops the peer too', async () => {
    const { e } = engine({ exchange: () => Promise.reject(status(403)) });
    e.merge(peerView, 'test');
    expect(await e.exchangeWith(PEER)).toEqual({ peer: PEER, ok: false, error: 'HTTP 403', changes: [] });
    expect(e.member(PEER)).toBeUndefined();
  });

  it('answers the page\'s gossip: merges it, counts it, and returns the whole view', () => {
    const { e } = engine({});
    const reply = e.handleGossip(peerView);
    expect(e.member(PEER)).toMatchObject({ lastUpdate: T0 - 100, online: true });
    expect(e.stats().gossipReceived).toBe(1);
    expect([...reply.online].map((m) => m.baseUrl).sort()).toEqual([E_URL, PEER].sort());
  });
});
