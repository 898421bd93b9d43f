import { AntiEntropy, Awareness, ClusterEngine, DEFAULT_ENGINE_SETTINGS, DEFAULT_STATE_LIMITS, DIGEST_BUCKETS, Dissemination, Membership, PeerBook, RateLimitedLog, StateReplication, type GossipTransport, type MemberEntry, type SyncMessage } from '../../lib/core/index.js';
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
/**
 * The documented constants the exact-size tests pin (the rule itself, every message within
 * messageBudgetBytes, is tested for several budgets and views without them):
 * SYNC_ENVELOPE_BYTES in lib/core/anti-entropy.ts, what the budget counts for a sync message's
 * own fields; LEAF_HASHES_BYTES there, one bucket's leaf hashes with its comma; and
 * digestEntrySize in lib/core/message-budget.ts, a digest entry as its URL plus 40 bytes.
 */
const SYNC_ENVELOPE_BYTES = 160;
const LEAF_HASHES_BYTES = 380;
const digestEntryBytes = (url: string) => url.length + 40;
const P_URL = 'http://p.test:1/';

/** `count` server URLs whose leaves are all in `bucket`, on distinct leaves. */
function urlsInBucket(bucket: number, count: number, prefix: string): string[] {
  const out: string[] = [];
  const leaves = new Set<number>();
  for (let i = 0; out.length < count; i++) {
    const url = `http://${prefix}${String(i).padStart(5, '0')}.test:1/`; // all of one length
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
    expect(legs[0].request).toEqual({ message: 'sync', hash: e.viewHash(), buckets: expect.any(String) });
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

  it('a page-format peer whose gossip fails otherwise is not taken for a 404 everywhere', async () => {
    const { e, logs } = engine({ sync: () => Promise.reject(status(404)), exchange: () => Promise.reject(new Error('socket hang up')) });
    e.merge(peerView, 'test');
    expect(await e.syncWith(PEER)).toEqual({ peer: PEER, ok: false, error: 'socket hang up', changes: [] });
    expect(e.peersNotFound(60_000)).toEqual([]);
    expect(logs).toEqual([`debug ${PEER} has no sync endpoint: exchanging full lists with it`, `debug gossip with ${PEER} failed: socket hang up`]);
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

describe('anti-entropy: what one sync message carries', () => {
  /** An engine P with `servers` in its view (stamps as given), random draws scripted (0.5 once they run out). */
  function answerer(servers: [string, number][], settings: Partial<ConstructorParameters<typeof ClusterEngine>[0]> = {}, draws: number[] = []) {
    const nowhere = () => Promise.reject(new Error('not used'));
    const p = new ClusterEngine({ selfUrl: P_URL, probeIntervalMs: 0, ...settings }, { now: () => T0, random: () => draws.shift() ?? 0.5, transport: { probe: nowhere, exchange: nowhere, sync: nowhere } });
    p.start();
    if (servers.length) p.merge({ online: servers.map(([u, t]) => entry(u, t)), offline: [] }, 'test');
    return p;
  }
  const urls = (n: number, prefix = 's') => Array.from({ length: n }, (_, i) => `http://${prefix}${i}.test:1/`);
  /** Bytes of a member's wire entry in a sync, with its comma. */
  const memberBytes = (u: string, t: number) => JSON.stringify(entry(u, t)).length + 1;

  it('wanted members go most stale first; only well-formed wants count, and what the asker holds as new is not sent', () => {
    const [a, b, c, d] = urls(4);
    const p = answerer([[a, T0 - 400], [b, T0 - 300], [c, T0 - 200], [d, T0 - 100]]);
    const reply = p.handleSync({
      message: 'sync',
      want: [
        [a, T0 - 410, 0, 0], // 11 behind
        [b, T0 - 900, 0, 0], // 601 behind
        [c, T0 - 200, 0, 0], // as ours: nothing to send
        [d, T0 - 50, 0, 0], // newer than ours: nothing to send
        ['http://unknown.test:1/', 0, 0, 0],
        ['junk'] as never,
        [a, -1, 0, 0] as never,
      ],
    });
    expect(reply).toEqual({ message: 'sync', members: { online: [entry(b, T0 - 300), entry(a, T0 - 400)], offline: [] } });
    expect(p.stats().gossipReceived).toBe(1);
  });

  it('at equal stamps the more final state wins: an offline entry goes to a peer holding it alive, not the other way', () => {
    const [a, b] = urls(2);
    const p = answerer([[a, T0 - 400]]);
    p.merge({ online: [], offline: [{ ...entry(b, T0 - 300), by: P_URL }] }, 'test');
    const reply = p.handleSync({ message: 'sync', want: [[a, T0 - 400, 2, 0], [b, T0 - 300, 0, 0]] });
    expect(reply).toEqual({ message: 'sync', members: { online: [], offline: [{ ...entry(b, T0 - 300), by: P_URL }] } });
  });

  it('a suspect goes in the suspect list', () => {
    const [a] = urls(1);
    const p = answerer([]);
    p.merge({ online: [], offline: [], suspect: [{ ...entry(a, T0 - 300), by: P_URL }] }, 'test');
    expect(p.member(a)).toMatchObject({ online: true, suspect: true });
    const reply = p.handleSync({ message: 'sync', want: [[a, 0, 0, 0]] });
    expect(reply).toEqual({ message: 'sync', members: { online: [], offline: [], suspect: [{ ...entry(a, T0 - 300), by: P_URL }] } });
  });

  it('equally stale members go in the order of their random draws', () => {
    const [a, b, c] = urls(3);
    const want = [a, b, c].map((u): [string, number, number, number] => [u, 0, 0, 0]);
    expect(answerer([[a, T0 - 100], [b, T0 - 100], [c, T0 - 100]], {}, [0.7, 0.2, 0.9]).handleSync({ message: 'sync', want }).members!.online.map((m) => m.baseUrl)).toEqual([b, a, c]);
    expect(answerer([[a, T0 - 100], [b, T0 - 100], [c, T0 - 100]], {}, [0.1, 0.8, 0.3]).handleSync({ message: 'sync', want }).members!.online.map((m) => m.baseUrl)).toEqual([a, c, b]);
  });

  it('stops at the message budget, but always sends the first item, however big', () => {
    const list = urls(5);
    const servers = list.map((u, i): [string, number] => [u, T0 - 1000 - i]); // s0 the newest: the most the asker (holding nothing) lacks
    const want = list.map((u): [string, number, number, number] => [u, 0, 0, 0]);
    const each = memberBytes(list[0], T0 - 1000);
    // room for exactly three after the envelope (SYNC_ENVELOPE_BYTES)
    const three = answerer(servers, { messageBudgetBytes: SYNC_ENVELOPE_BYTES + 3 * each }).handleSync({ message: 'sync', want });
    expect(three.members!.online.map((m) => m.baseUrl)).toEqual(list.slice(0, 3));
    const almost = answerer(servers, { messageBudgetBytes: SYNC_ENVELOPE_BYTES + 3 * each - 1 }).handleSync({ message: 'sync', want });
    expect(almost.members!.online.map((m) => m.baseUrl)).toEqual(list.slice(0, 2));
    const none = answerer(servers, { messageBudgetBytes: 100 }).handleSync({ message: 'sync', want });
    expect(none.members!.online.map((m) => m.baseUrl)).toEqual([list[0]]);
  });

  it('every answer, serialised as sent, fits in messageBudgetBytes, whatever the budget and the view', () => {
    for (const budget of [1000, 2000, 16_384]) {
      for (const n of [10, 200, 800]) {
        const servers = urls(n, 'v').map((u, i): [string, number] => [u, T0 - 1000 - i]);
        const p = answerer(servers, { messageBudgetBytes: budget });
        // some state of its own, within its bound (stateBytesBound), that the asker lacks
        for (let k = 0; k < 4; k++) p.setLocalState(`key-${k}`, 'v'.repeat(30));
        const sent = [
          // leg 1 from a peer holding nothing: every bucket differs (entries of small ones, leaf hashes of big ones)
          p.handleSync({ message: 'sync', hash: '0'.repeat(16), buckets: '' }),
          // the asker wants every server and our state from scratch
          p.handleSync({ message: 'sync', want: [P_URL, ...servers.map(([u]) => u)].map((u): [string, number, number, number] => [u, 0, 0, 0]) }),
          // every range given whole, listing nothing: everything is sent
          p.handleSync({ message: 'sync', digest: [], complete: Array.from({ length: DIGEST_BUCKETS }, (_, b) => b) }),
          // a digest of servers unknown here: all wanted
          p.handleSync({ message: 'sync', digest: urls(n, 'unknown').map((u): [string, number, number, number] => [u, T0, 0, 0]) }),
          // a digest of older stamps for every server: all sent, and wants of newer ones
          p.handleSync({ message: 'sync', digest: servers.map(([u, t], i): [string, number, number, number] => [u, i % 2 ? t - 1 : t + 1, 0, 0]) }),
        ];
        const over = sent.map((reply) => JSON.stringify(reply).length).filter((bytes) => bytes > budget);
        expect({ budget, n, over }).toEqual({ budget, n, over: [] });
        // each reply carries something (the budget cuts them, it does not empty them); one that
        // lacks room for everything is cut close to the budget (the envelope and one member short)
        for (const reply of sent) expect(Object.keys(reply).length).toBeGreaterThan(1);
        if (n * 80 > budget) expect(JSON.stringify(sent[1]).length).toBeGreaterThan(budget - 300);
      }
    }
  });

  it('a state delta from the asker\'s watermark on; a member and its state both go, and the budget counts the state', () => {
    const p = answerer([]);
    p.setLocalState('a', 1);
    const first = p.stateVersion(P_URL);
    p.setLocalState('b', 'x'.repeat(50));
    const reply = p.handleSync({ message: 'sync', want: [[P_URL, p.self().lastUpdate, 0, first]] });
    expect(reply.members).toBeUndefined();
    expect(reply.state).toEqual([{ server: P_URL, from: first, to: p.stateVersion(P_URL), generation: T0, entries: [{ key: 'b', version: p.stateVersion(P_URL), value: 'x'.repeat(50) }] }]);
    const both = p.handleSync({ message: 'sync', want: [[P_URL, 0, 0, 0]] });
    expect(both.members).toEqual({ online: [{ baseUrl: P_URL, monitor: false, lastUpdate: T0, generation: T0 }], offline: [] });
    expect(both.state?.[0]).toMatchObject({ server: P_URL, from: 0 });
    expect(both.state?.[0].entries.map((e) => e.key)).toEqual(['a', 'b']);
    // a budget that holds the member but not the delta after it: the member alone
    const fits = answerer([], { messageBudgetBytes: 700 });
    fits.setLocalState('b', 'x'.repeat(250));
    expect(fits.handleSync({ message: 'sync', want: [[P_URL, 0, 0, 0]] })).toStrictEqual({
      message: 'sync',
      members: { online: [{ baseUrl: P_URL, monitor: false, lastUpdate: T0, generation: T0 }], offline: [] },
      state: [expect.objectContaining({ server: P_URL, from: 0, entries: [expect.objectContaining({ key: 'b' })] })],
    });
    const tight = answerer([], { messageBudgetBytes: 700 });
    tight.setLocalState('b', 'x'.repeat(300));
    const cut = tight.handleSync({ message: 'sync', want: [[P_URL, 0, 0, 0]] });
    expect(cut.members?.online.map((m) => m.baseUrl)).toEqual([P_URL]);
    expect(cut.state).toBeUndefined();
  });

  it('a state delta after members gets what is left of the budget: whole, cut to the entries that fit, or left for later', () => {
    const delta = (k: number) => {
      const p = answerer([], { messageBudgetBytes: 2000 });
      const xs = Array.from({ length: k }, (_, i) => `http://s${String(i).padStart(2, '0')}.test:1/`);
      p.merge({ online: xs.map((u) => entry(u, T0 - 100)), offline: [] }, 'test');
      p.setLocalState('a', 1);
      const first = p.stateVersion(P_URL);
      p.setLocalState('b', 'x'.repeat(200));
      p.setLocalState('c', 'y'.repeat(200));
      // the members lack more (their whole stamps) than our state (two versions): they go first
      const reply = p.handleSync({ message: 'sync', want: [...xs.map((u): [string, number, number, number] => [u, 0, 0, 0]), [P_URL, T0, 0, first]] });
      expect(reply.members!.online).toHaveLength(k);
      return reply.state?.map((d) => [d.from === first, d.entries.map((e) => e.key)]);
    };
    // each member takes 76 bytes; with SYNC_ENVELOPE_BYTES counted, after 14 members the two
    // entries fit in what is left of the 2,000 bytes, after 18 one, after 20 none
    expect(delta(14)).toEqual([[true, ['b', 'c']]]);
    expect(delta(18)).toEqual([[true, ['b']]]);
    expect(delta(20)).toBeUndefined();
  });

  it('names the sync or the page\'s gossip as the source of what it refuses', () => {
    const warnings: string[] = [];
    const nowhere = () => Promise.reject(new Error('not used'));
    const p = new ClusterEngine({ selfUrl: P_URL, probeIntervalMs: 0 }, { now: () => T0, random: () => 0.5, transport: { probe: nowhere, exchange: nowhere, sync: nowhere }, log: { warn: (m) => warnings.push(m), debug: () => {} } });
    p.start();
    const ahead = (name: string) => ({ online: [entry(`http://${name}.test:1/`, T0 + 86_400_000)], offline: [] });
    p.handleSync({ message: 'sync', members: ahead('a') });
    p.handleGossip(ahead('b'));
    expect(warnings.map((w) => w.replace(/: stamped .*/, ''))).toEqual(['refused http://a.test:1/ from sync', 'refused http://b.test:1/ from gossip']);
  });

  it('a first leg without bucket hashes is answered as if every bucket differed', () => {
    const [x] = urlsInBucket(12, 1, 'h');
    const p = answerer([[x, T0 - 100]]);
    const reply = p.handleSync({ message: 'sync', hash: '0000000000000000' });
    expect(reply.complete).toEqual(expect.arrayContaining([12]));
    expect(reply.complete).toHaveLength(DIGEST_BUCKETS);
    expect(reply.digest).toContainEqual([x, T0 - 100, 0, 0]);
  });

  it('the leaf ranges of the last buckets are ranges too (up to 64 + 4095)', () => {
    const [x] = urlsInBucket(63, 1, 'z');
    const p = answerer([[x, T0 - 100]]);
    expect(p.handleSync({ message: 'sync', digest: [], complete: [DIGEST_BUCKETS + leafOf(x)] }).members).toEqual({ online: [entry(x, T0 - 100)], offline: [] });
  });

  it('a server of a whole range is as stale as its stamp: at a tie with a wanted one, the random draws decide', () => {
    const [x] = urlsInBucket(20, 1, 't');
    const y = 'http://tie.test:1/';
    const order = (draws: number[]) => answerer([[x, T0 - 100], [y, T0 - 100]], {}, draws).handleSync({ message: 'sync', want: [[y, 0, 0, 0]], digest: [], complete: [20] }).members!.online.map((m) => m.baseUrl);
    // the wanted server is scored first, then the one of the range
    expect(order([0.9, 0.1])).toEqual([x, y]);
    expect(order([0.1, 0.9])).toEqual([y, x]);
  });

  it('a server of a whole range gets its state from scratch', () => {
    const p = answerer([]);
    p.setLocalState('k', 1);
    const bucket = leafOf(P_URL) >>> 6;
    const reply = p.handleSync({ message: 'sync', digest: [], complete: [bucket] });
    expect(reply.state).toEqual([expect.objectContaining({ server: P_URL, from: 0, entries: [expect.objectContaining({ key: 'k', value: 1 })] })]);
  });

  it('the first item goes even when it does not fit; nothing after it then', () => {
    // a 300-byte budget leaves 140 after the envelope; the state delta below takes more
    const p = answerer([['http://m.test:1/', T0 - 100]], { messageBudgetBytes: 300 });
    p.setLocalState('k', 'x'.repeat(29)); // the most its state bound (stateBytesBound(300), 225) lets it write
    // the state lacks the whole version (most stale), the member two ms of stamp
    const reply = p.handleSync({ message: 'sync', want: [[P_URL, p.self().lastUpdate, 0, 0], ['http://m.test:1/', T0 - 102, 0, 0]] });
    expect(reply.state).toEqual([expect.objectContaining({ server: P_URL, entries: [expect.objectContaining({ key: 'k' })] })]);
    expect(JSON.stringify(reply.state).length).toBeGreaterThan(140);
    expect(reply.members).toBeUndefined();
  });

  it('a state delta after a member takes its JSON and a comma of the budget', () => {
    const x = 'http://m.test:1/';
    const reply = (budget: number) => {
      const p = answerer([[x, T0 - 100]], { messageBudgetBytes: budget });
      p.setLocalState('a', 1);
      const first = p.stateVersion(P_URL);
      p.setLocalState('b', 'x'.repeat(40));
      // the member lacks its whole stamp (first), the state one version
      return p.handleSync({ message: 'sync', want: [[x, 0, 0, 0], [P_URL, p.self().lastUpdate, 0, first]] });
    };
    const roomy = reply(4000);
    expect(roomy.state?.[0].entries.map((e) => e.key)).toEqual(['b']);
    const member = JSON.stringify(entry(x, T0 - 100)).length + 1;
    const delta = JSON.stringify(roomy.state![0]).length + 1;
    expect(reply(SYNC_ENVELOPE_BYTES + member + delta).state).toHaveLength(1);
    expect(reply(SYNC_ENVELOPE_BYTES + member + delta - 1).state).toBeUndefined();
    expect(reply(SYNC_ENVELOPE_BYTES + member + delta - 1).members?.online).toEqual([entry(x, T0 - 100)]);
  });

  it('what this side wants is cut to the budget', () => {
    const unknown = urls(6, 'w');
    const size = digestEntryBytes(unknown[0]);
    const p = answerer([], { messageBudgetBytes: SYNC_ENVELOPE_BYTES + 3 * size });
    const reply = p.handleSync({ message: 'sync', digest: unknown.map((u): [string, number, number, number] => [u, T0, 0, 0]) });
    expect(reply.want).toHaveLength(3);
  });

  it('compares a digest: sends what is newer here, wants what is newer there or unknown here, by stamp, state and watermark', () => {
    const [a, b, c, d] = urls(4);
    const p = answerer([[a, T0 - 400], [b, T0 - 300], [c, T0 - 200]]);
    const reply = p.handleSync({
      message: 'sync',
      digest: [
        [a, T0 - 500, 0, 0], // ours newer: sent
        [b, T0 - 250, 1, 0], // theirs newer: wanted
        [c, T0 - 200, 0, 0], // equal: nothing
        [d, T0 - 10, 0, 0], // unknown here: wanted from scratch
        ['junk'] as never, // not a digest entry: skipped
        [a, T0 - 500, 3, 0] as never,
      ],
    });
    expect(reply.members).toEqual({ online: [entry(a, T0 - 400)], offline: [] });
    expect([...reply.want!].sort()).toEqual([[b, T0 - 300, 0, 0], [d, 0, 0, 0]].sort());
    // a watermark above ours is wanted; one below ours gets the state
    p.setLocalState('k', 1);
    const version = p.stateVersion(P_URL);
    const self = p.self().lastUpdate;
    expect(p.handleSync({ message: 'sync', digest: [[P_URL, self, 0, version + 5]] })).toEqual({ message: 'sync', want: [[P_URL, self, 0, version]] });
    expect(p.handleSync({ message: 'sync', digest: [[P_URL, self, 0, version - 1]] }).state).toEqual([expect.objectContaining({ server: P_URL, from: version - 1 })]);
    expect(p.handleSync({ message: 'sync', digest: [[P_URL, self, 0, version]] })).toEqual({ message: 'sync' });
  });

  it('a digest entry equal to ours is no candidate: it takes no random draw, so it does not shift the tie order of the others', () => {
    const [a, b, c] = urls(3, 'q');
    // all three held at T0 - 100; the peer lacks a and c equally (100 ms each), holds b as ours.
    // Drawn per candidate: a 0.5, c 0.1, so c goes first. Were b a candidate, it would take the
    // 0.1 (then drop out, lacking nothing) and leave c the 0.9: a first
    const p = answerer([[a, T0 - 100], [b, T0 - 100], [c, T0 - 100]], {}, [0.5, 0.1, 0.9]);
    const reply = p.handleSync({ message: 'sync', digest: [[a, T0 - 200, 0, 0], [b, T0 - 100, 0, 0], [c, T0 - 200, 0, 0]] });
    expect(reply).toEqual({ message: 'sync', members: { online: [entry(c, T0 - 100), entry(a, T0 - 100)], offline: [] } });
  });

  it('what this side wants goes in random order (what does not fit is asked for later)', () => {
    const [a, b, c] = urls(3, 'u');
    // every draw 0: the shuffle swaps each item from the last down with the first ([a, b, c] → [c, b, a] → [b, c, a])
    const p = answerer([], {}, [0, 0, 0, 0, 0, 0]);
    const reply = p.handleSync({ message: 'sync', digest: [a, b, c].map((u): [string, number, number, number] => [u, T0, 0, 0]) });
    expect(reply.want).toEqual([b, c, a].map((u) => [u, 0, 0, 0]));
  });

  it('servers in a range the peer listed whole but not in its digest are sent; a malformed range list counts for nothing', () => {
    const p = answerer([]);
    const [x] = urlsInBucket(0, 1, 'w');
    p.merge({ online: [entry(x, T0 - 100)], offline: [] }, 'test');
    const leaf = leafOf(x);
    const sent = (complete: unknown) => (p.handleSync({ message: 'sync', digest: [], complete } as SyncMessage).members?.online ?? []).map((m) => m.baseUrl);
    expect(sent([0])).toContain(x);
    expect(sent([DIGEST_BUCKETS + leaf])).toEqual([x]);
    expect(sent([1])).not.toContain(x);
    expect(sent('0')).toEqual([]);
    expect(sent([-64 + leaf, 0.5, '0'])).toEqual([]);
    // listed in the digest: compared, not sent because of the range
    expect(p.handleSync({ message: 'sync', digest: [[x, T0 - 100, 0, 0]], complete: [0] }).members?.online.map((m) => m.baseUrl) ?? []).not.toContain(x);
  });
});

describe('anti-entropy: the asking side, against scripted answers', () => {
  /** Engine E whose peer answers the sync legs in order from `replies`; requests recorded. */
  function asker(replies: SyncMessage[], settings: Partial<ConstructorParameters<typeof ClusterEngine>[0]> = {}) {
    const requests: SyncMessage[] = [];
    const e = new ClusterEngine(
      { selfUrl: E_URL, probeIntervalMs: 0, ...settings },
      {
        now: () => T0,
        random: seededRandom(5),
        transport: {
          probe: () => Promise.reject(new Error('not used')),
          exchange: () => Promise.reject(Object.assign(new Error('HTTP 404'), { status: 404 })),
          sync: async (_peer, message) => {
            requests.push(clone(message));
            const reply = replies.shift();
            if (!reply) throw Object.assign(new Error('HTTP 404'), { status: 404 });
            return clone(reply);
          },
        },
      },
    );
    e.start();
    e.merge({ online: [entry(P_URL, T0 - 100)], offline: [] }, 'test');
    return { e, requests };
  }

  it('an answer without digest or leaves ends the sync as equal; with an empty digest or empty leaves it counts as repaired, and nothing more is sent', async () => {
    const equal = asker([{ message: 'sync', hash: 'ffffffffffffffff' }]);
    expect((await equal.e.syncWith(P_URL)).ok).toBe(true);
    expect(equal.e.stats()).toMatchObject({ syncsEqual: 1, syncsRepaired: 0 });
    for (const reply of [{ message: 'sync', hash: 'f', digest: [], complete: [] }, { message: 'sync', hash: 'f', leaves: [] }] as SyncMessage[]) {
      const { e, requests } = asker([reply]);
      expect((await e.syncWith(P_URL)).ok).toBe(true);
      expect(e.stats()).toMatchObject({ exchangesOk: 1, syncsEqual: 0, syncsRepaired: 1 });
      expect(requests).toHaveLength(1);
    }
  });

  it('members and state in an answer are merged, whatever the leg', async () => {
    const x = 'http://x.test:1/';
    const { e } = asker([{ message: 'sync', hash: 'f', members: { online: [entry(x, T0 - 50)], offline: [] }, state: [{ server: x, from: 0, to: T0 - 40, entries: [{ key: 'k', version: T0 - 40, value: 'v' }] }] }]);
    const result = await e.syncWith(P_URL);
    expect(result.changes.map((c) => [c.type, c.server.baseUrl])).toEqual([['joined', x]]);
    expect(e.peerValue(x, 'k')).toBe('v');
  });

  it('malformed leaf hashes are ignored; well-formed ones bring our digest of the differing leaves', async () => {
    const bad = [null, 5, { bucket: 64, hashes: '' }, { bucket: -1, hashes: '' }, { bucket: 1.5, hashes: '' }, { bucket: 3 }, { bucket: 3, hashes: 7 }];
    const first = asker([{ message: 'sync', hash: 'f', digest: [], leaves: [{ bucket: 0, hashes: '' }] }, { message: 'sync' }]);
    await first.e.syncWith(P_URL);
    expect(first.requests).toHaveLength(2); // bucket 0 is a bucket
    const ignored = asker([{ message: 'sync', hash: 'f', digest: [], leaves: bad as never }]);
    expect((await ignored.e.syncWith(P_URL)).ok).toBe(true);
    expect(ignored.requests).toHaveLength(1);
    // bucket 63 is the last one: with hashes of the wrong length, every leaf of it differs
    const good = asker([{ message: 'sync', hash: 'f', leaves: [{ bucket: 63, hashes: '' }] }, { message: 'sync' }]);
    expect((await good.e.syncWith(P_URL)).ok).toBe(true);
    expect(good.requests).toHaveLength(2);
    const ranges = Array.from({ length: 64 }, (_, l) => DIGEST_BUCKETS + 63 * 64 + l);
    expect([...good.requests[1].complete!].sort((a, b) => a - b)).toEqual(ranges);
    const inBucket63 = [E_URL, P_URL].filter((u) => leafOf(u) >>> 6 === 63);
    expect(good.requests[1].digest!.map((d) => d[0]).sort()).toEqual(inBucket63.sort());
  });

  it('a want in the second answer is served in a third leg; one for a server we do not hold, or malformed, is not', async () => {
    const [x] = urlsInBucket(7, 1, 'v');
    const leg1: SyncMessage = { message: 'sync', hash: 'f', digest: [], complete: [7] };
    const served = asker([leg1, { message: 'sync', want: [[x, 0, 0, 0], ['junk'] as never, ['http://unknown.test:1/', 0, 0, 0]] }, { message: 'sync' }]);
    served.e.merge({ online: [entry(x, T0 - 70)], offline: [] }, 'test');
    expect((await served.e.syncWith(P_URL)).ok).toBe(true);
    expect(served.requests).toHaveLength(3);
    // leg 2: x, which the peer's whole range 7 does not list
    expect(served.requests[1]).toEqual({ message: 'sync', members: { online: [entry(x, T0 - 70)], offline: [] } });
    expect(served.requests[2]).toEqual({ message: 'sync', members: { online: [entry(x, T0 - 70)], offline: [] } });
    const unserved = asker([leg1, { message: 'sync', want: [['junk'] as never, ['http://unknown.test:1/', 0, 0, 0], [x, -1, 0, 0]] }]);
    unserved.e.merge({ online: [entry(x, T0 - 70)], offline: [] }, 'test');
    expect((await unserved.e.syncWith(P_URL)).ok).toBe(true);
    expect(unserved.requests).toHaveLength(2);
    expect(unserved.e.stats()).toMatchObject({ exchangesOk: 1, syncsRepaired: 1 });
  });

  it('a second leg with only our state, or only a want, is sent; a third leg with only state too', async () => {
    const [x] = urlsInBucket(7, 1, 'v');
    const unlisted = urlsInBucket(8, 1, 'r')[0];
    // the peer's digest shows it holds our entry as we do, but none of our state
    const self = (e: ClusterEngine): [string, number, number, number] => [E_URL, e.self().lastUpdate, 0, 0];
    const replies1: SyncMessage[] = [{ message: 'sync', hash: 'f', digest: [], complete: [] }, { message: 'sync' }];
    const one = asker(replies1);
    one.e.setLocalState('k', 1);
    replies1[0].digest = [self(one.e)];
    await one.e.syncWith(P_URL);
    expect(one.requests).toHaveLength(2);
    expect(one.requests[1]).toEqual({ message: 'sync', state: [expect.objectContaining({ server: E_URL, from: 0, entries: [expect.objectContaining({ key: 'k', value: 1 })] })] });
    // the peer lists a server we do not hold: only a want goes
    const two = asker([{ message: 'sync', hash: 'f', digest: [[unlisted, T0 - 5, 0, 0]], complete: [] }, { message: 'sync' }]);
    await two.e.syncWith(P_URL);
    expect(two.requests[1]).toEqual({ message: 'sync', want: [[unlisted, 0, 0, 0]] });
    // the second answer wants our state only: a third leg with it
    const replies3: SyncMessage[] = [{ message: 'sync', hash: 'f', digest: [], complete: [7] }, { message: 'sync' }, { message: 'sync' }];
    const three = asker(replies3);
    three.e.merge({ online: [entry(x, T0 - 70)], offline: [] }, 'test');
    three.e.setLocalState('k', 2);
    replies3[1].want = [self(three.e)];
    await three.e.syncWith(P_URL);
    expect(three.requests).toHaveLength(3);
    expect(three.requests[2]).toEqual({ message: 'sync', state: [expect.objectContaining({ server: E_URL, entries: [expect.objectContaining({ key: 'k', value: 2 })] })] });
  });

  it('after a successful sync, equal or repaired, the peer is no longer taken for one that answers 404 everywhere', async () => {
    for (const answer of [{ message: 'sync', hash: 'f' }, { message: 'sync', hash: 'f', digest: [], complete: [] }] as SyncMessage[]) {
      const replies: SyncMessage[] = [];
      const { e, requests } = asker(replies);
      expect((await e.syncWith(P_URL)).ok).toBe(false); // 404 to the sync and to the gossip
      expect(e.peersNotFound(60_000)).toEqual([P_URL]);
      replies.push(answer);
      expect((await e.syncWith(P_URL)).ok).toBe(true);
      expect(requests).toHaveLength(2);
      expect(e.peersNotFound(60_000)).toEqual([]);
    }
  });
});

describe('anti-entropy: the first answer within the message budget', () => {
  const nowhere = () => Promise.reject(new Error('not used'));
  /** P with `servers` added to its view; the first leg a P-like engine holding only itself would send. */
  async function setup(servers: string[], messageBudgetBytes?: number) {
    const settings = { selfUrl: P_URL, probeIntervalMs: 0, ...(messageBudgetBytes ? { messageBudgetBytes } : {}) };
    const p = new ClusterEngine(settings, { now: () => T0, random: seededRandom(6), transport: { probe: nowhere, exchange: nowhere, sync: nowhere } });
    p.start();
    p.merge({ online: servers.map((u) => entry(u, T0 - 100)), offline: [] }, 'test');
    let first: SyncMessage | undefined;
    const q = new ClusterEngine({ selfUrl: P_URL, probeIntervalMs: 0 }, { now: () => T0, random: () => 0.5, transport: { probe: nowhere, exchange: nowhere, sync: async (_peer, m) => ((first = clone(m)), { message: 'sync' }) } });
    q.start();
    await q.syncWith(E_URL);
    if (!first) throw new Error('the asking engine sent no first leg');
    return { p, first };
  }
  /** A bucket holding neither P nor E. */
  const free = (n: number) => Array.from({ length: 64 }, (_, b) => b).filter((b) => ![P_URL, E_URL].some((u) => leafOf(u) >>> 6 === b)).slice(0, n);

  it('a differing bucket of 8 servers goes as entries, one of 9 as leaf hashes', async () => {
    const [b] = free(1);
    const nine = urlsInBucket(b, 9, 'n');
    const small = await setup(nine.slice(0, 8));
    const reply8 = small.p.handleSync(small.first);
    expect(reply8.complete).toEqual([b]);
    expect(reply8.digest!.map((d) => d[0]).sort()).toEqual(nine.slice(0, 8).sort());
    expect(reply8.leaves).toBeUndefined();
    const big = await setup(nine);
    const reply9 = big.p.handleSync(big.first);
    expect(reply9).toEqual({ message: 'sync', hash: big.p.viewHash(), digest: [], complete: [], leaves: [{ bucket: b, hashes: expect.any(String) }] });
  });

  it('a bucket whose entries do not all fit goes as a random part of them, with no range given whole', async () => {
    const [b] = free(1);
    const eight = urlsInBucket(b, 8, 'm');
    const size = digestEntryBytes(eight[0]);
    const whole = (await setup(eight, SYNC_ENVELOPE_BYTES + 8 * size + String(b).length + 1)).p;
    expect(whole.handleSync((await setup(eight)).first)).toMatchObject({ complete: [b] });
    const { p, first } = await setup(eight, SYNC_ENVELOPE_BYTES + 8 * size + String(b).length);
    const reply = p.handleSync(first);
    expect(reply.complete).toEqual([]);
    expect(reply.digest).toHaveLength(8);
    const part = (await setup(eight, SYNC_ENVELOPE_BYTES + 5 * size + 2)).p.handleSync(first);
    expect(part.complete).toEqual([]);
    expect(part.digest).toHaveLength(5);
    for (const d of part.digest!) expect(eight).toContain(d[0]);
  });

  it('big buckets\' leaf hashes go while they fit (LEAF_HASHES_BYTES each)', async () => {
    const buckets = free(3);
    const servers = buckets.flatMap((b, i) => urlsInBucket(b, 9, `l${i}x`));
    const count = async (budget: number) => {
      const { p, first } = await setup(servers, budget);
      return p.handleSync(first).leaves?.length ?? 0;
    };
    expect(await count(SYNC_ENVELOPE_BYTES + 3 * LEAF_HASHES_BYTES)).toBe(3);
    expect(await count(SYNC_ENVELOPE_BYTES + 3 * LEAF_HASHES_BYTES - 1)).toBe(2);
    expect(await count(SYNC_ENVELOPE_BYTES + LEAF_HASHES_BYTES)).toBe(1);
  });
});

describe('AntiEntropy without a log', () => {
  it('fails quietly: a 404 to sync and gossip, and another failure, each counted and returned', async () => {
    const now = () => T0;
    const settings = { ...DEFAULT_ENGINE_SETTINGS, selfUrl: E_URL, probeIntervalMs: 0 };
    const unitLog = new RateLimitedLog(undefined, now);
    const peers = new PeerBook(E_URL, { now });
    const membership = new Membership(settings, { now, peers, awareness: new Awareness(8, 2000), log: unitLog });
    const dissemination = new Dissemination(settings, membership, peers);
    const replication = new StateReplication(E_URL, { ...DEFAULT_STATE_LIMITS }, membership, dissemination, { now, log: unitLog });
    let failure: Error = Object.assign(new Error('HTTP 404'), { status: 404 });
    const transport: GossipTransport = { probe: () => Promise.reject(failure), sync: () => Promise.reject(failure), exchange: () => Promise.reject(failure) };
    const antiEntropy = new AntiEntropy(settings, membership, replication, peers, { transport, random: () => 0.5, now });
    membership.start();
    membership.merge({ online: [entry(P_URL, T0 - 100)], offline: [] }, 'test');
    expect(await antiEntropy.syncWith(P_URL)).toEqual({ peer: P_URL, ok: false, error: 'HTTP 404', changes: [] });
    expect(peers.notFoundSince(T0)).toEqual([P_URL]);
    failure = new Error('socket hang up');
    expect(await antiEntropy.syncWith(P_URL)).toEqual({ peer: P_URL, ok: false, error: 'socket hang up', changes: [] });
    expect(await antiEntropy.exchangeWith(P_URL)).toEqual({ peer: P_URL, ok: false, error: 'socket hang up', changes: [] });
    expect(antiEntropy.stats).toMatchObject({ exchangesOk: 0, exchangesFailed: 3 });
  });
});
