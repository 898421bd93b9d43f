/**
 * The self-check's wire (lib/core/own-address.ts): what it sends to our own base URL, with which
 * deadline, and how it reads the answer. A recording transport on a manual clock; the engine is real.
 */
import { ClusterEngine, type GossipTransport, type ProbeAck, type ProbeMessage, type SyncMessage } from '../../lib/core/index.js';
import { seededRandom } from '../../sim/virtual-cluster.js';

const T0 = 1_800_000_000_000;
const SELF = 'http://self.test:1/';
const settle = () => new Promise((resolve) => setImmediate(resolve));

function engineWith(probeTimeoutMs: number, answer: (engine: ClusterEngine) => ProbeAck | Promise<ProbeAck>) {
  const probes: Array<[string, ProbeMessage, number]> = [];
  const syncs: Array<[string, SyncMessage]> = [];
  const warnings: string[] = [];
  let time = T0;
  const transport: GossipTransport = {
    exchange: () => Promise.reject(new Error('no exchange here')),
    probe: (url, message, timeoutMs) => {
      probes.push([url, message, timeoutMs]);
      return Promise.resolve(answer(engine));
    },
    sync: (url, message) => {
      syncs.push([url, message]);
      return Promise.resolve({ message: 'sync' });
    },
  };
  const engine: ClusterEngine = new ClusterEngine(
    { selfUrl: SELF, probeIntervalMs: 1000, probeTimeoutMs },
    { now: () => time, random: seededRandom(1), transport, log: { warn: (m: string) => warnings.push(m), debug: () => undefined } },
  );
  engine.start();
  const checkAt = async (at: number) => {
    time = at;
    engine.maintain();
    await settle();
  };
  return { engine, probes, syncs, warnings, checkAt };
}

describe('the self-check', () => {
  it('probes our own URL with an empty probe naming our generation, within twice the probe timeout, then checks sync with an empty message', async () => {
    const t = engineWith(800, (e) => ({ message: 'ack', ack: true, online: [e.self()], offline: [] }));
    await t.checkAt(T0 + 2_000);
    expect(t.probes).toEqual([[SELF, { message: 'probe', online: [], offline: [], selfCheck: T0 }, 1_600]]); // generation: the stamp it started with
    expect(t.syncs).toEqual([[SELF, { message: 'sync' }]]);
    expect(t.engine.addressCheck()).toEqual({ at: T0 + 2_000, result: { result: 'self' }, failuresInARow: 0, syncEndpoint: 'ok' });
  });

  it('waits at least one second for its own answer', async () => {
    const t = engineWith(300, (e) => ({ message: 'ack', ack: true, online: [e.self()], offline: [] }));
    await t.checkAt(T0 + 2_000);
    expect(t.probes.map(([, , timeoutMs]) => timeoutMs)).toEqual([1_000]);
  });

  it('an answer without our own entry is another process of unknown generation, and starts no conflict', async () => {
    const t = engineWith(300, () => ({ message: 'ack', ack: true, online: [], offline: [] }));
    await t.checkAt(T0 + 2_000);
    expect(t.engine.addressCheck()?.result).toEqual({ result: 'other', generation: undefined });
    expect(t.engine.conflict()).toBeUndefined();
    expect(t.syncs).toEqual([]);
  });

  it('an answer from another generation at our URL makes this process yield, and says so', async () => {
    const rival = T0 - 60_000;
    const t = engineWith(300, (e) => ({ message: 'ack', ack: true, online: [{ ...e.self(), generation: rival }], offline: [] }));
    await t.checkAt(T0 + 2_000);
    expect(t.engine.conflict()).toMatchObject({ role: 'yielded', rivalGeneration: rival });
    expect(t.warnings).toContainEqual(
      `address conflict: another process (generation ${rival}) also claims ${SELF}; this process gives it up and stops gossiping until the URL reaches it (the other one answers there, or started first). Give every server its own SHAZBOT_BASE_URL (option baseUrl).`,
    );
  });
  it('runs one self-check at a time', async () => {
    const gate: Array<() => void> = [];
    const t = engineWith(300, (e) => new Promise<ProbeAck>((resolve) => gate.push(() => resolve({ message: 'ack', ack: true, online: [e.self()], offline: [] }))));
    await t.checkAt(T0 + 2_000);
    await t.checkAt(T0 + 2_500); // due again (none recorded yet), but the first is still running
    expect(t.probes).toHaveLength(1);
    gate.forEach((release) => release());
    await settle();
    expect(t.engine.addressCheck()?.result).toEqual({ result: 'self' });
  });

  it("another process's self-check reaching us: this one keeps the URL, once, and says so; a generation no process could have says nothing", async () => {
    const t = engineWith(300, (e) => ({ message: 'ack', ack: true, online: [e.self()], offline: [] }));
    for (const selfCheck of [0, T0 - 60_000 + 0.5]) await t.engine.handleProbe({ message: 'probe', online: [], offline: [], selfCheck });
    expect(t.engine.conflict()).toBeUndefined();
    const rival = T0 - 60_000;
    await t.engine.handleProbe({ message: 'probe', online: [], offline: [], selfCheck: rival });
    await t.checkAt(T0 + 1_000);
    await t.engine.handleProbe({ message: 'probe', online: [], offline: [], selfCheck: rival + 1 });
    expect(t.engine.conflict()).toEqual({ url: SELF, generation: T0, rivalGeneration: rival + 1, role: 'kept', since: T0 });
    expect(t.warnings).toEqual([
      `address conflict: another process (generation ${rival}) also claims ${SELF}; the URL reaches this process, which keeps it, and the other one gives it up. Give every server its own SHAZBOT_BASE_URL (option baseUrl).`,
    ]);
  });
  it('yielded, it probes the URL again every 30 s, and takes the address back once the URL reaches it', async () => {
    const rival = T0 - 60_000;
    let rivalAnswers = true;
    const t = engineWith(300, (e) => ({ message: 'ack', ack: true, online: [rivalAnswers ? { ...e.self(), generation: rival } : e.self()], offline: [] }));
    await t.checkAt(T0 + 2_000);
    expect(t.engine.conflict()?.role).toBe('yielded');
    expect(t.engine.generation).toBe(T0);
    await t.checkAt(T0 + 31_999);
    await t.engine.gossipRound();
    expect(t.probes).toHaveLength(1);
    await t.checkAt(T0 + 32_000);
    await t.engine.gossipRound();
    expect(t.probes).toHaveLength(2);
    expect(t.engine.conflict()?.role).toBe('yielded'); // the other process still answers there
    rivalAnswers = false;
    await t.checkAt(T0 + 61_999);
    await t.engine.gossipRound();
    expect(t.probes).toHaveLength(2);
    await t.checkAt(T0 + 62_000);
    await t.engine.gossipRound();
    expect(t.probes).toHaveLength(3);
    expect(t.engine.conflict()).toBeUndefined();
    expect(t.engine.generation).toBe(T0 + 62_000); // a new generation, stamped when it took the URL back
    expect(t.warnings).toContainEqual(`address conflict over: ${SELF} reaches this process again; this process takes ${SELF} back`);
  });
});
