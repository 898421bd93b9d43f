/**
 * ClusterEngine's own wiring, pinned where the mutation run found it free: the lifecycle and
 * join state, the stats it sums, the sources it names in log lines, the indirect-probe answer,
 * the ticks' early returns (stopped, probing off, yielded), the reconnect sync, the tick-end
 * mark Lifeguard's lateness check needs, pruning of forgotten processes, leave's batches,
 * timeout and page-format peers, and the probe messages it sends. Real engines on the
 * in-memory network (immediate mode: no time passes unless a test moves the clock).
 */
import { ClusterEngine, type GossipTransport, type MemberEntry, type ProbeMessage } from '../../lib/core/index.js';
import { InMemoryNetwork, type NetworkHooks } from '../../sim/in-memory-network.js';

const T0 = 1_800_000_000_000;
const url = (name: string) => `http://${name}.test:1/`;
const notFound = () => Object.assign(new Error('HTTP 404'), { status: 404 });

interface Sent {
  from: string;
  to: string;
  endpoint: 'gossip' | 'probe' | 'sync';
  message: Record<string, unknown>;
}

/**
 * Engines on one in-memory network, each with its transport wrapped so a test can see probe
 * timeouts, make a peer answer 404 (a page-format peer: probe and sync missing; or nothing of
 * ours at all), fail a sender's direct probes, or move the clock while a probe is in flight.
 */
