/**
 * This server's own address: the self-check schedule, and two processes claiming one base URL
 * (see docs/protocol.md, "Address conflicts"), on real engines over the in-memory network,
 * driven by hand on one clock. `reach` says which process a request to the shared URL reaches
 * (none: it times out), as a load balancer or a port mapping would.
 */
import { AddressConflictDetector, ClusterEngine, type EngineLifecycleEvent, type GossipTransport, type MemberEntry, type StateChange } from '../../lib/core/index.js';
import { InMemoryNetwork, type RequestFate } from '../../sim/in-memory-network.js';
import { seededRandom } from '../../sim/virtual-cluster.js';

const T0 = 1_800_000_000_000;
const SHARED = 'http://shared.test:1/';
const PEER = 'http://peer.test:1/';

class Net {
  time = T0;
  /** Requests sent, by the process that sent them (twins share a URL, so not by URL). */
  readonly sent = new Map<ClusterEngine, number>();
  /** Sync requests sent to each URL (the self-check's sync-endpoint check among them). */
  readonly syncs = new Map<string, number>();
  /** URLs whose server has no sync endpoint (an app that mounts probe but not sync: 404), or whose syncs time out. */
  readonly syncFails = new Map<string, 'not-found' | 'timeout'>();
  private sender?: ClusterEngine;
  readonly network: InMemoryNetwork = new InMemoryNetwork({
    hooks: {
      fate: (_from, to): RequestFate => (this.network.engine(to) ? 'deliver' : 'drop'),
      onRequest: () => {
        if (this.sender) this.sent.set(this.sender, (this.sent.get(this.sender) ?? 0) + 1);
      },
    },
  });

  add(url: string, reach = true): ClusterEngine {
    const engine: ClusterEngine = new ClusterEngine({ selfUrl: url, probeIntervalMs: 1000 }, { now: () => this.time, random: seededRandom(this.sent.size + 3), transport: this.transport(url, () => engine) });
    this.sent.set(engine, 0);
    if (reach) this.network.attach(url, engine);
    engine.start();
    return engine;
  }

  /** Requests to `url` now reach `engine` (undefined: nothing answers there). */
  reach(url: string, engine: ClusterEngine | undefined): void {
    if (engine) this.network.attach(url, engine);
    else this.network.detach(url);
  }

  /** The transport of a process at `url`, counting what it sends. */
  private transport(url: string, self: () => ClusterEngine): GossipTransport {
    const inner = this.network.transportFor(url);
    const as = <T>(run: () => Promise<T>): Promise<T> => {
      this.sender = self();
      const result = run();
      this.sender = undefined;
      return result;
    };
    return {
      exchange: (peer, m, t) => as(() => inner.exchange(peer, m, t)),
      probe: (peer, m, t) => as(() => inner.probe(peer, m, t)),
      sync: (peer, m) => {
        this.syncs.set(peer, (this.syncs.get(peer) ?? 0) + 1);
        const fails = this.syncFails.get(peer);
        if (fails) return Promise.reject(fails === 'not-found' ? Object.assign(new Error('HTTP 404'), { status: 404 }) : new Error('timed out'));
        return as(() => inner.sync(peer, m));
      },
    };
  }
}

/** Lets the promise chains a tick started (a self-check it did not await) run to their end. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

async function maintainAt(net: Net, engine: ClusterEngine, time: number): Promise<void> {
  net.time = time;
  engine.maintain();
  await settle();
}

/** An original at SHARED that the URL reaches, a peer that knows it, and a twin started later at the same URL. */
async function twins(net: Net) {
  const original = net.add(SHARED);
  const peer = net.add(PEER);
  peer.merge({ online: [original.self()] }, 'test');
  original.merge({ online: [peer.self()] }, 'test');
  original.setLocalState('who', 'original');
  await original.syncWith(PEER);
  net.time += 5_000;
  const twin = net.add(SHARED, false);
  twin.addSeeds([PEER]);
  return { original, peer, twin };
}

/** Runs the twin's self-check (2 s after its start): the URL reaches the original, so the twin yields. */
async function twinYields(net: Net, twin: ClusterEngine): Promise<void> {
  await maintainAt(net, twin, net.time + 2_000);
  expect(twin.conflict()?.role).toBe('yielded');
}

