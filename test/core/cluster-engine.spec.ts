import fc from 'fast-check';
import { ClusterEngine, choosePeer, type GossipTransport, type MembershipChange, type ServerList } from '../../lib/core/index.js';
import { InMemoryNetwork } from '../../sim/in-memory-network.js';

/** A deterministic PRNG so every run sees the same rounds. */
function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Real engines on the in-memory network; `down` peers refuse connections. */
class LoopNetwork {
  readonly engines = new Map<string, ClusterEngine>();
  readonly down = new Set<string>();
  time = 1_700_000_000_000;
  private readonly network = new InMemoryNetwork({ hooks: { fate: (_from, to) => (this.engines.has(to) && !this.down.has(to) ? 'deliver' : 'refuse') } });

  add(url: string, opts: { skewMs?: number; monitor?: boolean; seed?: number } = {}): ClusterEngine {
    const engine = new ClusterEngine(
      { selfUrl: url, monitor: opts.monitor ?? false },
      { now: () => this.time + (opts.skewMs ?? 0), random: seededRandom(opts.seed ?? this.engines.size + 1), transport: this.network.transportFor(url) },
    );
    this.engines.set(engine.settings.selfUrl, engine);
    this.network.attach(engine.settings.selfUrl, engine);
    return engine;
  }

  async round(): Promise<void> {
    for (const [url, e] of this.engines) if (!this.down.has(url)) await e.gossipRound();
    this.time += 1000;
  }

  views(): string[] {
    return [...this.engines].filter(([u]) => !this.down.has(u)).map(([, e]) => JSON.stringify(e.snapshot()));
  }

  converged(): boolean {
    return new Set(this.views()).size === 1;
  }

  async roundsToConverge(limit = 100): Promise<number> {
    for (let r = 1; r <= limit; r++) {
      await this.round();
      if (this.converged()) return r;
    }
    throw new Error('did not converge');
  }
}

function seedAll(net: LoopNetwork, seedUrl: string): void {
  const list: ServerList = { online: [{ baseUrl: seedUrl, monitor: false, lastUpdate: 0 }] };
  for (const e of net.engines.values()) e.mergeMasterList(list);
}