function cluster(names: string[], settings: Record<string, unknown> = {}, hooks: NetworkHooks = {}) {
  const clock = { now: T0 };
  const sent: Sent[] = [];
  const timeouts: Array<[string, string, number]> = [];
  const warnings: string[] = [];
  const rules = {
    /** Answer 404 to probe and sync (the page's gossip only). */
    pageOnly: new Set<string>(),
    /** Answer 404 to everything. */
    missing: new Set<string>(),
    /** Senders whose probes without a target time out. */
    directLost: new Set<string>(),
    /** Moves the clock while a probe is in flight (a slow tick). */
    probeTakes: 0,
  };
  const network = new InMemoryNetwork({ hooks });
  const note = (from: string, to: string, endpoint: Sent['endpoint'], message: object) => sent.push({ from, to, endpoint, message: message as Record<string, unknown> });
  const engines = new Map<string, ClusterEngine>();
  const wrap = (from: string, inner: GossipTransport): GossipTransport => ({
    exchange: async (peer, message, timeoutMs) => {
      note(from, peer, 'gossip', message);
      if (rules.missing.has(peer)) throw notFound();
      return inner.exchange(peer, message, timeoutMs);
    },
    probe: async (peer, message, timeoutMs) => {
      note(from, peer, 'probe', message);
      timeouts.push([from, peer, timeoutMs]);
      clock.now += rules.probeTakes;
      if (rules.pageOnly.has(peer) || rules.missing.has(peer)) throw notFound();
      if (rules.directLost.has(from) && message.target === undefined) throw new Error('timed out');
      return inner.probe(peer, message, timeoutMs);
    },
    sync: async (peer, message) => {
      note(from, peer, 'sync', message);
      if (rules.pageOnly.has(peer) || rules.missing.has(peer)) throw notFound();
      return inner.sync(peer, message);
    },
  });
  const add = (name: string, start = true) => {
    const engine = new ClusterEngine(
      { selfUrl: url(name), probeIntervalMs: 0, offlineProbeProbability: 0, ...settings },
      { now: () => clock.now, random: () => 0.999, transport: wrap(url(name), network.transportFor(url(name))), log: { warn: (m) => warnings.push(`${name}: ${m}`), debug: () => {} } },
    );
    if (start) engine.start();
    engines.set(name, engine);
    network.attach(url(name), engine);
    return engine;
  };
  for (const name of names) add(name);
  for (const a of engines.values()) for (const b of engines.values()) if (a !== b) a.merge({ online: [b.self()] }, 'test');
  return { clock, network, engines, sent, timeouts, warnings, rules, add, get: (name: string) => engines.get(name)! };
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('ClusterEngine: lifecycle, join state, reading the view', () => {
  it('an engine never started is alone (or joining once it knows a seed), and its view is empty', () => {
    const { add } = cluster([]);
    const engine = add('a', false);
    expect(engine.joinState()).toBe('alone');
    expect(engine.viewSize).toBe(0);
    expect(engine.seeds()).toEqual([]);
    engine.addSeeds([url('b'), url('c')]);
    expect(engine.seeds()).toEqual([url('b'), url('c')]);
    expect(engine.joinState()).toBe('joining');
  });

  it('viewSize counts every entry, this server included', () => {
    const { get } = cluster(['a', 'b', 'c']);
    expect(get('a').viewSize).toBe(3);
  });

  it('preload tells listeners `preloaded` and makes the process joined', () => {
    const { get } = cluster(['a', 'b']);
    const events: string[] = [];
    get('a').onLifecycle((e) => events.push(e));
    expect(get('a').joinState()).toBe('joining');
    get('a').preload([get('b').self()]);
    expect(events).toEqual(['preloaded']);
    expect(get('a').joinState()).toBe('joined');
  });

  it('an unsubscribed lifecycle listener hears nothing more', () => {
    const { add } = cluster([]);
    const engine = add('a', false);
    const events: string[] = [];
    const off = engine.onLifecycle((e) => events.push(e));
    engine.start();
    off();
    engine.stop();
    expect(events).toEqual(['started']);
  });

  it('a lifecycle listener that throws is logged as one, and the others still hear the event', () => {
    const { add, warnings } = cluster([]);
    const engine = add('a', false);
    const events: string[] = [];
    engine.onLifecycle(() => {
      throw new Error('boom');
    });
    engine.onLifecycle((e) => events.push(e));
    engine.start();
    expect(events).toEqual(['started']);
    expect(warnings).toEqual(['a: lifecycle listener threw: boom']);
  });

  it('entriesRefused adds the seeds refused to the entries refused', () => {
    const { get } = cluster(['a']);
    get('a').addSeeds(['not a url', 'ftp://x.test/']);
    expect(get('a').stats().entriesRefused).toBe(2);
  });
});

describe('ClusterEngine: sources named in log lines', () => {
  it('an entry stamped in the future names the master list or the probe it came in', async () => {
    const { get, warnings } = cluster(['a', 'b']);
    const future = { baseUrl: url('x'), monitor: false, lastUpdate: T0 + 3_600_000 };
    get('a').mergeMasterList({ online: [future] });
    expect(warnings.filter((w) => w.includes('in the future'))).toEqual([expect.stringContaining(`refused ${url('x')} from master list:`)]);
    const { get: get2, warnings: warnings2 } = cluster(['a']);
    await get2('a').handleProbe({ message: 'probe', online: [future], offline: [] });
    expect(warnings2.filter((w) => w.includes('in the future'))).toEqual([expect.stringContaining(`refused ${url('x')} from probe:`)]);
  });

  it('key/value state refused from a probe names the probe', async () => {
    const { get, warnings } = cluster(['a', 'b']);
    const bad = { server: url('b'), from: 0, to: 1, entries: [{ key: 'k', version: 5, value: 1 }] };
    await get('a').handleProbe({ message: 'probe', online: [], offline: [], state: [bad] } as unknown as ProbeMessage);
    expect(warnings).toEqual([`a: refused key/value state of "${url('b')}" from probe: key "k": version outside the delta (do all servers use the same state limits?)`]);
  });
});

describe('ClusterEngine.handleProbe: the answer', () => {
  it("a probe without a target is answered 'ack'", async () => {
    const { get } = cluster(['a', 'b']);
    expect(await get('a').handleProbe({ message: 'probe', online: [], offline: [] })).toMatchObject({ message: 'ack', ack: true });
  });

  it('an indirect probe reports the target: acked, refused (flagged), and our own URL or a malformed one never probed', async () => {
    const { get, sent } = cluster(['a', 'b', 'c']);
    const acked = await get('a').handleProbe({ message: 'probe', target: url('b'), online: [], offline: [] });
    expect(acked).toMatchObject({ message: 'ack', ack: true });
    expect(acked).not.toHaveProperty('refused');
    const refused = await get('a').handleProbe({ message: 'probe', target: url('gone'), online: [], offline: [] });
    expect(refused).toMatchObject({ message: 'ack', ack: false, refused: true });
    sent.length = 0;
    for (const target of [url('a'), 'not a url']) {
      const answer = await get('a').handleProbe({ message: 'probe', target, online: [], offline: [] });
      expect(answer).toMatchObject({ message: 'ack', ack: false });
      expect(answer).not.toHaveProperty('refused');
    }
    expect(sent).toEqual([]);
  });
});

describe('ClusterEngine ticks: early returns', () => {
  it('a stopped engine does no gossip round and no probe tick, and sends nothing', async () => {
    const { get, sent } = cluster(['a', 'b'], { probeIntervalMs: 1000 });
    get('a').stop();
    sent.length = 0;
    expect(await get('a').gossipRound()).toEqual({ peer: null, ok: false, error: 'not running', changes: [] });
    expect(await get('a').probeTick()).toEqual({ kind: 'idle' });
    expect(sent).toEqual([]);
  });

  it('probing off (probeIntervalMs 0) makes probeTick idle', async () => {
    const { get, sent } = cluster(['a', 'b'], { probeIntervalMs: 0 });
    expect(await get('a').probeTick()).toEqual({ kind: 'idle' });
    expect(sent).toEqual([]);
  });

  it('a push fanout below zero pushes nothing', async () => {
    const { get, sent } = cluster(['a', 'b', 'c'], { pushFanout: -1 });
    get('a').setLocalState('k', 1);
    expect(await get('a').pushTick()).toBe(0);
    expect(sent).toEqual([]);
  });

  it('pushes are counted in stats, and the acks bring the peers’ waiting key/value changes', async () => {
    const { get } = cluster(['a', 'b', 'c'], { pushFanout: 2 });
    get('b').setLocalState('from-b', 'hello');
    get('a').setLocalState('from-a', 1);
    expect(await get('a').pushTick()).toBe(2);
    expect(get('a').stats().pushesSent).toBe(2);
    expect(get('a').peerValue(url('b'), 'from-b')).toBe('hello');
  });

  it('a process that yielded its URL to a twin gossips and probes nothing', async () => {
    const { clock, get, network, sent } = cluster(['a', 'b'], { probeIntervalMs: 1000 });
    clock.now = T0 + 5;
    // a second process with a's URL; the URL keeps reaching a
    const twin = new ClusterEngine(
      { selfUrl: url('a'), probeIntervalMs: 1000, offlineProbeProbability: 0 },
      { now: () => clock.now, random: () => 0.999, transport: network.transportFor(url('a')) },
    );
    twin.start();
    twin.merge({ online: [get('b').self()] }, 'test');
    clock.now = T0 + 3000; // its first self-check is due: it finds a at its URL and yields
    twin.maintain();
    await settle();
    expect(twin.conflict()?.role).toBe('yielded');
    sent.length = 0;
    expect(await twin.gossipRound()).toEqual({ peer: null, ok: false, error: 'address yielded to another process', changes: [] });
    expect(await twin.probeTick()).toEqual({ kind: 'idle' });
    expect(sent).toEqual([]);
  });
});

describe('ClusterEngine.probeTick: reconnects and lateness', () => {
  it('a seed that answers a reconnect probe is synced with at once (the process joins)', async () => {
    const { add, sent } = cluster(['b'], { probeIntervalMs: 1000 });
    const a = add('a');
    const events: string[] = [];
    a.onLifecycle((e) => events.push(e));
    a.addSeeds([url('b')]);
    // no online peer known: the tick's probe goes to the seed
    const outcome = await a.probeTick();
    expect(outcome).toEqual({ kind: 'reconnected', target: url('b') });
    expect(sent.filter((s) => s.from === url('a')).map((s) => s.endpoint)).toEqual(['probe', 'sync']);
    expect(events).toEqual(['joined']);
  });

  it('a tick answered normally is not followed by a sync', async () => {
    const { get, sent } = cluster(['a', 'b'], { probeIntervalMs: 1000 });
    expect(await get('a').probeTick()).toEqual({ kind: 'alive', target: url('b'), via: 'direct' });
    expect(sent.map((s) => s.endpoint)).toEqual(['probe']);
  });

  it('a tick that ran long (waiting on a slow ack) does not make the next one late', async () => {
    const { get, clock, rules } = cluster(['a', 'b'], { probeIntervalMs: 1000, probeTimeoutMs: 500 });
    rules.probeTakes = 5000;
    expect(await get('a').probeTick()).toMatchObject({ kind: 'alive' });
    rules.probeTakes = 0;
    rules.directLost.add(url('a')); // b stops answering: with no pause behind us, b is suspected
    expect(clock.now).toBe(T0 + 5000);
    expect(await get('a').probeTick()).toEqual({ kind: 'suspected', target: url('b') });
    expect(get('a').stats()).toMatchObject({ accusationsWithheld: 0, suspicionsRaised: 1 });
  });

  it('after a late tick (a pause), accusations wait two probe intervals', async () => {
    const { get, clock, rules } = cluster(['a', 'b'], { probeIntervalMs: 1000, probeTimeoutMs: 500 });
    expect(await get('a').probeTick()).toMatchObject({ kind: 'alive' });
    clock.now = T0 + 5000; // the next tick comes 4 s late: we were paused
    expect(await get('a').probeTick()).toMatchObject({ kind: 'alive' });
    rules.directLost.add(url('a'));
    clock.now = T0 + 6400; // on time, and within 2 intervals of the pause
    expect(await get('a').probeTick()).toEqual({ kind: 'withheld', target: url('b') });
  });
});

describe('ClusterEngine: what it remembers of processes', () => {
  it('a peer that restarts (a new generation) is no longer remembered as answering 404', async () => {
    const { get, rules } = cluster(['a', 'b']);
    rules.missing.add(url('b'));
    expect(await get('a').syncWith(url('b'))).toMatchObject({ ok: false });
    expect(get('a').peersNotFound(60_000)).toEqual([url('b')]);
    get('a').merge({ online: [{ ...get('b').self(), lastUpdate: T0 + 1, generation: T0 + 1 }] }, 'test');
    expect(get('a').peersNotFound(60_000)).toEqual([]);
  });

  /**
   * b refuses every probe (ours and the helper's). Returns what a's tick says of it: `starting`
   * when a learnt of b's process only now, `refused` (declared offline) when a has known it long.
   */
  async function refusedOutcome(rejoining: boolean): Promise<unknown> {
    const { get, clock, network } = cluster(['a', 'c'], { probeIntervalMs: 1000, retentionMs: 100_000 });
    const a = get('a');
    const b = url('x0');
    network.detach(b);
    // 70 servers a learnt of, that then age out of its view
    a.merge({ online: [], offline: Array.from({ length: 70 }, (_, i) => ({ baseUrl: url(`x${i}`), monitor: false, lastUpdate: T0, generation: T0 })) }, 'test');
    clock.now = T0 + 150_000;
    a.merge({ online: [{ ...get('c').self(), lastUpdate: clock.now }] }, 'test'); // c stays
    a.maintain(); // sweeps the 70 out
    expect(a.viewSize).toBe(2);
    const fresh = { baseUrl: b, monitor: false, lastUpdate: clock.now, generation: rejoining ? T0 : clock.now };
    // a new process (learnt of now) before the pruning; a returning one (known since T0) after it
    if (!rejoining) a.merge({ online: [fresh] }, 'test');
    a.maintain(); // prunes the processes of servers no longer in the view
    if (rejoining) a.merge({ online: [fresh] }, 'test');
    get('c').merge({ online: [fresh] }, 'test');
    for (let i = 0; i < 3; i++) {
      const outcome = await a.probeTick();
      if ('target' in outcome && outcome.target === b) return outcome;
    }
    throw new Error('b was never probed');
  }

  it('processes of servers no longer in the view are forgotten, those of members kept', async () => {
    expect(await refusedOutcome(false)).toEqual({ kind: 'starting', target: url('x0') });
    expect(await refusedOutcome(true)).toEqual({ kind: 'starting', target: url('x0') });
  });
});

describe('ClusterEngine.leave: batches, timeout, page-format peers', () => {
  it('after a first batch of one per missing member, tries three per missing one', async () => {
    let calls = 0;
    // of a's probes: the first delivered, the second refused, all later ones delivered
    const { get, sent } = cluster(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'], {}, {
      fate: (from, to) => (from === url('a') && to !== url('a') && ++calls === 2 ? 'refuse' : 'deliver'),
    });
    sent.length = 0;
    calls = 0;
    const told = await get('a').leave(2);
    expect(sent.filter((s) => s.from === url('a'))).toHaveLength(5);
    expect(told).toHaveLength(4);
  });

  it('probes members with a timeout of at least 1 s, or the probe timeout when longer', async () => {
    for (const [probeTimeoutMs, expected] of [
      [500, 1000],
      [3000, 3000],
    ]) {
      const { get, timeouts } = cluster(['a', 'b'], { probeTimeoutMs });
      timeouts.length = 0;
      expect(await get('a').leave(1)).toEqual([url('b')]);
      expect(timeouts).toEqual([[url('a'), url('b'), expected]]);
    }
  });

  it('tells a page-format peer by the page’s gossip and a normal one by a probe; a page-format peer that fails is not counted', async () => {
    const { get, rules, sent } = cluster(['a', 'b', 'p', 'q']);
    rules.pageOnly.add(url('p'));
    rules.pageOnly.add(url('q'));
    expect(await get('a').syncWith(url('p'))).toMatchObject({ ok: true });
    expect(await get('a').syncWith(url('q'))).toMatchObject({ ok: true });
    rules.missing.add(url('q')); // q no longer answers even the gossip
    sent.length = 0;
    const told = await get('a').leave(3);
    expect(told.sort()).toEqual([url('b'), url('p')]);
    const endpoints = Object.fromEntries(sent.filter((s) => s.from === url('a')).map((s) => [s.to, s.endpoint]));
    expect(endpoints).toEqual({ [url('b')]: 'probe', [url('p')]: 'gossip', [url('q')]: 'gossip' });
    expect(get('p').member(url('a'))?.online).toBe(false);
  });
});

