/**
 * The kind "what the product writes, it can read back": every message one server builds
 * passes the validation and the limits of another server with the same defaults, at the
 * largest cluster the README supports, including views full of offline entries. Each message
 * goes through the DTO the receiving endpoint uses and is measured against the message budget
 * and the body limit.
 */
import 'reflect-metadata';
import { MAX_FULL_LIST_BYTES } from '../../lib/clustershazbot.constants.js';
import { OPTION_DEFAULTS } from '../../lib/clustershazbot.config.js';
import { ClusterEngine, MAX_SERVERS, MAX_STATE_TTL_MS, StateValueError, type GossipTransport, type MemberEntry, type ProbeMessage, type SyncMessage } from '../../lib/core/index.js';
import { ProbeAckDto, ProbeMessageDto, ServerListDto, SyncMessageDto, validateBody } from '../../lib/dto/index.js';
import { InMemoryNetwork } from '../../sim/in-memory-network.js';
import { seededRandom } from '../../sim/virtual-cluster.js';

const T0 = 1_800_000_000_000;
const BUDGET = OPTION_DEFAULTS.messageBudgetBytes;
const BODY_LIMIT = OPTION_DEFAULTS.maxBodyBytes;

const url = (i: number) => `http://server-${i}.cluster.example.internal:3000/`;

interface Seen {
  endpoint: string;
  direction: 'request' | 'reply';
  bytes: number;
  errors: string[];
}

/** Two engines on the in-memory network whose every request and reply is validated by the receiver's DTO. */
function validatedPair(seen: Seen[], clock: { now: number }) {
  const network = new InMemoryNetwork();
  const check = async (endpoint: string, direction: Seen['direction'], dto: new () => object, body: object) => {
    const { errors } = await validateBody(dto, JSON.parse(JSON.stringify(body)), direction === 'request');
    seen.push({ endpoint, direction, bytes: Buffer.byteLength(JSON.stringify(body)), errors });
  };
  const transportFor = (from: string): GossipTransport => {
    const inner = network.transportFor(from);
    return {
      exchange: (peer, m) => inner.exchange(peer, m),
      probe: async (peer, m, t) => {
        await check('probe', 'request', ProbeMessageDto, m);
        const ack = await inner.probe(peer, m, t);
        await check('probe', 'reply', ProbeAckDto, ack);
        return ack;
      },
      sync: async (peer, m) => {
        await check('sync', 'request', SyncMessageDto, m);
        const reply = await inner.sync(peer, m);
        await check('sync', 'reply', SyncMessageDto, reply);
        return reply;
      },
    };
  };
  const engine = (u: string, seed: number) => {
    const e = new ClusterEngine({ selfUrl: u, probeIntervalMs: 0 }, { now: () => clock.now, random: seededRandom(seed), transport: transportFor(u) });
    network.attach(u, e);
    e.start();
    return e;
  };
  return { a: engine(url(-1), 1), b: engine(url(-2), 2) };
}

function expectReadable(seen: Seen[]): void {
  expect(seen.length).toBeGreaterThan(0);
  for (const s of seen) {
    expect({ ...s, errors: s.errors.slice(0, 3) }).toEqual({ ...s, errors: [] });
    expect(s.bytes).toBeLessThanOrEqual(BUDGET);
    expect(s.bytes).toBeLessThanOrEqual(BODY_LIMIT);
  }
}

