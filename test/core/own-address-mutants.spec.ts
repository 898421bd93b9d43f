/**
 * Address conflicts, the decisions own-address.ts makes (docs/mutation.md, "second pass"): who
 * keeps the URL once the conflict is declared, what a rival's word does while this process is
 * deciding or has yielded, the recheck's sync, the words it takes the URL back with, and what a
 * restart drops. A real engine on a manual clock; the transport answers the self-checks as the
 * test says, in order ('gate': held until the test releases it).
 */
import { ClusterEngine, type GossipServer, type GossipTransport, type ProbeAck } from '../../lib/core/index.js';
import { seededRandom } from '../../sim/virtual-cluster.js';

const T0 = 1_800_000_000_000;
const SELF = 'http://self.test:1/';
const P = 'http://p.test:1/';
const OLDER = T0 - 60_000;
const settle = () => new Promise((resolve) => setImmediate(resolve));

type Answer = 'self' | { other: number } | 'unreachable' | 'gate';

function world(answers: Answer[] = []) {
  let time = T0;
  const probes: number[] = [];
  const syncs: string[] = [];
  const warnings: string[] = [];
  const gates: Array<(answer: 'self' | 'not-found') => void> = [];
  let syncAnswer: 'ok' | 'not-found' | 'gate' = 'ok';
  const ack = (online: GossipServer[]): ProbeAck => ({ message: 'ack', ack: true, online, offline: [] });
  const transport: GossipTransport = {
    exchange: () => Promise.reject(new Error('no exchange here')),
    probe: () => {
      probes.push(time);
      const answer = answers.shift() ?? 'unreachable';
      if (answer === 'unreachable') return Promise.reject(new Error('timed out'));
      if (answer === 'gate') return new Promise<ProbeAck>((resolve) => gates.push(() => resolve(ack([engine.self()]))));
      return Promise.resolve(ack([answer === 'self' ? engine.self() : { ...engine.self(), generation: answer.other }]));
    },
    sync: (url) => {
      syncs.push(url);
      if (url !== SELF) return Promise.reject(new Error('no peer here'));
      if (syncAnswer === 'gate') return new Promise((resolve, reject) => gates.push((a) => (a === 'self' ? resolve({ message: 'sync' }) : reject(Object.assign(new Error('HTTP 404'), { status: 404 })))));
      return syncAnswer === 'ok' ? Promise.resolve({ message: 'sync' }) : Promise.reject(Object.assign(new Error('HTTP 404'), { status: 404 }));
    },
  };
  const engine: ClusterEngine = new ClusterEngine(
    { selfUrl: SELF, probeIntervalMs: 1000, probeTimeoutMs: 300 },
    { now: () => time, random: seededRandom(1), transport, log: { warn: (m: string) => warnings.push(m), debug: () => undefined } },
  );
  engine.start();
  let stamp = 0;
  /** Another process's word about our URL, newer than anything said of it so far. */
  const rivalWord = async (generation: number, extra: Partial<GossipServer> & { online?: boolean } = {}) => {
    const { online = true, ...rest } = extra;
    const entry = { baseUrl: SELF, monitor: false, lastUpdate: Math.max(engine.self().lastUpdate, time + stamp++) + 10, generation, ...rest };
    engine.merge(online ? { online: [entry] } : { online: [], offline: [entry] }, 'test');
    await settle();
  };
  return {
    engine,
    answers,
    probes,
    syncs,
    warnings,
    rivalWord,
    at: (t: number) => (time = t),
    release: async (answer: 'self' | 'not-found' = 'self') => {
      gates.splice(0).forEach((open) => open(answer));
      await settle();
    },
    setSync: (a: typeof syncAnswer) => (syncAnswer = a),
    maintainAt: async (t: number) => {
      time = t;
      engine.maintain();
      await settle();
    },
    /** Yields to `rival` at the first self-check (2 s after start): the URL reaches the other process. */
    yieldTo: async (rival: number) => {
      answers.unshift({ other: rival });
      time = T0 + 2_000;
      engine.maintain();
      await settle();
      expect(engine.conflict()).toMatchObject({ role: 'yielded', rivalGeneration: rival });
    },
  };
}