describe('ClusterEngine', () => {
  it('five servers bootstrapped from one seed converge to one view', async () => {
    const net = new LoopNetwork();
    for (let i = 1; i <= 5; i++) net.add(`http://127.0.0.1:${3000 + i}`).start();
    seedAll(net, 'http://127.0.0.1:3001/');
    const rounds = await net.roundsToConverge();
    expect(rounds).toBeLessThan(20);
    const view = net.engines.get('http://127.0.0.1:3001/')!.snapshot();
    expect(view.online).toHaveLength(5);
    expect(view.offline).toEqual([]);
  });

  it('propagates control offline and back online, with ±2 minutes of clock skew', async () => {
    const net = new LoopNetwork();
    const skews = [0, 120_000, -120_000, 60_000, -60_000];
    skews.forEach((skewMs, i) => net.add(`http://h${i}:1/`, { skewMs }).start());
    seedAll(net, 'http://h0:1/');
    await net.roundsToConverge();
    for (const slow of ['http://h2:1/', 'http://h1:1/']) {
      net.engines.get(slow)!.setOnline(false);
      await net.roundsToConverge();
      for (const e of net.engines.values()) expect(e.member(slow)?.online).toBe(false);
      net.engines.get(slow)!.setOnline(true);
      await net.roundsToConverge();
      for (const e of net.engines.values()) expect(e.member(slow)?.online).toBe(true);
    }
  });

  it('refuses stamps beyond the skew bound and keeps its clock sane', () => {
    const net = new LoopNetwork();
    const a = net.add('http://a:1/');
    a.start();
    const future = net.time + 11 * 60_000;
    const changes = a.merge({ online: [{ baseUrl: 'http://evil:1/', monitor: false, lastUpdate: future }] }, 'test');
    expect(changes).toEqual([]);
    expect(a.member('http://evil:1/')).toBeUndefined();
    expect(a.stats().entriesRefused).toBe(1);
    a.setOnline(false); // a fresh stamp from its clock
    expect(a.self().lastUpdate).toBeLessThan(future);
  });

  it('re-asserts itself over a newer rumour that it is offline', async () => {
    const net = new LoopNetwork();
    const a = net.add('http://a:1/');
    const b = net.add('http://b:1/');
    a.start();
    b.start();
    const rumour = a.self().lastUpdate + 5;
    b.merge({ online: [], offline: [{ baseUrl: 'http://a:1/', monitor: false, lastUpdate: rumour }] }, 'test');
    expect(b.member('http://a:1/')?.online).toBe(false);
    await a.exchangeWith('http://b:1/'); // b's answer carries the rumour; a re-stamps itself
    expect(a.self().online).toBe(true);
    expect(a.self().lastUpdate).toBeGreaterThan(rumour);
    expect(a.stats().selfReassertions).toBe(1);
    await a.exchangeWith('http://b:1/');
    expect(b.member('http://a:1/')?.online).toBe(true);
  });

  it('a prober we hold offline learns it from our ack and refutes at once, though our queue has no copy left', async () => {
    // after a partition heals, the other side's declaration of a live server reaches our side;
    // its queued copies go to the members we hold alive, so only our acks to its probes can tell it
    const net = new LoopNetwork();
    const a = net.add('http://a:1/');
    const b = net.add('http://b:1/');
    a.start();
    b.start();
    a.merge({ online: [b.self()] }, 'test');
    const declared = a.self().lastUpdate;
    b.merge({ online: [], offline: [{ baseUrl: 'http://a:1/', monitor: false, lastUpdate: declared, by: 'http://c:1/' }] }, 'test');
    expect(b.member('http://a:1/')).toMatchObject({ online: false, by: 'http://c:1/' });
    for (let i = 0; i < 20 && b.stats().broadcastQueueDepth > 0; i++) await b.handleProbe({ message: 'probe', online: [] });
    expect(b.stats().broadcastQueueDepth).toBe(0);
    expect(await a.probeTick()).toMatchObject({ kind: 'alive', target: 'http://b:1/' });
    expect(a.stats().selfReassertions).toBe(1);
    expect(a.self()).toMatchObject({ online: true });
    expect(a.self().lastUpdate).toBeGreaterThan(declared);
    // an ack to a prober whose entry we hold alive carries nothing more about it
    const ack = await b.handleProbe({ message: 'probe', online: [b.self()] });
    expect([...ack.online, ...(ack.offline ?? [])].filter((e) => e.baseUrl === 'http://b:1/')).toHaveLength(1);
  });

  it('removes entries after 24 h and a stale peer cannot bring them back', async () => {
    const net = new LoopNetwork();
    const a = net.add('http://a:1/');
    const b = net.add('http://b:1/');
    const c = net.add('http://c:1/');
    [a, b, c].forEach((e) => e.start());
    seedAll(net, 'http://a:1/');
    await net.roundsToConverge();
    c.setOnline(false);
    await net.roundsToConverge();
    const staleCopy = JSON.parse(JSON.stringify(b.snapshot())) as ServerList; // b's view, frozen
    net.down.add('http://c:1/');
    const removed: MembershipChange[] = [];
    a.onChange((ch) => {
      if (ch.type === 'removed') removed.push(ch);
    });
    net.time += 20 * 3_600_000;
    b.maintain(); // b is alive: it renews its own stamp and tells a
    await b.exchangeWith('http://a:1/');
    net.time += 4 * 3_600_000 + 1;
    a.maintain();
    expect(a.member('http://c:1/')).toBeUndefined();
    expect(removed.map((r) => r.server.baseUrl)).toEqual(['http://c:1/']);
    a.merge(staleCopy, 'stale peer');
    expect(a.member('http://c:1/')).toBeUndefined();
    expect(a.member('http://b:1/')?.online).toBe(true);
  });

  it('renews its own stamp so a live server never ages out', () => {
    const net = new LoopNetwork();
    const a = net.add('http://a:1/');
    a.start();
    const first = a.self().lastUpdate;
    net.time += 6 * 3_600_000;
    a.maintain();
    expect(a.self().lastUpdate).toBeGreaterThan(first);
  });

  it('a failing peer never throws out of a round', async () => {
    const a = new ClusterEngine(
      { selfUrl: 'http://a:1/' },
      { now: () => 1e12, random: seededRandom(1), transport: { exchange: () => Promise.reject(new Error('garbage')), probe: () => Promise.reject(new Error('garbage')), sync: () => Promise.reject(new Error('garbage')) } },
    );
    a.start();
    a.addSeeds(['http://b:1/']);
    await expect(a.gossipRound()).resolves.toMatchObject({ peer: 'http://b:1/', ok: false, error: 'garbage' });
    expect(a.stats()).toMatchObject({ rounds: 1, exchangesFailed: 1 });
  });

  it('converges for any order of pairwise exchanges (random schedules)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.nat(5), fc.nat(5)), { minLength: 0, maxLength: 30 }), async (pairs) => {
        const net = new LoopNetwork();
        const urls = [0, 1, 2, 3, 4, 5].map((i) => `http://n${i}:1/`);
        urls.forEach((u) => net.add(u).start());
        for (const [i, j] of pairs) if (i !== j) await net.engines.get(urls[i])!.exchangeWith(urls[j]);
        // then a fixed ring sweep twice: whatever came before, everyone must agree
        for (let k = 0; k < 2; k++) for (let i = 0; i < 6; i++) await net.engines.get(urls[i])!.exchangeWith(urls[(i + 1) % 6]);
        return net.converged() && net.engines.get(urls[0])!.snapshot().online.length === 6;
      }),
      { numRuns: 50 },
    );
  });
});

