/**
 * The engine's edges that the cluster tests reach only through real processes: leaving (who is
 * told, in what order, within what deadline), probing its own base URL (self-check), the
 * foreign-peer path (a 403 drops the peer for 10 minutes), and two processes claiming one URL.
 * Real engines on the in-memory network (immediate mode: no time passes in a request), or on
 * the simulator for the conflict, which needs timers.
 */
import { ClusterEngine, type GossipTransport, type MembershipChange, type ProbeAck } from '../../lib/core/index.js';
import { InMemoryNetwork } from '../../sim/in-memory-network.js';
import { VirtualCluster } from '../../sim/virtual-cluster.js';

const T0 = 1_800_000_000_000;
const url = (name: string) => `http://${name}.test:1/`;

/** Engines that know each other, on the in-memory network; `clock.now` is everyone's clock. */
function cluster(names: string[], hooks: ConstructorParameters<typeof InMemoryNetwork>[0] = {}) {
  const clock = { now: T0 };
  const network = new InMemoryNetwork(hooks);
  const engines = new Map<string, ClusterEngine>();
  for (const name of names) {
    const engine = new ClusterEngine({ selfUrl: url(name), probeIntervalMs: 0 }, { now: () => clock.now, random: () => 0.999, transport: network.transportFor(url(name)) });
    engine.start();
    engines.set(name, engine);
    network.attach(url(name), engine);
  }
  for (const a of engines.values()) for (const b of engines.values()) if (a !== b) a.merge({ online: [b.self()] }, 'test');
  return { clock, network, engines, get: (name: string) => engines.get(name)! };
}

describe('leave', () => {
  it('goes offline, tells `fanout` members that stay, and stops', async () => {
    const { get, engines } = cluster(['a', 'b', 'c', 'd', 'e']);
    const told = await get('a').leave(2);
    expect(told).toHaveLength(2);
    // exactly the members told know it left (no gossip runs here)
    const knowing = [...engines.values()].filter((e) => e.member(url('a'))?.online === false).map((e) => e.settings.selfUrl);
    expect(knowing.sort()).toEqual([url('a'), ...told].sort());
    expect(get('a').isRunning).toBe(false);
    expect(get('a').self().online).toBe(false);
  });

  it('tries alive members before suspects, and counts only members that stay (one leaving at the same moment does not count)', async () => {
    const order: string[] = [];
    const { get } = cluster(['a', 'b', 'c', 'd'], { hooks: { onRequest: (from, to) => from === url('a') && order.push(to) } });
    // d is suspect in a's view; c is leaving too: it acks with its own entry offline
    get('a').merge({ online: [], suspect: [{ ...get('d').self(), by: url('b') }] }, 'test');
    get('c').setOnline(false);
    const told = await get('a').leave(2, Infinity);
    // first round: one alive member per missing count; then three per missing one: the suspect last
    expect(order.slice(0, 2).sort()).toEqual([url('b'), url('c')].sort());
    expect(order.at(-1)).toBe(url('d'));
    expect(told.sort()).toEqual([url('b'), url('d')]);
  });

  it('stops at the deadline, and tells nobody when no member is online', async () => {
    const { get, clock } = cluster(['a', 'b', 'c']);
    expect(await get('a').leave(2, clock.now)).toEqual([]); // the deadline has passed: nobody tried
    expect(get('b').member(url('a'))?.online).toBe(true);
    const lonely = cluster(['x']);
    expect(await lonely.get('x').leave(3)).toEqual([]);
    expect(lonely.get('x').isRunning).toBe(false);
  });

  it('a member that refuses is not counted, and the next ones are tried', async () => {
    const { get } = cluster(['a', 'b', 'c', 'd'], { hooks: { fate: (_from, to) => (to === url('b') ? 'refuse' : 'deliver') } });
    const told = await get('a').leave(2);
    expect(told.sort()).toEqual([url('c'), url('d')]);
  });
});

describe('selfCheck: does the base URL reach this very process?', () => {
  it("'self' when it does, 'other' with the other process's generation when another answers there, 'unreachable' otherwise", async () => {
    const { get, network } = cluster(['a']);
    expect(await get('a').selfCheck()).toEqual({ result: 'self' });
    const twin = new ClusterEngine({ selfUrl: url('a'), probeIntervalMs: 0 }, { now: () => T0 + 5, random: () => 0.5, transport: network.transportFor(url('a')) });
    twin.start();
    network.attach(url('a'), twin); // the URL now reaches the twin
    expect(await get('a').selfCheck()).toEqual({ result: 'other', generation: twin.generation });
    network.detach(url('a'));
    expect(await get('a').selfCheck()).toEqual({ result: 'unreachable', reason: expect.stringContaining('ECONNREFUSED') });
  });

  it("'not-found' when something else answers 404 there (another route prefix, an app without the probe endpoint)", async () => {
    const notFound: GossipTransport = {
      exchange: () => Promise.reject(Object.assign(new Error('HTTP 404'), { status: 404 })),
      probe: () => Promise.reject(Object.assign(new Error('HTTP 404'), { status: 404 })),
      sync: () => Promise.reject(Object.assign(new Error('HTTP 404'), { status: 404 })),
    };
    const engine = new ClusterEngine({ selfUrl: url('a'), probeIntervalMs: 0 }, { now: () => T0, random: () => 0.5, transport: notFound });
    engine.start();
    expect(await engine.selfCheck()).toEqual({ result: 'not-found' });
  });
});