describe('address conflicts, declared by the rival words', () => {
  it("the first rival word starts a self-check at once; while this process keeps the URL, a rival's word starts none", async () => {
    const t = world(['self']);
    await t.rivalWord(OLDER);
    expect(t.probes).toEqual([T0]);
    expect(t.engine.conflict()).toBeUndefined();
    // another process's self-check reaches us: we keep the URL; its words then start no self-check
    const u = world();
    await u.engine.handleProbe({ message: 'probe', online: [], offline: [], selfCheck: OLDER });
    expect(u.engine.conflict()?.role).toBe('kept');
    await u.rivalWord(OLDER);
    await u.rivalWord(OLDER);
    expect(u.probes).toEqual([]);
  });

  it('the URL reaches this process: it keeps it, even when the other started first, and says so', async () => {
    const t = world(['unreachable', 'unreachable', 'self']);
    for (let i = 0; i < 3; i++) await t.rivalWord(OLDER);
    expect(t.probes).toHaveLength(3);
    expect(t.engine.conflict()).toMatchObject({ role: 'kept', rivalGeneration: OLDER });
    expect(t.engine.addressCheck()?.result).toEqual({ result: 'self' });
    expect(t.warnings).toEqual([
      `address conflict: another process (generation ${OLDER}) also claims ${SELF}; this process keeps it (the URL reaches it, or it started first) and the other one should give it up. Give every server its own SHAZBOT_BASE_URL (option baseUrl).`,
    ]);
  });

  it('the URL reaches the other process: this one yields, even when it started first', async () => {
    const younger = T0 + 500;
    const t = world(['unreachable', 'unreachable', { other: younger }]);
    t.at(T0 + 1_000);
    for (let i = 0; i < 3; i++) await t.rivalWord(younger);
    expect(t.engine.generation).toBeLessThan(younger);
    expect(t.engine.conflict()).toMatchObject({ role: 'yielded', rivalGeneration: younger });
  });

  it('while the conflict is being decided, a gossip round probes nothing more; a restart then drops the decision', async () => {
    const t = world(['unreachable', 'unreachable', 'gate']);
    for (let i = 0; i < 3; i++) await t.rivalWord(OLDER);
    expect(t.engine.conflict()?.role).toBe('deciding');
    expect(t.probes).toHaveLength(3);
    await t.engine.gossipRound();
    expect(t.probes).toHaveLength(3);
    // the process restarts before its self-check answers: the answer belongs to the old run
    t.engine.stop();
    t.at(T0 + 10_000);
    t.engine.start();
    await t.release('self');
    expect(t.engine.conflict()).toBeUndefined();
    expect(t.engine.addressCheck()).toBeUndefined();
    expect(t.warnings).toEqual([]);
  });
});

describe('address conflicts, while yielded', () => {
  it("an older word from a third process does not rename the rival", async () => {
    const rival = OLDER;
    const t = world();
    await t.yieldTo(rival);
    await t.rivalWord(rival); // the cluster's word about the rival
    const newest = t.engine.conflict();
    await t.rivalWord(OLDER - 1_000, { lastUpdate: T0 - 30_000, online: false }); // a stale word of an earlier process
    expect(newest?.rivalGeneration).toBe(rival);
    expect(t.engine.conflict()?.rivalGeneration).toBe(rival);
  });

  it('a recheck that reaches the other process syncs with nobody; one that reaches nothing syncs once and, the other not gone, stays yielded', async () => {
    const t = world();
    t.engine.merge({ online: [{ baseUrl: P, monitor: false, lastUpdate: T0 + 1 }] }, 'test');
    await t.yieldTo(OLDER);
    const generation = t.engine.generation;
    t.at(T0 + 32_000);
    t.probes.length = 0;
    t.answers.push({ other: OLDER });
    await t.engine.gossipRound(); // the recheck: the other process answers at the URL
    expect(t.probes).toEqual([T0 + 32_000]);
    expect(t.syncs.filter((u) => u === P)).toEqual([]);
    t.at(T0 + 62_000);
    await t.engine.gossipRound(); // the recheck: nothing answers; the cluster has no word that the other is gone
    expect(t.probes).toEqual([T0 + 32_000, T0 + 62_000]);
    expect(t.syncs.filter((u) => u === P)).toEqual([P]);
    expect(t.engine.conflict()).toMatchObject({ role: 'yielded', rivalGeneration: OLDER });
    expect(t.engine.generation).toBe(generation);
    expect(t.warnings.filter((w) => w.startsWith('address conflict over'))).toEqual([]);
  });

  it.each([
    ['declared offline by a peer', { by: P }, 'was declared offline by the cluster'],
    ['gone by its own word', {}, 'left'],
  ])('takes the URL back once the cluster holds the other process offline (%s), and says how', async (_name, extra, how) => {
    const t = world();
    await t.yieldTo(OLDER);
    const generation = t.engine.generation;
    await t.rivalWord(OLDER, { online: false, ...extra, lastUpdate: T0 + 3_000 });
    t.at(T0 + 32_000);
    await t.engine.gossipRound(); // the recheck reaches nothing; the cluster's word says the other is gone
    expect(t.engine.conflict()).toBeUndefined();
    expect(t.engine.generation).toBeGreaterThan(generation);
    expect(t.warnings.at(-1)).toBe(`address conflict over: the other process (generation ${OLDER}) ${how}; this process takes ${SELF} back`);
  });
});

describe('the sync endpoint check', () => {
  it("an answer that arrives after a restart belongs to the old run: the new run checks again", async () => {
    const t = world(['self', 'self']);
    t.setSync('gate');
    await t.maintainAt(T0 + 2_000);
    expect(t.syncs).toEqual([SELF]);
    t.engine.stop();
    t.at(T0 + 3_000);
    t.engine.start();
    await t.release('self'); // the old run's sync: ok
    t.setSync('not-found');
    await t.maintainAt(T0 + 5_000);
    expect(t.syncs).toEqual([SELF, SELF]);
    expect(t.engine.addressCheck()).toEqual({ at: T0 + 5_000, result: { result: 'self' }, failuresInARow: 0, syncEndpoint: 'not-found' });
  });
});