describe('piggybacking', () => {
  /** An engine that has just learned of `changes` servers, and the probes it sends. */
  function withBacklog(changes: number, messageBudgetBytes = 16_384) {
    const sent: ServerList[] = [];
    const transport: GossipTransport = {
      exchange: async () => ({ online: [] }),
      probe: async (_peer, message) => (sent.push(message), { message: 'ack', ack: true, online: [] }),
      sync: async () => ({ message: 'sync', leg: 'reply' }) as never,
    };
    const now = 1_700_000_000_000;
    const engine = new ClusterEngine({ selfUrl: 'http://10.0.0.1:1/', messageBudgetBytes }, { now: () => now, random: seededRandom(1), transport });
    engine.start();
    engine.merge({ online: Array.from({ length: changes }, (_, i) => ({ baseUrl: `http://10.1.${i >> 8}.${i & 255}:1/`, monitor: false, lastUpdate: now - 1000 })) }, 'test');
    const carried = async () => {
      await engine.probeTick();
      const last = sent.at(-1)!;
      return { entries: (last.online?.length ?? 0) + (last.offline?.length ?? 0) + (last.suspect?.length ?? 0) - 1, bytes: JSON.stringify(last).length };
    };
    return { engine, carried };
  }

  it('carries at most 64 changes while the queue is shallow', async () => {
    const { carried } = withBacklog(100);
    expect((await carried()).entries).toBe(64);
  });

  it('carries half a deep queue per message (the backlog drains in proportion to its depth), within the byte budget', async () => {
    const { engine, carried } = withBacklog(300);
    const depth = engine.stats().broadcastQueueDepth; // the 300 changes, and this server's own entry
    expect(depth).toBeGreaterThanOrEqual(300);
    const first = await carried();
    expect(first.entries).toBeGreaterThanOrEqual(Math.ceil(depth / 2) - 1);
    expect(first.entries).toBeLessThanOrEqual(Math.ceil(depth / 2));
    expect(first.bytes).toBeLessThanOrEqual(16_384);
    expect(engine.stats().broadcastQueueDepth).toBe(depth); // each change is sent several times before it retires
    const tight = withBacklog(300, 4096);
    const limited = await tight.carried();
    expect(limited.entries).toBeLessThan(64);
    expect(limited.bytes).toBeLessThanOrEqual(4096);
  });
});