describe('ClusterEngine: the probes it sends', () => {
  it("direct and indirect probes are 'probe' messages; an indirect one names its target", async () => {
    const { get, rules, sent } = cluster(['a', 'b', 'c'], { probeIntervalMs: 1000 });
    rules.directLost.add(url('a'));
    const outcome = await get('a').probeTick();
    expect(outcome).toMatchObject({ kind: 'alive', via: 'indirect' });
    const target = (outcome as { target: string }).target;
    const helper = target === url('b') ? url('c') : url('b');
    const fromA = sent.filter((s) => s.from === url('a'));
    expect(fromA.map((s) => [s.to, s.message.message, s.message.target])).toEqual([
      [target, 'probe', undefined],
      [helper, 'probe', target],
      [target, 'probe', undefined],
    ]);
  });

  it('a direct probe of a suspect member carries its suspicion, so it can refute', async () => {
    const { get, sent } = cluster(['a', 'b'], { probeIntervalMs: 1000 });
    const suspectB: MemberEntry = { ...get('b').self(), suspect: true, by: url('a') };
    get('a').preload([suspectB]); // known without news: nothing waits in the queues
    sent.length = 0;
    await get('a').probeTick();
    const probe = sent.find((s) => s.from === url('a') && s.to === url('b'))!;
    expect(probe.message.suspect).toEqual([expect.objectContaining({ baseUrl: url('b') })]);
  });
});