describe('a peer of another cluster (a signed 403)', () => {
  it('is dropped from the view with its state, and refused for 10 minutes unless a new process starts there', async () => {
    const clock = { now: T0 };
    const changes: MembershipChange[] = [];
    // b answers every request with a 403 (it checked our signature and belongs to another cluster)
    const transport: GossipTransport = {
      exchange: () => Promise.reject(Object.assign(new Error('HTTP 403'), { status: 403 })),
      probe: async (peer): Promise<ProbeAck> => {
        if (peer === url('b')) throw Object.assign(new Error('HTTP 403'), { status: 403 });
        return { message: 'ack', ack: true, online: [] };
      },
      sync: () => Promise.reject(Object.assign(new Error('HTTP 403'), { status: 403 })),
    };
    const a = new ClusterEngine({ selfUrl: url('a'), offlineProbeProbability: 0 }, { now: () => clock.now, random: () => 0.999, transport });
    a.start();
    a.onChange((c) => changes.push(c));
    const b = { baseUrl: url('b'), monitor: false, lastUpdate: T0, generation: T0 };
    a.merge({ online: [b] }, 'test');
    expect(await a.probeTick()).toMatchObject({ target: url('b') });
    expect(changes.map((c) => [c.type, c.reason])).toEqual([
      ['joined', 'discovered (alive)'],
      ['removed', 'belongs to another cluster'],
    ]);
    expect(a.member(url('b'))).toBeUndefined();
    // gossiped again by anyone within 10 minutes: refused
    clock.now = T0 + 10 * 60_000 - 1;
    a.merge({ online: [{ ...b, lastUpdate: clock.now }] }, 'test');
    expect(a.member(url('b'))).toBeUndefined();
    // a new process at that URL (started after the mark) is another server: taken in
    a.merge({ online: [{ ...b, lastUpdate: clock.now, generation: T0 + 1 }] }, 'test');
    expect(a.member(url('b'))?.online).toBe(true);
  });

  it('after 10 minutes the same process is taken in again (and tried again)', async () => {
    const clock = { now: T0 };
    const transport: GossipTransport = {
      exchange: () => Promise.reject(Object.assign(new Error('HTTP 403'), { status: 403 })),
      probe: () => Promise.reject(Object.assign(new Error('HTTP 403'), { status: 403 })),
      sync: () => Promise.reject(Object.assign(new Error('HTTP 403'), { status: 403 })),
    };
    const a = new ClusterEngine({ selfUrl: url('a'), offlineProbeProbability: 0 }, { now: () => clock.now, random: () => 0.999, transport });
    a.start();
    const b = { baseUrl: url('b'), monitor: false, lastUpdate: T0, generation: T0 };
    a.merge({ online: [b] }, 'test');
    await a.probeTick();
    expect(a.member(url('b'))).toBeUndefined();
    clock.now = T0 + 10 * 60_000;
    a.merge({ online: [{ ...b, lastUpdate: clock.now }] }, 'test');
    expect(a.member(url('b'))?.online).toBe(true);
  });

  it('a 403 to a sync drops the peer too', async () => {
    const clock = { now: T0 };
    const transport: GossipTransport = {
      exchange: () => Promise.reject(Object.assign(new Error('HTTP 403'), { status: 403 })),
      probe: () => Promise.reject(new Error('timed out')),
      sync: () => Promise.reject(Object.assign(new Error('HTTP 403'), { status: 403 })),
    };
    const a = new ClusterEngine({ selfUrl: url('a'), offlineProbeProbability: 0 }, { now: () => clock.now, random: () => 0.999, transport });
    a.start();
    a.merge({ online: [{ baseUrl: url('b'), monitor: false, lastUpdate: T0 }] }, 'test');
    const round = await a.syncWith(url('b'));
    expect(round.ok).toBe(false);
    expect(a.member(url('b'))).toBeUndefined();
  });
});

describe('two processes with one base URL', () => {
  it('both see the conflict within a few intervals; the one the URL reaches keeps it, the other yields and goes quiet; the kept conflict ends two minutes after the twin stops', async () => {
    const c = new VirtualCluster({ size: 5, seed: 3, settings: { probeIntervalMs: 1000 } });
    c.startConverged();
    await c.runFor(10_000);
    const original = c.nodes[2];
    const twin = c.addTwin(original);
    await c.timeUntil(() => original.engine.conflict() !== undefined && twin.engine.conflict() !== undefined, 20_000, 100, 'both processes reporting the conflict');
    await c.timeUntil(() => original.engine.conflict()?.role === 'kept' && twin.engine.conflict()?.role === 'yielded', 30_000, 100, 'the roles decided');
    expect(original.engine.conflict()).toMatchObject({ url: original.url, generation: original.engine.generation, rivalGeneration: twin.engine.generation });
    expect(twin.engine.conflict()).toMatchObject({ url: original.url, generation: twin.engine.generation, rivalGeneration: original.engine.generation });
    const sentBefore = twin.engine.stats().probesSent;
    await c.runFor(30_000);
    expect(twin.engine.stats().probesSent).toBe(sentBefore); // a yielded process accuses nobody
    // the cluster holds the original's word
    for (const n of c.nodes.filter((n) => n !== original)) expect(n.engine.member(original.url)?.generation).toBe(original.engine.generation);
    c.crash(twin);
    await c.timeUntil(() => original.engine.conflict() === undefined, 200_000, 1000, 'the kept conflict to end after the twin went quiet');
  });
});