describe('choosePeer', () => {
  const settings = { selfUrl: 'http://me:1/', monitorPreference: 0.5, offlineProbeProbability: 0.1 };
  const e = (baseUrl: string, online: boolean, monitor = false) => ({ baseUrl, online, monitor, lastUpdate: 1 });

  it('never picks itself and returns null when nothing is known', () => {
    expect(choosePeer([e('http://me:1/', true)], settings, new Set(), Math.random)).toBeNull();
  });

  it('falls back to seeds and offline servers when no peer is online', () => {
    const picked = choosePeer([e('http://me:1/', true), e('http://off:1/', false)], settings, new Set(['http://seed:1/']), seededRandom(3));
    expect(['http://off:1/', 'http://seed:1/']).toContain(picked);
  });

  it('sends about half the rounds to monitors and about a tenth to offline servers', () => {
    const random = seededRandom(7);
    const entries = [e('http://m:1/', true, true), ...[1, 2, 3, 4].map((i) => e(`http://r${i}:1/`, true)), e('http://off:1/', false)];
    const counts = new Map<string, number>();
    for (let i = 0; i < 10_000; i++) {
      const p = choosePeer(entries, settings, new Set(), random)!;
      counts.set(p, (counts.get(p) ?? 0) + 1);
    }
    expect(counts.get('http://off:1/')! / 10_000).toBeCloseTo(0.1, 1);
    expect(counts.get('http://m:1/')! / 10_000).toBeCloseTo(0.45, 1);
  });
});