describe('what one server writes, another with the same defaults reads', () => {
  it.each([2000, MAX_SERVERS - 2])('sync legs between two views of %i servers where every bucket differs stay within the budget and validate', async (n) => {
    const seen: Seen[] = [];
    const clock = { now: T0 };
    const { a, b } = validatedPair(seen, clock);
    const entries = (stamp: number): MemberEntry[] => Array.from({ length: n }, (_, i) => ({ baseUrl: url(i), monitor: false, lastUpdate: stamp + i, online: i % 3 !== 0, ...(i % 3 === 0 ? { by: url(i + 1) } : {}) }));
    a.preload(entries(T0 - 60_000));
    b.preload(entries(T0 - 50_000));
    for (let round = 0; round < 5; round++) {
      await a.syncWith(b.settings.selfUrl);
      await b.syncWith(a.settings.selfUrl);
    }
    expectReadable(seen);
    // the repairs make progress within the budget: b's newer stamps reach a
    expect(seen.filter((s) => s.endpoint === 'sync').length).toBeGreaterThanOrEqual(10);
  });

  // Two views of disjoint URL sets: a small one against a big one differs in nearly every leaf of
  // the big buckets, so a leg lists thousands of whole ranges, each costing its number's digits
  // and a comma (5 bytes from range 1000 on: charged 4 before, which made a 16,785-byte leg)
  it.each([
    [150, 9000],
    [150, 9800],
    [2000, 2000],
  ])('sync legs between disjoint views of %i and %i servers stay within the budget and validate', async (na, nb) => {
    const seen: Seen[] = [];
    const clock = { now: T0 };
    const { a, b } = validatedPair(seen, clock);
    const entries = (offset: number, n: number): MemberEntry[] => Array.from({ length: n }, (_, i) => ({ baseUrl: url(offset + i), monitor: false, lastUpdate: T0 - 60_000 + i, online: true }));
    a.preload(entries(0, na));
    b.preload(entries(100_000, nb));
    for (let round = 0; round < 3; round++) {
      await a.syncWith(b.settings.selfUrl);
      await b.syncWith(a.settings.selfUrl);
    }
    expectReadable(seen);
    // and the repairs make progress: each side learnt some of the other's servers
    expect(a.viewSize).toBeGreaterThan(na + 2);
    expect(b.viewSize).toBeGreaterThan(nb + 2);
  });

  it('a view cannot grow past the bound a list and a master list carry; what it uploads, it loads again', async () => {
    const seen: Seen[] = [];
    const clock = { now: T0 };
    const { a } = validatedPair(seen, clock);
    // twelve gossip messages of 1,000 offline entries each, then live servers joining
    for (let m = 0; m < 12; m++) {
      a.merge({ online: [], offline: Array.from({ length: 1000 }, (_, i) => ({ baseUrl: url(m * 1000 + i), monitor: false, lastUpdate: T0 - 10_000 + m })) }, 'gossip');
    }
    expect(a.viewSize).toBeLessThanOrEqual(MAX_SERVERS);
    a.merge({ online: [{ baseUrl: url(99_999), monitor: false, lastUpdate: T0 }] }, 'gossip');
    expect(a.member(url(99_999))?.online).toBe(true); // a live newcomer still gets in: the oldest offline entries made room
    const list = a.snapshot();
    const { errors } = await validateBody(ServerListDto, JSON.parse(JSON.stringify(list)), false);
    expect(errors).toEqual([]);
    expect(Buffer.byteLength(JSON.stringify(list))).toBeLessThanOrEqual(MAX_FULL_LIST_BYTES);
  });

  it('a server\'s whole state fits in one message: a write that would overflow it is refused, and the reset that lists it all validates', async () => {
    const seen: Seen[] = [];
    const clock = { now: T0 };
    const { a, b } = validatedPair(seen, clock);
    a.merge({ online: [b.self()] }, 'test');
    b.merge({ online: [a.self()] }, 'test');
    let written = 0;
    let refused: unknown;
    for (let k = 0; k < 50 && !refused; k++) {
      try {
        a.setLocalState(`key-${k}`, 'x'.repeat(1000));
        written++;
      } catch (error) {
        refused = error;
      }
    }
    expect(refused).toBeInstanceOf(StateValueError);
    expect(String((refused as Error).message)).toMatch(/fit in one message/);
    expect(written).toBeGreaterThan(10);
    // b holds none of it; its first sync gets the full list (a reset) in one message
    await b.syncWith(a.settings.selfUrl);
    await b.syncWith(a.settings.selfUrl);
    expect(Object.keys(b.stateOf(a.settings.selfUrl))).toHaveLength(written);
    expectReadable(seen);
  });

  it('a fractional expiry travels as whole ms of time to live, rounded up, and validates; one past the limit is refused by name', async () => {
    const seen: Seen[] = [];
    const clock = { now: T0 };
    const { a, b } = validatedPair(seen, clock);
    a.merge({ online: [b.self()] }, 'test');
    b.merge({ online: [a.self()] }, 'test');
    a.setLocalState('half', 1, T0 + 1000.5);
    a.setLocalState('soon', 2, T0 + 0.25);
    a.setLocalState('longest', 3, T0 + MAX_STATE_TTL_MS);
    for (const far of [T0 + MAX_STATE_TTL_MS + 1, Number.MAX_VALUE]) {
      expect(() => a.setLocalState('far', 4, far)).toThrow(StateValueError);
      expect(() => a.setLocalState('far', 4, far)).toThrow('expiresAt of "far" is more than 2147483647 ms (about 24.8 days) away');
    }
    await a.pushTick(); // piggybacked on a probe
    await b.syncWith(a.settings.selfUrl); // and in a reset by sync
    expectReadable(seen);
    expect(seen.filter((s) => s.direction === 'request').length).toBeGreaterThanOrEqual(2);
    expect(b.stateOf(a.settings.selfUrl)).toEqual({ half: 1, soon: 2, longest: 3 });
    clock.now = T0 + 1000;
    expect(b.peerValue(a.settings.selfUrl, 'half')).toBe(1); // rounded up: 1001 ms, never less than written
    clock.now = T0 + 1001;
    expect(b.peerValue(a.settings.selfUrl, 'half')).toBeUndefined();
  });

  it('probes and acks carry at most the budget, however many changes wait', async () => {
    const seen: Seen[] = [];
    const clock = { now: T0 };
    const { a, b } = validatedPair(seen, clock);
    a.merge({ online: [b.self()] }, 'test');
    b.merge({ online: [a.self()] }, 'test');
    // 5,000 changes waiting on both sides
    const churn = { online: Array.from({ length: 5000 }, (_, i) => ({ baseUrl: url(i), monitor: false, lastUpdate: T0 - 1000 + i })) };
    a.merge(churn, 'test');
    b.merge({ online: [], suspect: churn.online.map((e) => ({ ...e, by: b.settings.selfUrl })) }, 'test');
    for (let i = 0; i < 20; i++) await a.pushTick();
    const probes = seen.filter((s) => s.endpoint === 'probe');
    expect(probes.length).toBeGreaterThanOrEqual(20);
    expectReadable(seen);
    // the pushes did carry news, up to the budget
    expect(Math.max(...probes.map((s) => s.bytes))).toBeGreaterThan(BUDGET / 2);
  });

  it('a self-check probe validates too', async () => {
    const { errors } = await validateBody(ProbeMessageDto, { message: 'probe', online: [], offline: [], selfCheck: T0 } satisfies ProbeMessage);
    expect(errors).toEqual([]);
    const sync: SyncMessage = { message: 'sync', state: [{ server: url(1), from: 0, to: T0, floor: T0, generation: T0, entries: [] }] };
    expect((await validateBody(SyncMessageDto, sync)).errors).toEqual([]);
  });
});