describe('own address', () => {
  it('checks its own URL 2 s after start, then every 60 s, and every 5 s after a failure, counting failures in a row', async () => {
    const net = new Net();
    const e = net.add(SHARED);
    expect(e.addressCheck()).toBeUndefined();
    await maintainAt(net, e, T0 + 1_999);
    expect(e.addressCheck()).toBeUndefined();
    await maintainAt(net, e, T0 + 2_000);
    expect(e.addressCheck()).toEqual({ at: T0 + 2_000, result: { result: 'self' }, failuresInARow: 0, syncEndpoint: 'ok' });
    await maintainAt(net, e, T0 + 61_999);
    expect(e.addressCheck()?.at).toBe(T0 + 2_000);
    net.reach(SHARED, undefined); // the URL stops reaching it
    await maintainAt(net, e, T0 + 62_000);
    expect(e.addressCheck()).toEqual({ at: T0 + 62_000, result: { result: 'unreachable', reason: 'timed out' }, failuresInARow: 1, syncEndpoint: 'ok' });
    await maintainAt(net, e, T0 + 66_999);
    expect(e.addressCheck()?.failuresInARow).toBe(1);
    await maintainAt(net, e, T0 + 67_000);
    expect(e.addressCheck()).toMatchObject({ at: T0 + 67_000, failuresInARow: 2 });
    net.reach(SHARED, e);
    await maintainAt(net, e, T0 + 72_000);
    expect(e.addressCheck()).toEqual({ at: T0 + 72_000, result: { result: 'self' }, failuresInARow: 0, syncEndpoint: 'ok' });
    await maintainAt(net, e, T0 + 77_000);
    expect(e.addressCheck()?.at).toBe(T0 + 72_000); // back to once a minute
    expect(net.sent.get(e)).toBe(5); // four probes, and one sync (the sync endpoint, checked once)
    expect(net.syncs.get(SHARED)).toBe(1);
  });

  it('checks once per run that its own URL answers sync too: 404 there is recorded as not-found, and changes nothing', async () => {
    const net = new Net();
    net.syncFails.set(SHARED, 'not-found');
    const e = net.add(SHARED);
    e.setLocalState('k', 'v');
    await maintainAt(net, e, T0 + 2_000);
    expect(e.addressCheck()).toEqual({ at: T0 + 2_000, result: { result: 'self' }, failuresInARow: 0, syncEndpoint: 'not-found' });
    await maintainAt(net, e, T0 + 62_000);
    await maintainAt(net, e, T0 + 122_000);
    expect(e.addressCheck()).toMatchObject({ at: T0 + 122_000, syncEndpoint: 'not-found' });
    expect(net.syncs.get(SHARED)).toBe(1); // once per run, not at every self-check
    // a new run checks again; an app that now mounts sync answers it
    e.stop();
    net.syncFails.clear();
    e.start();
    await maintainAt(net, e, net.time + 1_999);
    const before = { view: e.snapshot(), state: e.stateSnapshot(), version: e.stateVersion(SHARED) };
    await maintainAt(net, e, net.time + 1);
    expect(e.addressCheck()).toMatchObject({ result: { result: 'self' }, syncEndpoint: 'ok' });
    expect(net.syncs.get(SHARED)).toBe(2);
    // the sync it sent itself (empty: no digest, no want) changed nothing
    expect({ view: e.snapshot(), state: e.stateSnapshot(), version: e.stateVersion(SHARED) }).toEqual(before);
  });

  it('checks the sync endpoint only once the URL reached this process, and after a failure other than 404, again at the next self-check', async () => {
    const net = new Net();
    const e = net.add(SHARED, false); // the URL reaches nothing yet
    await maintainAt(net, e, T0 + 2_000);
    expect(e.addressCheck()).toMatchObject({ result: { result: 'unreachable' }, syncEndpoint: 'unknown' });
    expect(net.syncs.get(SHARED)).toBeUndefined();
    net.reach(SHARED, e);
    net.syncFails.set(SHARED, 'timeout');
    await maintainAt(net, e, T0 + 7_000);
    expect(e.addressCheck()).toMatchObject({ result: { result: 'self' }, syncEndpoint: 'unknown' });
    net.syncFails.clear();
    await maintainAt(net, e, T0 + 67_000);
    expect(e.addressCheck()).toMatchObject({ result: { result: 'self' }, syncEndpoint: 'ok' });
    expect(net.syncs.get(SHARED)).toBe(2);
  });

  it('a twin whose URL reaches the original yields at its first self-check; the original keeps the URL and reports it', async () => {
    const net = new Net();
    const { original, twin } = await twins(net);
    await twinYields(net, twin);
    expect(twin.conflict()).toMatchObject({ url: SHARED, generation: twin.generation, rivalGeneration: original.generation });
    expect(original.conflict()).toMatchObject({ role: 'kept', rivalGeneration: twin.generation });
  });

  it('a self-check from a generation no process could have (from the future, malformed) raises no conflict', async () => {
    const net = new Net();
    const e = net.add(SHARED);
    for (const selfCheck of [T0 + 3_600_000, -5, 1.5]) await e.handleProbe({ message: 'probe', online: [], offline: [], selfCheck });
    expect(e.conflict()).toBeUndefined();
    await e.handleProbe({ message: 'probe', online: [], offline: [], selfCheck: T0 - 60_000 });
    expect(e.conflict()).toMatchObject({ role: 'kept', rivalGeneration: T0 - 60_000 });
  });

  it('while yielded, it keeps its own housekeeping (keys expire, tombstones go) but sends nothing, and a leave tells nobody', async () => {
    const net = new Net();
    const { peer, twin } = await twins(net);
    peer.setLocalState('lease', 'held', net.time + 10_000);
    await twin.syncWith(PEER); // the twin holds the peer's expiring key
    expect(twin.peerValue(PEER, 'lease')).toBe('held');
    const events: StateChange[] = [];
    twin.onStateChange((c) => events.push(c));
    await twinYields(net, twin);
    const sentWhenYielded = net.sent.get(twin)!;
    net.time += 11_000;
    await twin.probeTick();
    await twin.pushTick();
    expect(events).toContainEqual(expect.objectContaining({ type: 'expire', server: PEER, key: 'lease' }));
    expect(net.sent.get(twin)).toBe(sentWhenYielded);
    // the URL is the original's: a leave of the twin's must not reach anyone
    const before = peer.member(SHARED);
    expect(await twin.leave(3)).toEqual([]);
    expect(net.sent.get(twin)).toBe(sentWhenYielded);
    expect(peer.member(SHARED)).toEqual(before);
    expect(twin.isRunning).toBe(false);
  });

  it('takes the address back once the URL reaches it, as a new generation whose keys, written before and after, reach its peers', async () => {
    const net = new Net();
    const { original, peer, twin } = await twins(net);
    twin.setLocalState('before', 'twin');
    await twinYields(net, twin);
    const yieldedGeneration = twin.generation;
    // the original's host goes; the URL now reaches the twin
    original.stop();
    net.reach(SHARED, twin);
    net.time += 30_000;
    await twin.gossipRound();
    expect(twin.conflict()).toBeUndefined();
    expect(twin.generation).toBeGreaterThan(yieldedGeneration);
    twin.setLocalState('after', 'twin');
    for (let i = 0; i < 2; i++) {
      await twin.syncWith(PEER);
      await peer.syncWith(SHARED);
    }
    expect(peer.member(SHARED)).toMatchObject({ online: true, generation: twin.generation });
    expect(peer.stateOf(SHARED)).toEqual({ before: 'twin', after: 'twin' });
    expect(peer.viewHash()).toBe(twin.viewHash());
  });

  it('stopped and started again, the same engine is a new generation whose keys reach its peers, and it announces them again', async () => {
    const net = new Net();
    const a = net.add(SHARED);
    const peer = net.add(PEER);
    peer.merge({ online: [a.self()] }, 'test');
    a.merge({ online: [peer.self()] }, 'test');
    a.setLocalState('before', 1);
    await a.gossipRound();
    expect(peer.stateOf(SHARED)).toEqual({ before: 1 });
    const lifecycle: EngineLifecycleEvent[] = [];
    a.onLifecycle((event) => lifecycle.push(event));
    a.stop();
    net.time += 10_000;
    a.start();
    expect(a.joinState()).toBe('joining');
    a.setLocalState('after', 2);
    await a.gossipRound();
    await a.gossipRound();
    expect(lifecycle).toEqual(['stopped', 'started', 'joined']);
    expect(peer.member(SHARED)?.generation).toBe(a.generation);
    expect(peer.stateOf(SHARED)).toEqual({ before: 1, after: 2 });
    expect(peer.viewHash()).toBe(a.viewHash());
  });

  it('yielded to an older process that the URL does not reach either, it takes the address back once the cluster declares that process offline', async () => {
    const net = new Net();
    // the URL reaches neither process (a base URL behind a balancer that routes elsewhere)
    const original = net.add(SHARED, false);
    const peer = net.add(PEER);
    peer.merge({ online: [original.self()] }, 'test');
    original.merge({ online: [peer.self()] }, 'test');
    original.setLocalState('who', 'original');
    net.time += 5_000;
    const twin = net.add(SHARED, false);
    twin.merge({ online: [peer.self()] }, 'test');
    twin.setLocalState('who', 'twin');
    // each refutes the other's word about "itself", through the peer, until the conflict is declared
    for (let i = 0; i < 10 && !(original.conflict()?.role === 'kept' && twin.conflict()?.role === 'yielded'); i++) {
      await original.syncWith(PEER);
      await twin.syncWith(PEER);
      await settle();
      net.time += 1_000;
    }
    expect({ original: original.conflict()?.role, twin: twin.conflict()?.role }).toEqual({ original: 'kept', twin: 'yielded' });
    const yieldedGeneration = twin.generation;
    const yieldedAt = net.time;
    // the older process dies; its self-checks never reached it, nor will the twin's
    original.stop();
    for (let i = 0; i < 60 && peer.member(SHARED)?.online !== false; i++) {
      net.time += 1_000;
      await peer.probeTick();
    }
    expect(peer.member(SHARED)).toMatchObject({ online: false, by: PEER, generation: original.generation });
    // the twin looks again within its recheck interval, hears the verdict and takes the URL back
    net.time = Math.max(net.time, yieldedAt + 30_000);
    await twin.gossipRound();
    expect(twin.conflict()).toBeUndefined();
    expect(twin.generation).toBeGreaterThan(yieldedGeneration);
    for (let i = 0; i < 2; i++) await twin.gossipRound();
    expect(peer.member(SHARED)).toMatchObject({ online: true, generation: twin.generation });
    expect(peer.stateOf(SHARED)).toEqual({ who: 'twin' });
  });

  it('the rival is gone when the cluster declares it offline, or when it left (once per generation: a drained process says the same, alive)', () => {
    const d = new AddressConflictDetector(SHARED);
    const rival = T0;
    const word = (lastUpdate: number, extra: Pick<MemberEntry, 'online'> & Partial<MemberEntry>): MemberEntry => ({ baseUrl: SHARED, monitor: false, lastUpdate, generation: rival, ...extra });
    d.declare(rival, T0 + 5_000, 'yielded', T0 + 6_000);
    d.noteRivalWord(word(T0 + 7_000, { online: true }));
    expect(d.rivalGone()).toBeUndefined();
    d.noteRivalWord(word(T0 + 6_000, { online: false })); // older than the word held: ignored
    expect(d.rivalGone()).toBeUndefined();
    d.noteRivalWord(word(T0 + 8_000, { online: false }));
    expect(d.rivalGone()).toBe('left');
    d.noteTakenBack('left', rival);
    expect(d.conflict).toBeUndefined();
    // the same process fights again (it was drained, not gone) and wins: its "offline" no longer counts
    d.declare(rival, T0 + 9_000, 'yielded', T0 + 10_000);
    d.noteRivalWord(word(T0 + 11_000, { online: false }));
    expect(d.rivalGone()).toBeUndefined();
    // declared offline by another server: it failed
    d.noteRivalWord(word(T0 + 12_000, { online: false, by: PEER }));
    expect(d.rivalGone()).toBe('failed');
  });
});