describe('refused connections and pushes', () => {
  const self = 'http://10.0.0.1:1/';
  const target = 'http://10.0.0.9:1/';
  const helpers = ['http://10.0.0.2:1/', 'http://10.0.0.3:1/', 'http://10.0.0.4:1/', 'http://10.0.0.5:1/'];
  const refused = () => Object.assign(new Error('connect ECONNREFUSED 10.0.0.9:1'), { code: 'ECONNREFUSED' });

  /**
   * An engine that knows the target and four helpers. `targetFails`: how the target's port
   * answers us; `helperSays(helper)`: what a helper reports about the target.
   */
  function detector(opts: { targetFails: 'refused' | 'timeout'; helperSays: (helper: string) => 'refused' | 'silent'; settings?: object; knownForMs?: number }) {
    const target_ = { answers: false };
    const probes: { peer: string; message: ServerList & { target?: string } }[] = [];
    let now = 1_700_000_000_000;
    const transport: GossipTransport = {
      exchange: async () => ({ online: [] }),
      probe: async (peer, message) => {
        probes.push({ peer, message });
        if (peer === target && !target_.answers) throw opts.targetFails === 'refused' ? refused() : new Error('timeout of 500ms exceeded');
        if (message.target) return { message: 'ack', ack: false, ...(opts.helperSays(peer) === 'refused' ? { refused: true } : {}), online: [] };
        return { message: 'ack', ack: true, online: [] };
      },
      sync: async () => ({ message: 'sync', leg: 'reply' }) as never,
    };
    const engine = new ClusterEngine({ selfUrl: self, ...opts.settings }, { now: () => now, random: seededRandom(3), transport });
    engine.start();
    engine.merge({ online: [target, ...helpers].map((baseUrl) => ({ baseUrl, monitor: false, lastUpdate: now - 1000 })) }, 'test');
    // this server learnt of the target `knownForMs` ago (default: a minute, well past the 4 s minimum suspicion)
    now += opts.knownForMs ?? 60_000;
    /** Probe ticks until the target has been probed. */
    const probeTarget = async () => {
      for (let i = 0; i < 10; i++) {
        const outcome = await engine.probeTick();
        if ('target' in outcome && outcome.target === target) return outcome;
      }
      throw new Error('target never probed');
    };
    return { engine, probes, probeTarget, target: target_ };
  }

  it('a port refused to us and to every helper is offline at once, without a suspicion', async () => {
    const { engine, probeTarget } = detector({ targetFails: 'refused', helperSays: () => 'refused' });
    expect(await probeTarget()).toEqual({ kind: 'refused', target });
    expect(engine.member(target)).toMatchObject({ online: false, by: self });
    expect(engine.stats()).toMatchObject({ refusalsConfirmed: 1, declaredOffline: 1, suspicionsRaised: 0 });
  });

  it('a server we learnt of a moment ago that never answered us is not accused (it may not listen yet); once it has answered, a refusal is final', async () => {
    const young = detector({ targetFails: 'refused', helperSays: () => 'refused', knownForMs: 1000 });
    expect(await young.probeTarget()).toEqual({ kind: 'starting', target });
    expect(young.engine.member(target)).toMatchObject({ online: true });
    expect(young.engine.member(target)?.suspect).toBeUndefined();
    expect(young.engine.stats()).toMatchObject({ suspicionsRaised: 0, declaredOffline: 0 });
    const known = detector({ targetFails: 'refused', helperSays: () => 'refused', knownForMs: 1000 });
    known.target.answers = true;
    expect(await known.probeTarget()).toEqual({ kind: 'alive', target, via: 'direct' });
    known.target.answers = false;
    expect(await known.probeTarget()).toEqual({ kind: 'refused', target });
  });

  it('one helper that does not see the refusal, a timeout, or the option off: a suspicion as usual', async () => {
    const cases = [
      detector({ targetFails: 'refused', helperSays: (h) => (h === helpers[0] || h === helpers[1] ? 'silent' : 'refused') }),
      detector({ targetFails: 'timeout', helperSays: () => 'refused' }),
      detector({ targetFails: 'refused', helperSays: () => 'refused', settings: { fastFailOnRefusal: false } }),
    ];
    for (const { engine, probeTarget } of cases) {
      expect(await probeTarget()).toEqual({ kind: 'suspected', target });
      expect(engine.member(target)).toMatchObject({ online: true, suspect: true });
      expect(engine.stats().refusalsConfirmed).toBe(0);
    }
  });

  it('a helper reports a refused target as refused, a silent one as not acknowledged', async () => {
    const { engine } = detector({ targetFails: 'refused', helperSays: () => 'refused' });
    expect(await engine.handleProbe({ message: 'probe', target, online: [] })).toMatchObject({ ack: false, refused: true });
    const silent = detector({ targetFails: 'timeout', helperSays: () => 'silent' });
    const ack = await silent.engine.handleProbe({ message: 'probe', target, online: [] });
    expect(ack.ack).toBe(false);
    expect(ack.refused).toBeUndefined();
  });

  it('pushes waiting changes to 3 members per tick, and sends nothing once the queue is empty', async () => {
    const { engine, probes } = detector({ targetFails: 'timeout', helperSays: () => 'silent' });
    expect(await engine.pushTick()).toBe(3); // the five servers it just learned of wait to be sent
    expect(new Set(probes.map((p) => p.peer)).size).toBe(3);
    while ((await engine.pushTick()) > 0);
    const before = probes.length;
    expect(engine.stats().broadcastQueueDepth).toBe(0);
    expect(await engine.pushTick()).toBe(0);
    expect(probes.length).toBe(before);
  });

  it('an ack leaves out what the probe it answers carried', async () => {
    const { engine } = detector({ targetFails: 'timeout', helperSays: () => 'silent' });
    const news = { baseUrl: 'http://10.0.0.7:1/', monitor: false, lastUpdate: 1_700_000_000_000 - 500 };
    const ack = await engine.handleProbe({ message: 'probe', online: [news] });
    expect(ack.online.map((e) => e.baseUrl)).not.toContain(news.baseUrl);
    expect(ack.online.map((e) => e.baseUrl)).toContain(helpers[0]); // queued news the sender did not carry
    const other = await engine.handleProbe({ message: 'probe', online: [] });
    expect(other.online.map((e) => e.baseUrl)).toContain(news.baseUrl);
  });
});

describe('404 proves nothing', () => {
  const notFound = () => Promise.reject(Object.assign(new Error('HTTP 404 (not authenticated)'), { status: 404 }));

  it('a peer that answers 404 to probe, sync and the page\'s gossip is never alive, and is reported as a likely route-prefix mismatch', async () => {
    const warnings: string[] = [];
    let now = 1_700_000_000_000;
    const engine = new ClusterEngine(
      { selfUrl: 'http://a:1/' },
      { now: () => now, random: seededRandom(5), transport: { exchange: notFound, probe: notFound, sync: notFound }, log: { warn: (m) => warnings.push(m), debug: () => undefined } },
    );
    engine.start();
    engine.merge({ online: [{ baseUrl: 'http://b:1/', monitor: false, lastUpdate: now - 1000 }] }, 'test');
    now += 60_000;
    const outcomes = [];
    for (let i = 0; i < 4; i++) {
      outcomes.push((await engine.probeTick()).kind);
      now += 1000;
    }
    expect(outcomes).not.toContain('alive');
    expect(outcomes).toContain('suspected');
    expect(engine.peersNotFound(60_000)).toEqual(['http://b:1/']);
    expect(warnings.some((w) => /answered 404 to probe, sync and gossip: it runs with another route prefix than this server \(option routePrefix/.test(w))).toBe(true);
  });
});

describe('ClusterEngine lifecycle and join state', () => {
  const none: GossipTransport = { exchange: () => Promise.reject(new Error('x')), probe: () => Promise.reject(new Error('x')), sync: () => Promise.reject(new Error('x')) };
  const make = (url: string) => new ClusterEngine({ selfUrl: url }, { now: () => 1_800_000_000_000, random: () => 0.5, transport: none });

  it('tells started and stopped once each: a second start or a stop while stopped says nothing', () => {
    const e = make('http://a.test:1/');
    const events: string[] = [];
    e.onLifecycle((event) => events.push(event));
    e.stop();
    e.start();
    e.start();
    e.stop();
    e.stop();
    expect(events).toEqual(['started', 'stopped']);
  });

  it('is alone with only itself, and joining once the view holds another server or a seed is known', () => {
    const a = make('http://a.test:1/');
    a.start();
    expect(a.joinState()).toBe('alone');
    const b = make('http://b.test:1/');
    b.start();
    b.addSeeds(['http://a.test:1/']);
    expect(b.joinState()).toBe('joining');
    const peer = make('http://p.test:1/');
    peer.start();
    a.merge({ online: [peer.self()] }, 'test');
    expect(a.joinState()).toBe('joining');
  });
  it('is joined once its gossip rounds reached a peer', async () => {
    const network = new InMemoryNetwork();
    const at = (url: string) => {
      const e = new ClusterEngine({ selfUrl: url }, { now: () => 1_800_000_000_000, random: () => 0.5, transport: network.transportFor(url) });
      network.attach(url, e);
      e.start();
      return e;
    };
    const a = at('http://a.test:1/');
    at('http://p.test:1/');
    a.addSeeds(['http://p.test:1/']);
    await a.gossipRound();
    await a.gossipRound();
    expect(a.joinState()).toBe('joined');
  });
});
